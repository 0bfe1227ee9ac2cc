"""Scoring an item against compiled rules: topics, evidence, severity and facts."""

from __future__ import annotations

import html
import re
from typing import Any

from wirewatch.classify.rules import (
    ENTITY_TOPIC,
    FOLD_UNSAFE,
    LANGS,
    Detector,
    FactPlan,
    FactRule,
    Rule,
    Rules,
    SeverityRule,
    parse_count,
)
from wirewatch.models import TOPICS, Classification, Evidence, severity_rank

_TAG = re.compile(r"<[^>]{0,400}>")
_SPACE = re.compile(r"\s+")
# folded one character at a time: str.translate with a table looks up every character of the text
_FOLD: tuple[tuple[str, str], ...] = (
    ("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " "),
    ("\u2010", "-"), ("\u2011", "-"), ("\u3000", " "), ("\uff0c", "\u3001"),
)  # fmt: skip
_MAX_EVIDENCE_TEXT = 80
_SEPARATOR = "\n.。\n"


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
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = _SPACE.sub(" ", text)
    return text.strip()


def classify_with(rules: Rules, title: str, summary: str = "", lang: str | None = None) -> Classification:
    """Classify one item with the given rules (pure; safe to call from many threads)."""
    title = clean_text(title or "")
    summary = clean_text(summary or "")
    if lang:
        lang = lang.split("-")[0].lower()
    if lang not in LANGS:
        lang = None
    factor = rules.title_factor

    # title and summary are matched as one string; the separator stops patterns running across them
    joined = f"{title}{_SEPARATOR}{summary}" if summary else title
    low = joined.lower()
    title_end = len(title)

    # which regex prefilters hold, found once per item (see literals)
    matcher = rules.matcher(lang)
    satisfied = matcher.clauses.satisfied(low)
    detector = matcher.detector
    entries = detector.entries
    layer_of = detector.layer
    original = detector.original

    # every match of every regex that can match, as (layer, start, entry, end)
    found: list[tuple[int, int, int, int]] = []
    for i in _candidates(detector, satisfied, joined):
        haystack = joined if original[i] else low
        layer = layer_of[i]
        for match in entries[i][0].finditer(haystack):
            found.append((layer, match.start(), i, match.end()))
    found.sort()

    # first match per (rule, field): a rule counts once in the title and once in the summary
    hits: dict[tuple[str, bool], tuple[Rule, str]] = {}
    taken_to = -1
    current = -1
    for layer, start, i, end in found:
        if layer != current:
            current, taken_to = layer, -1
        elif start < taken_to:
            continue  # overlaps an earlier match (or one of a rule tried first) in this topic
        taken_to = end
        rule = entries[i][1]
        key = (rule.id, start < title_end)
        if key not in hits:
            hits[key] = (rule, _span(joined, low, start, end))

    scores = dict.fromkeys(TOPICS, 0.0)
    evidence: list[Evidence] = []
    entity = False
    matched_ids: set[str] = set()
    for (_, in_title), (rule, matched) in hits.items():
        if rule.reject_context is not None and rule.reject_context.search(low):
            evidence.append(Evidence(f"{rule.id}:rejected", rule.topic, _clip(matched), 0.0))
            continue
        if rule.context is not None and not rule.context.search(low):
            continue
        weight = rule.weight * factor if in_title else rule.weight
        evidence.append(Evidence(rule.id, rule.topic, _clip(matched), weight))
        matched_ids.add(rule.id)
        if rule.topic == ENTITY_TOPIC:
            entity = True
        else:
            scores[rule.topic] += weight

    scores = {t: round(s, 2) for t, s in scores.items()}
    topics: tuple[str, ...] = ()
    if entity:
        topics = tuple(t for t in TOPICS if scores[t] >= rules.threshold[t])
    evidence.sort(key=lambda e: (e.topic != ENTITY_TOPIC, e.topic, -abs(e.weight)))

    if not topics:
        reason = (
            "no DPRK entity named"
            if not entity
            else "DPRK named, but no topic reached its threshold ("
            + ", ".join(f"{t} {scores[t]:g}/{rules.threshold[t]:g}" for t in TOPICS)
            + ")"
        )
        return Classification((), scores, "none", reason, tuple(evidence), {})

    facts = _extract_facts(matcher.facts[topics], joined, low, satisfied)
    severity, reason = _severity(rules.severities, matcher.severity_needs, topics, facts, matched_ids, low, satisfied)
    return Classification(topics, scores, severity, reason, tuple(evidence), facts)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_EVIDENCE_TEXT else text[: _MAX_EVIDENCE_TEXT - 1] + "…"


def _candidates(detector: Detector, satisfied: set[int], text: str) -> set[int]:
    """Ids of the detector's regexes whose every clause holds (the others cannot match)."""
    by_clause = detector.by_clause
    candidates = set(detector.always).union(*[by_clause[c] for c in detector.clause_ids.intersection(satisfied)])
    requires = detector.requires
    candidates.difference_update([i for i in detector.checked.intersection(candidates) if not requires[i] <= satisfied])
    for i, clauses in detector.original_needs:
        for texts in clauses:
            for piece in texts:
                if piece in text:
                    break
            else:
                break  # no substring of this clause is in the text
        else:
            candidates.add(i)
    return candidates


def _span(original: str, lowered: str, start: int, end: int) -> str:
    """The matched text as written (lower-casing rarely changes length; then the lowered text)."""
    return original[start:end] if len(original) == len(lowered) else lowered[start:end]


def _extract_facts(plan: tuple[FactPlan, ...], text: str, low: str, satisfied: set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    source_low = text if len(text) == len(low) else low
    # the clauses of case-aware patterns are those of their lower-cased form (see rules._fact_clauses)
    fold_safe = low.isascii() or not any(c in low for c in FOLD_UNSAFE)
    for fact, patterns in plan:
        scalar = fact.type != "list"
        if scalar and fact.key in out:
            continue
        for pattern, original, needed in patterns:
            if not needed <= satisfied and (fold_safe or not original):
                continue  # this pattern cannot match
            for match in pattern.finditer(text if original else low):
                value = _fact_value(fact, match, text if original else source_low)
                if value is None:
                    continue
                if not scalar:
                    bucket = out.setdefault(fact.key, [])
                    if value not in bucket:
                        bucket.append(value)
                    continue
                out[fact.key] = value
                break
            if scalar and fact.key in out:
                break
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
    needs: tuple[frozenset[int], ...],
    topics: tuple[str, ...],
    facts: dict[str, Any],
    matched: set[str],
    text: str,
    satisfied: set[int],
) -> tuple[str, str]:
    best: tuple[str, str] | None = None
    for rule, needed in zip(severities, needs, strict=True):
        if rule.topic not in topics:
            continue
        if best is not None and severity_rank(rule.level) <= severity_rank(best[0]):
            continue
        if rule.rules and not (rule.rules & matched):
            continue
        if any(facts.get(key) not in allowed for key, allowed in rule.facts.items()):
            continue
        if rule.pattern is not None and not (needed <= satisfied and _affirmed(rule.pattern, rule.negation, text)):
            continue
        best = (rule.level, rule.reason.format_map(_Defaulting(facts)))
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
    """format_map helper: a missing fact renders as '?' instead of raising."""

    def __missing__(self, key: str) -> str:
        return "?"
