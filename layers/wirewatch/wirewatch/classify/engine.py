"""Scoring an item against compiled rules: topics, evidence, severity and facts."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from wirewatch.classify.literals import Prefilter, words_of
from wirewatch.classify.rules import ENTITY_TOPIC, LANGS, FactRule, Matcher, Pattern, Rules, SeverityRule, parse_count
from wirewatch.models import SEVERITIES, TOPICS, Classification, Evidence, severity_rank

_TAG = re.compile(r"<[^>]{0,400}>")
_SPACE = re.compile(r"\s+")
# folded one character at a time: str.translate with a table looks up every character of the text
_FOLD: tuple[tuple[str, str], ...] = (
    ("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " "),
    ("\u2010", "-"), ("\u2011", "-"), ("\u3000", " "), ("\uff0c", "\u3001"),
)  # fmt: skip
# Japanese wire copy writes Latin letters and digits full width ("ＩＣＢＭ", "ＥＥＺ", "２発"): rules are written
# once, in ASCII, so those become ASCII before matching.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")
_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_MAX_EVIDENCE_TEXT = 80
# Title and summary are matched as one string; the separator stops patterns running across them:
# "." stops "[^.]", and "。" stops "[^。]" and word classes such as "[\w'.-]+\s+". An ASCII item keeps an
# ASCII string, which Python searches much faster: NUL stops the same classes as "。" but "[^。]",
# and no pattern with "[^。]" (Japanese) can match an ASCII text.
_SEPARATOR = "\n.。\n"
_ASCII_SEPARATOR = "\n.\x00\n"
# what may follow a restated title in a summary and still be only the publisher's name
_PUBLISHER_CHARS = 40
_RANK = {level: severity_rank(level) for level in SEVERITIES}  # severity_rank without a list search


def clean_text(text: str) -> str:
    """Markup stripped, entities decoded, quotes folded to ASCII, whitespace collapsed."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        for char, folded in _FOLD:
            if char in text:
                text = text.replace(char, folded)
        if _FULL_WIDTH.search(text):
            text = text.translate(_TO_ASCII)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = _SPACE.sub(" ", text)
    return text.strip()


def _alnum(text: str, limit: int | None = None) -> str:
    """The letters and digits of text, lower-cased; at most `limit` of them."""
    return "".join(islice((char for char in text.lower() if char.isalnum()), limit))


def _restates(title: str, summary: str) -> bool:
    """Whether the summary only repeats the title, perhaps with the publisher's name after it
    ("North Korea fires missile - Reuters" / "North Korea fires missile  Reuters")."""
    head = _alnum(title)
    # one character past what a restatement may hold is enough to say no: a full-text summary is not read
    body = _alnum(summary, len(head) + _PUBLISHER_CHARS + 1)
    return (
        bool(head and body)
        and (head.startswith(body) or body.startswith(head))
        and (len(body) - len(head) <= _PUBLISHER_CHARS)
    )


def classify_with(
    rules: Rules, title: str, summary: str = "", lang: str | None = None, *, prefilter: bool = True
) -> Classification:
    """Classify one item with the given rules (pure; safe to call from many threads).

    ``prefilter=False`` runs every regex on every item: the same result, slower (see literals).
    """
    title = clean_text(title or "")
    summary = clean_text(summary or "")
    if summary and _restates(title, summary):
        summary = ""  # a summary that is the title again (Google News style) is not a second witness
    if lang:
        lang = lang.split("-")[0].lower()
    if lang not in LANGS:
        lang = None
    separator = _ASCII_SEPARATOR if title.isascii() and summary.isascii() else _SEPARATOR
    text = _Text(f"{title}{separator}{summary}" if summary else title, prefilter)
    title_end = len(title)
    matcher = rules.matcher(lang)

    # every match of every scoring regex, as (layer, start, end, regex number)
    found: list[tuple[int, int, int, int]] = []
    for number in text.tried(matcher.scoring_prefilter, len(matcher.scoring)):
        scorer = matcher.scoring[number]
        found += [(scorer.layer, *match.span(), number) for match in text.matches(scorer.pattern)]
    found.sort(key=lambda f: (f[0], f[1], f[3]))

    # the first match of a rule in the title and in the summary counts (once each); a match that
    # overlaps an earlier one of its layer (or one of a regex tried first at the same place) does not
    scores = dict.fromkeys(TOPICS, 0.0)
    evidence: list[Evidence] = []
    entity = False
    matched_ids: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    taken_to = -1
    current = -1
    for layer, start, end, number in found:
        if layer != current:
            current = layer
        elif start < taken_to:
            continue
        taken_to = end
        rule = matcher.scoring[number].rule
        in_title = start < title_end
        if (rule.id, in_title) in seen:
            continue
        seen.add((rule.id, in_title))
        if rule.reject_context is not None and rule.reject_context.search(text.low):
            evidence.append(Evidence(f"{rule.id}:rejected", rule.topic, text.quote(start, end), 0.0))
            continue
        if rule.context is not None and not rule.context.search(text.low):
            continue
        weight = rule.weight * rules.title_factor if in_title else rule.weight
        quoted = text.quote(start, end)
        evidence.append(Evidence(rule.id, rule.topic, f"{quoted} → {rule.infer}" if rule.infer else quoted, weight))
        matched_ids.add(rule.id)
        if rule.topic == ENTITY_TOPIC:
            entity = True
        else:
            scores[rule.topic] += weight

    scores = {t: round(s, 2) for t, s in scores.items()}
    topics: tuple[str, ...] = ()
    if entity:
        topics = tuple(t for t in TOPICS if scores[t] >= rules.threshold[t])
    evidence.sort(key=_evidence_order)

    if not topics:
        reason = (
            "no DPRK entity named"
            if not entity
            else "DPRK named, but no topic reached its threshold ("
            + ", ".join(f"{t} {scores[t]:g}/{rules.threshold[t]:g}" for t in TOPICS)
            + ")"
        )
        return Classification((), scores, "none", reason, tuple(evidence), {})

    facts = _extract_facts(matcher, topics, text)
    severity, reason = _severity(rules.severities, topics, facts, matched_ids, text.low)
    return Classification(topics, scores, severity, reason, tuple(evidence), facts)


