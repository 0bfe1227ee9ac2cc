"""Loading, validating and compiling the classifier rules (TOML) into fast matchers."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wirewatch.classify.lexicon import NUMBER_WORDS
from wirewatch.classify.literals import Clause, Prefilter, required_literals
from wirewatch.models import SEVERITIES, TOPICS

ENTITY_TOPIC = "dprk"
RULE_TOPICS: tuple[str, ...] = (ENTITY_TOPIC, *TOPICS)
LANGS: frozenset[str] = frozenset({"en", "ja", "ko"})
FACT_TYPES: frozenset[str] = frozenset({"str", "int", "bool", "list"})

_RULE_KEYS = frozenset(
    {
        "id",
        "topic",
        "weight",
        "terms",
        "patterns",
        "lang",
        "context",
        "reject_context",
        "case_sensitive",
        "infer",
        "note",
    }
)
_FACT_KEYS = frozenset({"id", "topic", "key", "type", "value", "patterns", "lang", "multiply", "note"})
_SEVERITY_KEYS = frozenset({"id", "level", "topic", "reason", "facts", "rules", "patterns", "negations", "note"})
_SETTINGS_KEYS = frozenset({"threshold", "title_factor"})
_TOP_KEYS = frozenset({"settings", "macros", "rule", "fact", "severity"})
_MACRO_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class RulesError(ValueError):
    """The rules file is unreadable or a rule in it is invalid (the message names the rule)."""


@dataclass(frozen=True)
class Pattern:
    """A compiled regex, the text it runs on, and the literals every match of it contains."""

    regex: re.Pattern[str]
    original: bool  # runs on the text as written; otherwise on the lower-cased text
    needs: tuple[Clause, ...]  # it can match only a text where each clause holds (see literals)


@dataclass(frozen=True)
class Rule:
    """A scoring rule: terms or patterns that move one topic's score (or mark the DPRK entity)."""

    id: str
    topic: str
    weight: float
    langs: frozenset[str]
    context: re.Pattern[str] | None  # searched in the lower-cased text
    reject_context: re.Pattern[str] | None
    case_sensitive: bool = False
    infer: str | None = None  # what a match is read as, shown in its evidence ("J-Alert → DPRK launch")


@dataclass(frozen=True)
class FactRule:
    """An extraction rule: the first match of a scalar key wins, list keys collect every match."""

    id: str
    topic: str
    key: str
    type: str
    value: str | None
    multiply: float
    langs: frozenset[str]
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class SeverityRule:
    """A severity level given to an item when all of the rule's conditions hold."""

    id: str
    level: str
    topic: str
    reason: str
    facts: Mapping[str, tuple[Any, ...]]
    rules: frozenset[str]
    pattern: re.Pattern[str] | None
    negation: re.Pattern[str] | None = None  # a pattern match inside one of its matches does not count


@dataclass(frozen=True)
class Scorer:
    """One scoring regex of a rule, in its layer: a topic (its case-sensitive rules in a layer apart).

    Matches are resolved within a layer: a match overlapping an earlier one, or one of a regex
    tried first at the same place, does not count.
    """

    layer: int
    pattern: Pattern
    rule: Rule


@dataclass(frozen=True)
class Matcher:
    """Every regex used for items of one language, in the order they are tried."""

    scoring: tuple[Scorer, ...]  # topic by topic, negative rules first within a layer, file order
    facts: tuple[tuple[FactRule, Pattern], ...]  # file order: for a scalar key the first match wins
    scoring_prefilter: Prefilter
    fact_prefilter: Prefilter


@dataclass(frozen=True)
class Rules:
    """A validated, compiled rule set; immutable and safe to share between threads."""

    source: str
    threshold: Mapping[str, float]
    title_factor: float
    rules: tuple[Rule, ...]
    facts: tuple[FactRule, ...]
    severities: tuple[SeverityRule, ...]
    _matchers: dict[str | None, Matcher] = field(default_factory=dict, repr=False, compare=False)
    _patterns: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict, repr=False, compare=False)

    def matcher(self, lang: str | None) -> Matcher:
        """The regexes for the rules that apply to ``lang`` (None: every language)."""
        key = lang if lang in LANGS else None
        cached = self._matchers.get(key)
        if cached is None:
            cached = _build_matcher(self.rules, self.facts, self._patterns, key)
            self._matchers[key] = cached  # benign race: both threads build the same value
        return cached


