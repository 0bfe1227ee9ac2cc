"""The literal prefilter only skips work: with it and without it (plain ``re``) every result is the same."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.paths import REALDATA, realdata_path
from tests.unit.classifier.realdata_items import all_items
from tests.unit.classifier.test_cases import CASES_DIR
from wirewatch.classify import classify_with, default_rules
from wirewatch.classify.literals import required_literals, words_of


def _case_items() -> list[tuple[str, str, str | None]]:
    items = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                items.append((case["title"], case.get("summary", ""), case.get("lang")))
    return items


def test_prefilter_gives_the_plain_result_on_every_case() -> None:
    # Given every case file item, in its own language and in none
    rules = default_rules()
    for title, summary, lang in _case_items():
        for language in {lang, None}:
            # When it is classified with and without the prefilter, Then the results are identical
            fast = classify_with(rules, title, summary, language)
            plain = classify_with(rules, title, summary, language, prefilter=False)
            assert fast == plain, (title, language)


@pytest.mark.realdata
def test_prefilter_gives_the_plain_result_on_every_real_item() -> None:
    # Given every real item in ../shared/realdata (about 20,000)
    realdata_path(".")
    rules = default_rules()
    differing = []
    for item in all_items(REALDATA):
        # When it is classified with and without the prefilter
        fast = classify_with(rules, item.title, item.summary)
        plain = classify_with(rules, item.title, item.summary, prefilter=False)
        if fast != plain:
            differing.append(item.key)
    # Then no result differs
    assert not differing, differing[:20]


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\bnorth[\s-]+korea(?!\w)", "north-korea"),
        (r"(?:missiles?|rockets?)\s+(?:fired|launched)", "rockets launched"),
        (r"kim(?:\s+jong)?\s+un", "kim un"),
        (r"sanction(?:s|ed)?\s+(?:on|against)\s+(?:\w+\s+){0,2}?iran", "sanction on iran"),
        (r"(?:pul)?hwasal(?:[- ]?\d)?", "hwasal-2"),
        (r"test\-fire[sd]?(?!\w)", "test-fired"),
        (r"j-?alert", "jalert"),
        # an alternation factored by its first letters, as rules.py compiles a macro's alternatives
        (r"\b(?:f(?:ired|iring)|l(?:aunched|aunching))\s+missiles", "launching missiles"),
        (r"北(?:朝鮮)?の[^。、]{0,12}?(?:発射|打ち上げ)", "北の衛星打ち上げ"),
    ],
)
def test_required_literals_hold_in_a_match(pattern: str, text: str) -> None:
    # Given a regex and a text it matches
    regex = re.compile(pattern)
    assert regex.search(text)
    # When its clauses are read, Then each holds in the text (as a whole word or a substring)
    clauses = required_literals(regex)
    assert clauses
    for words, texts in clauses:
        assert words & words_of(text) or any(t in text for t in texts), (pattern, words, texts)


@pytest.mark.parametrize("pattern", [r"(?i:north)", r"(ab)\1c", r"(?#note)missile", "(?P<v>a)(?P=v)", "[a-z]{,3}yes"])
def test_constructs_not_read_give_no_clause(pattern: str) -> None:
    # Given a regex with flags, back-references, comments or an open-ended {,n}: it always runs
    assert required_literals(re.compile(pattern)) == ()


def test_case_insensitive_regex_gives_no_clause() -> None:
    assert required_literals(re.compile("missile", re.IGNORECASE)) == ()