class _Text:
    """An item's text as written and lower-cased, and the words of the lower-cased text."""

    __slots__ = ("_prefilter", "low", "original", "shown", "words")

    def __init__(self, original: str, prefilter: bool) -> None:
        self.original = original
        self.low = original.lower()
        # evidence quotes the text as written (lower-casing rarely changes length; then the lowered text)
        self.shown = original if len(original) == len(self.low) else self.low
        self.words = words_of(self.low)
        self._prefilter = prefilter

    def tried(self, prefilter: Prefilter, count: int) -> Iterable[int]:
        """The numbers of the regexes worth running on this text: the prefilter's candidates, or all."""
        return prefilter.candidates(self.low, self.words) if self._prefilter else range(count)

    def matches(self, pattern: Pattern) -> Iterator[re.Match[str]]:
        """Every match of the pattern in the text it runs on."""
        return pattern.regex.finditer(self.original if pattern.original else self.low)

    def quote(self, start: int, end: int) -> str:
        """The matched text for evidence, clipped."""
        return _clip(self.shown[start:end])


def _evidence_order(e: Evidence) -> tuple[bool, str, float]:
    """The DPRK entity first, then topic by topic, the heaviest evidence (either sign) first."""
    return (e.topic != ENTITY_TOPIC, e.topic, -abs(e.weight))


def _clip(text: str) -> str:
    """Evidence text: stripped, and cut to a readable length."""
    text = text.strip()
    return text if len(text) <= _MAX_EVIDENCE_TEXT else text[: _MAX_EVIDENCE_TEXT - 1] + "…"


def _extract_facts(matcher: Matcher, topics: tuple[str, ...], text: _Text) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number in text.tried(matcher.fact_prefilter, len(matcher.facts)):
        fact, pattern = matcher.facts[number]  # in file order: for a scalar key the first match wins
        scalar = fact.type != "list"
        if fact.topic not in topics or (scalar and fact.key in out):
            continue
        source = text.original if pattern.original else text.shown
        for match in text.matches(pattern):
            value = _fact_value(fact, match, source)
            if value is None:
                continue
            if scalar:
                out[fact.key] = value
                break
            bucket = out.setdefault(fact.key, [])
            if value not in bucket:
                bucket.append(value)
    return out


def _fact_value(fact: FactRule, match: re.Match[str], source: str) -> Any:
    groups = {}
    for name in match.re.groupindex:
        start, end = match.span(name)
        groups[name] = source[start:end].strip() if start >= 0 else ""
    if fact.type == "bool":
        return fact.value == "true"
    raw = fact.value.format_map(groups) if fact.value is not None else groups.get("v", "")
    if fact.type == "int":
        number = parse_count(raw)
        if number is None:
            return None
        return round(number * fact.multiply)
    raw = _SPACE.sub(" ", raw).strip(" ,.;:")
    return raw or None


def _severity(
    severities: tuple[SeverityRule, ...],
    topics: tuple[str, ...],
    facts: dict[str, Any],
    matched: set[str],
    text: str,
) -> tuple[str, str]:
    best: tuple[str, str] | None = None
    best_rank = -1
    for rule in severities:
        if rule.topic not in topics:
            continue
        rank = _RANK[rule.level]
        if rank <= best_rank:
            continue
        if rule.rules and not (rule.rules & matched):
            continue
        if rule.facts and not all(facts.get(key) in allowed for key, allowed in rule.facts.items()):
            continue
        if rule.pattern is not None and not _affirmed(rule.pattern, rule.negation, text):
            continue
        best = (rule.level, _reason(rule.reason, facts))
        best_rank = rank
    return best or ("normal", "relevant item with no launch, resolution or designation event")


def _affirmed(pattern: re.Pattern[str], negation: re.Pattern[str] | None, text: str) -> bool:
    """Whether ``pattern`` matches ``text`` somewhere outside the negated phrases ("no J-Alert")."""
    if negation is None:
        return pattern.search(text) is not None
    matches = [match.span() for match in pattern.finditer(text)]
    if not matches:
        return False
    negated = [match.span() for match in negation.finditer(text)]
    return any(not any(n_start <= start and end <= n_end for n_start, n_end in negated) for start, end in matches)


class _Defaulting(dict[str, Any]):
    """format_map helper: a fact the text did not state renders as nothing instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


_EMPTY_PARENS = re.compile(r"\s*\(\s*\)")


def _reason(template: str, facts: dict[str, Any]) -> str:
    """A severity reason with its facts filled in: "ICBM launch (Hwasong-18)", or "ICBM launch" unnamed."""
    return _EMPTY_PARENS.sub("", template.format_map(_Defaulting(facts))).strip()