def parse_count(text: str) -> int | None:
    """An integer from digits ("1,000") or an English number word ("two"); None when unknown."""
    cleaned = text.strip().lower().replace(",", "")
    if cleaned.isdigit():
        return int(cleaned)
    value = NUMBER_WORDS.get(cleaned)
    return value or None


def load_rules(path: str | Path) -> Rules:
    """Read, validate and compile a rules TOML file; raises RulesError naming the bad rule."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read rules file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file {path} is not valid TOML: {exc}") from exc
    return compile_rules(data, source=str(path))


def compile_rules(data: Mapping[str, Any], source: str = "<memory>") -> Rules:
    """Validate and compile an already-parsed rules document."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RulesError(f"{source}: unknown top-level table(s): {', '.join(sorted(unknown))}")
    settings = _table(data.get("settings", {}), "settings")
    _check_keys(settings, _SETTINGS_KEYS, "settings")
    threshold = _thresholds(settings.get("threshold", 3.0))
    title_factor = _number(settings.get("title_factor", 2.0), "settings", "title_factor")
    macros = _macros(_table(data.get("macros", {}), "macros"))

    seen: set[str] = set()
    rules: list[Rule] = []
    patterns: dict[str, tuple[Pattern, ...]] = {}
    for entry in _array(data.get("rule", []), "rule"):
        rule, rule_patterns = _rule(entry, macros, seen)
        rules.append(rule)
        patterns[rule.id] = rule_patterns
    if not rules:
        raise RulesError(f"{source}: no [[rule]] entries")
    facts = tuple(_fact(entry, macros, seen) for entry in _array(data.get("fact", []), "fact"))
    rule_ids = {rule.id for rule in rules}
    severities = tuple(
        _severity(entry, macros, seen, rule_ids) for entry in _array(data.get("severity", []), "severity")
    )
    compiled = Rules(
        source=source,
        threshold=threshold,
        title_factor=title_factor,
        rules=tuple(rules),
        facts=facts,
        severities=severities,
        _patterns=patterns,
    )
    compiled.matcher(None)
    return compiled


_CJK_LANGS = frozenset({"ja", "ko"})


def _rule(entry: Any, macros: Mapping[str, str], seen: set[str]) -> tuple[Rule, tuple[Pattern, ...]]:
    rid = _rule_id(entry, "rule", seen)
    _check_keys(entry, _RULE_KEYS, rid)
    topic = entry.get("topic")
    if topic not in RULE_TOPICS:
        raise RulesError(f"rule {rid}: topic must be one of {', '.join(RULE_TOPICS)}, got {topic!r}")
    weight = _number(entry.get("weight"), rid, "weight")
    if weight == 0:
        raise RulesError(f"rule {rid}: weight must not be 0")
    case_sensitive = entry.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise RulesError(f"rule {rid}: case_sensitive must be true or false")
    terms = _strings(entry.get("terms", []), rid, "terms")
    patterns = [_expand(p, macros, rid) for p in _strings(entry.get("patterns", []), rid, "patterns")]
    if not terms and not patterns:
        raise RulesError(f"rule {rid}: needs at least one of terms or patterns")
    langs = _langs(entry.get("lang"), rid)
    infer = entry.get("infer")
    if infer is not None and (not isinstance(infer, str) or not infer.strip()):
        raise RulesError(f"rule {rid}: infer must be a non-empty string")
    # In Japanese and Korean text a Latin term ("ICBM", "EEZ") sits right against kana or hangul, which
    # are word characters too: word boundaries would never hold there.
    bounded = not langs <= _CJK_LANGS
    sources = [_term_regex(t, bounded) for t in terms] + patterns
    if not case_sensitive:
        sources = [lower_regex(src) for src in sources]
    compiled = tuple(_pattern(src, rid, case_sensitive) for src in sources)
    rule = Rule(
        id=rid,
        topic=topic,
        weight=weight,
        langs=langs,
        context=_optional_regex(entry.get("context"), macros, rid, "context"),
        reject_context=_optional_regex(entry.get("reject_context"), macros, rid, "reject_context"),
        case_sensitive=case_sensitive,
        infer=infer.strip() if infer else None,
    )
    return rule, compiled


def _fact(entry: Any, macros: Mapping[str, str], seen: set[str]) -> FactRule:
    rid = _rule_id(entry, "fact", seen)
    _check_keys(entry, _FACT_KEYS, rid)
    topic = entry.get("topic")
    if topic not in TOPICS:
        raise RulesError(f"fact {rid}: topic must be one of {', '.join(TOPICS)}, got {topic!r}")
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise RulesError(f"fact {rid}: key must be a non-empty string")
    ftype = entry.get("type", "str")
    if ftype not in FACT_TYPES:
        raise RulesError(f"fact {rid}: type must be one of {', '.join(sorted(FACT_TYPES))}, got {ftype!r}")
    value = entry.get("value")
    if value is not None and not isinstance(value, str | bool):
        raise RulesError(f"fact {rid}: value must be a string or boolean")
    patterns = [_expand(p, macros, rid) for p in _strings(entry.get("patterns", []), rid, "patterns")]
    if not patterns:
        raise RulesError(f"fact {rid}: needs patterns")
    regexes = tuple(_case_aware(p, rid) for p in patterns)
    if value is None and any("v" not in pattern.regex.groupindex for pattern in regexes):
        raise RulesError(f"fact {rid}: without a value, every pattern must capture the value as (?P<v>...)")
    if ftype == "bool" and not isinstance(value, bool):
        raise RulesError(f"fact {rid}: a bool fact needs value = true or false")
    text_value = None if value is None else str(value).lower() if isinstance(value, bool) else value
    return FactRule(
        id=rid,
        topic=topic,
        key=key,
        type=ftype,
        value=text_value,
        multiply=_number(entry.get("multiply", 1.0), rid, "multiply"),
        langs=_langs(entry.get("lang"), rid),
        patterns=regexes,
    )


def _severity(entry: Any, macros: Mapping[str, str], seen: set[str], rule_ids: set[str]) -> SeverityRule:
    rid = _rule_id(entry, "severity", seen)
    _check_keys(entry, _SEVERITY_KEYS, rid)
    level = entry.get("level")
    if level not in SEVERITIES or level == "none":
        raise RulesError(f"severity {rid}: level must be one of urgent, high, normal, got {level!r}")
    topic = entry.get("topic")
    if topic not in TOPICS:
        raise RulesError(f"severity {rid}: topic must be one of {', '.join(TOPICS)}, got {topic!r}")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise RulesError(f"severity {rid}: reason must be a non-empty string")
    facts_table = _table(entry.get("facts", {}), f"severity {rid} facts")
    facts: dict[str, tuple[Any, ...]] = {}
    for key, expected in facts_table.items():
        facts[key] = tuple(expected) if isinstance(expected, list) else (expected,)
    needed = frozenset(_strings(entry.get("rules", []), rid, "rules"))
    missing = needed - rule_ids
    if missing:
        raise RulesError(f"severity {rid}: refers to unknown rule id(s) {', '.join(sorted(missing))}")
    patterns = [_expand(p, macros, rid) for p in _strings(entry.get("patterns", []), rid, "patterns")]
    pattern = _alternation(patterns, rid)
    negations = [_expand(p, macros, rid) for p in _strings(entry.get("negations", []), rid, "negations")]
    if negations and pattern is None:
        raise RulesError(f"severity {rid}: negations need patterns to negate")
    return SeverityRule(rid, level, topic, reason.strip(), facts, needed, pattern, _alternation(negations, rid))


def _alternation(patterns: Sequence[str], rid: str) -> re.Pattern[str] | None:
    """One lower-case regex matching any of ``patterns`` (None when there are none)."""
    if not patterns:
        return None
    return _compile("|".join(f"(?:{lower_regex(p)})" for p in patterns), rid, flags=0)


def _build_matcher(
    rules: Sequence[Rule],
    facts: Sequence[FactRule],
    patterns: Mapping[str, tuple[Pattern, ...]],
    lang: str | None,
) -> Matcher:
    scoring: list[Scorer] = []
    layer = 0
    for topic in RULE_TOPICS:
        for case_sensitive in (False, True):
            chosen = [
                r
                for r in rules
                if r.topic == topic and r.case_sensitive == case_sensitive and (lang is None or lang in r.langs)
            ]
            chosen.sort(key=lambda r: r.weight >= 0)  # stable: keeps file order within each sign
            if chosen:
                scoring += [Scorer(layer, pattern, rule) for rule in chosen for pattern in patterns[rule.id]]
                layer += 1
    chosen_facts = tuple(
        (fact, pattern) for fact in facts if lang is None or lang in fact.langs for pattern in fact.patterns
    )
    return Matcher(
        scoring=tuple(scoring),
        facts=chosen_facts,
        scoring_prefilter=Prefilter([s.pattern.needs for s in scoring]),
        fact_prefilter=Prefilter([pattern.needs for _, pattern in chosen_facts]),
    )


def _pattern(source: str, rid: str, original: bool) -> Pattern:
    """A scoring regex, compiled as written (case-sensitive) or for lower-cased text, and what it needs."""
    _compile(source, rid, flags=0)
    return Pattern(re.compile(_literal_first(source)), original, _needs(source, original))


def _needs(source: str, original: bool) -> tuple[Clause, ...]:
    """What the matches of a regex without IGNORECASE contain, in the lower-cased text.

    A case-sensitive regex runs on the text as written; lower-cased, each of its matches is a match
    of the regex lower-cased, in the lower-cased text. That holds for ASCII literals only (a few
    other characters change length or neighbours when lower-cased), so only those are kept.
    """
    if not original:
        return required_literals(re.compile(source))
    clauses = required_literals(re.compile(lower_regex(source)))
    return tuple(c for c in clauses if all(literal.isascii() for literal in c[0] | c[1]))


_LEADING_WORD = re.compile(r"\\b((?:[A-Za-z0-9]|\\[.'\- ]|[ '-])+)")
_QUANTIFIERS = frozenset("?*+{")


def _literal_first(source: str) -> str:
    """The same regex with a leading ``\bword`` written as ``word(?<!\\wword)``.

    Python's ``re`` finds a literal prefix fast, but a pattern that starts with ``\b`` has none, so it
    is tried at every position. Before a word character, ``\b`` means "no word character before", so
    checking that by a lookbehind just after the literal matches exactly the same text.
    """
    found = _LEADING_WORD.match(source)
    if found is None:
        return source
    atoms = re.findall(r"\\.|.", found.group(1))
    rest = source[found.end() :]
    if rest[:1] in _QUANTIFIERS:
        atoms.pop()  # the quantifier applies to the last character: keep it out of the literal
    literal = "".join(atoms)
    if not literal or not literal[0].isalnum():
        return source
    return f"{literal}(?<!\\w{literal}){source[2 + len(literal) :]}"


def lower_regex(source: str) -> str:
    """A regex lower-cased for matching lower-cased text (escapes such as \\S and \\W are kept)."""
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            out.append(source[i : i + 2])
            i += 2
            continue
        if source.startswith("(?P<", i):
            end = source.index(">", i)
            out.append(source[i : end + 1])
            i = end + 1
            continue
        out.append(char.lower())
        i += 1
    return "".join(out)


def _case_aware(source: str, rid: str) -> Pattern:
    """Fact patterns that need case ((?-i:...)) run without case on the original text (and are never
    skipped: literals does not read case-insensitive regexes); the rest on the lower-cased text."""
    if "(?-i:" in source:
        return Pattern(_compile(source, rid), True, ())
    lowered = lower_regex(source)
    return Pattern(_compile(lowered, rid, flags=0), False, _needs(lowered, False))


def _term_regex(term: str, bounded: bool = True) -> str:
    escaped = re.escape(term.strip())
    escaped = re.sub(r"(?:\\ )+", r"[\\s-]+", escaped)
    if not bounded:
        return escaped
    head = r"\b" if term[:1].isascii() and term[:1].isalnum() else ""
    tail = r"(?!\w)" if term[-1:].isascii() and (term[-1:].isalnum() or term[-1:] == ".") else ""
    return f"{head}{escaped}{tail}"


def _expand(pattern: str, macros: Mapping[str, str], rid: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise RulesError(f"rule {rid}: unknown macro {{{name}}} in pattern {pattern!r}")
        return f"(?:{macros[name]})"

    return _MACRO_REF.sub(sub, pattern)


def _macros(table: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        if not isinstance(value, str):
            raise RulesError(f"macro {name}: must be a string regex")
        expanded = _expand(value, out, f"macro {name}")
        _compile(expanded, f"macro {name}")
        out[name] = by_first_char(expanded)
    return out


_QUANTIFIER_START = frozenset("?*+{")


def by_first_char(source: str) -> str:
    """An alternation regrouped by first character: "iran|india|russia" -> "i(?:ran|ndia)|russia".

    ``re`` tries every alternative at every position of the text, so a long list of names is slow;
    grouped, it tries one per first character. The regex matches exactly as before: alternatives
    that begin with different literal characters never match at the same position, and within a
    group the order is kept. Unchanged unless every alternative begins with a letter or digit.
    """
    alternatives = _top_level_alternatives(source)
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        first = alternative[:1]
        if not (first.isascii() and first.isalnum()) or alternative[1:2] in _QUANTIFIER_START:
            return source
        groups.setdefault(first, []).append(alternative[1:])
    if len(groups) == len(alternatives) or any(len({k, k.swapcase()} & groups.keys()) > 1 for k in groups):
        return source  # nothing to group, or groups that differ only by case (may meet under IGNORECASE)
    return "|".join(
        f"{first}(?:{'|'.join(rests)})" if len(rests) > 1 else first + rests[0] for first, rests in groups.items()
    )


def _top_level_alternatives(source: str) -> list[str]:
    """``source`` split at the ``|`` that are outside groups and character classes."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source[i + 1 : i + 2] == "]":
                i += 1  # a literal ] first in the class
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def _thresholds(value: Any) -> dict[str, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dict.fromkeys(TOPICS, float(value))
    table = _table(value, "settings.threshold")
    out: dict[str, float] = {}
    for topic in TOPICS:
        out[topic] = _number(table.get(topic, 3.0), "settings", f"threshold.{topic}")
    return out


def _rule_id(entry: Any, kind: str, seen: set[str]) -> str:
    if not isinstance(entry, dict):
        raise RulesError(f"every [[{kind}]] entry must be a table")
    rid = entry.get("id")
    if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", rid):
        raise RulesError(f"[[{kind}]] entry with id {rid!r}: id must be a non-empty word like 'missile.noun'")
    if rid in seen:
        raise RulesError(f"{kind} {rid}: duplicate id")
    seen.add(rid)
    return rid


def _check_keys(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{where} must be a table")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise RulesError(f"[[{where}]] must be an array of tables")
    return value


def _number(value: Any, rid: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"rule {rid}: {key} must be a number, got {value!r}")
    return float(value)


def _strings(value: Any, rid: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"rule {rid}: {key} must be a list of non-empty strings")
    return list(value)


def _langs(value: Any, rid: str) -> frozenset[str]:
    if value is None:
        return LANGS
    langs = _strings(value, rid, "lang")
    bad = set(langs) - LANGS
    if bad:
        raise RulesError(f"rule {rid}: unknown lang(s) {', '.join(sorted(bad))} (use en, ja, ko)")
    return frozenset(langs)


def _optional_regex(value: Any, macros: Mapping[str, str], rid: str, key: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RulesError(f"rule {rid}: {key} must be a regex string")
    return _compile(lower_regex(_expand(value, macros, rid)), rid, flags=0)


def _compile(source: str, rid: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise RulesError(f"rule {rid}: invalid regex {source!r}: {exc}") from exc
