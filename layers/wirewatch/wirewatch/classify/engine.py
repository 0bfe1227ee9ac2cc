"""Scoring an item against compiled rules: topics, evidence, severity and facts."""

from __future__ import annotations

import html
import re
from typing import Any

from wirewatch.classify.rules import (
    ENTITY_TOPIC,
    FOLD_UNSAFE,
    LANGS,
    Anchor,
    FactIndex,
    FactRule,
    Rules,
    SeverityRule,
    parse_count,
)
from wirewatch.models import SEVERITIES, TOPICS, Classification, Evidence, severity_rank

_TAG = re.compile(r"<[^>]{0,400}>")
_SPACE = re.compile(r"\s+")
# folded one character at a time: str.translate with a table looks up every character of the text
_FOLD: tuple[tuple[str, str], ...] = (
    ("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " "),
    ("\u2010", "-"), ("\u2011", "-"), ("\u3000", " "), ("\uff0c", "\u3001"),
)  # fmt: skip
_FOLD_UNSAFE = re.compile(f"[{FOLD_UNSAFE}]")
# Japanese wire copy writes Latin letters and digits full width ("ＩＣＢＭ", "ＥＥＺ", "２発"): rules are written
# once, in ASCII, so those become ASCII before matching.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")
_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_MAX_EVIDENCE_TEXT = 80
_SEPARATOR = "\n.。\n"
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
    # evidence quotes the text as written (lower-casing rarely changes length; then the lowered text)
    shown = joined if len(joined) == len(low) else low

    # which regex prefilters hold, found once per item (see literals)
    matcher = rules.matcher(lang)
    # whether the item's own text is non-ASCII (the separator makes every joined text so)
    non_ascii = not (title.isascii() and summary.isascii())
    satisfied = matcher.clauses.satisfied(low, non_ascii)
    detector = matcher.detector
    entries = detector.entries
    steps = detector.steps

    # every match of every regex that can match, as (layer, start, entry, end)
    found: list[tuple[int, int, int, int]] = []
    append = found.append
    starts_of: dict[int, list[int]] = {}  # id of an (interned) anchor -> where its literals occur
    for i in detector.gate.candidates(satisfied):
        regex, layer, anchor, original = steps[i]
        if anchor is None:
            for match in regex.finditer(joined if original else low):
                start, end = match.span()
                append((layer, start, i, end))
            continue
        # the same matches as finditer, tried only where one of the literals it starts with occurs
        match_at = regex.match
        taken_to = -1
        # _starts inlined: it runs for every anchored candidate of every item
        starts = starts_of.get(id(anchor))
        if starts is None:
            starts = starts_of[id(anchor)] = _occurrences(low, anchor, satisfied)
        for start in starts:
            if start >= taken_to:
                found_here = match_at(low, start)
                if found_here is not None:
                    taken_to = found_here.end()
                    append((layer, start, i, taken_to))
    found.sort()

    # the first match of a rule in the title and in the summary counts (once each); a match that
    # overlaps an earlier one of its topic (or one of a rule tried first) does not
    scores = dict.fromkeys(TOPICS, 0.0)
    evidence: list[Evidence] = []
    entity = False
    matched_ids: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    taken_to = -1
    current = -1
    for layer, start, i, end in found:
        if layer != current:
            current = layer
        elif start < taken_to:
            continue
        taken_to = end
        rule = entries[i][1]
        rule_id = rule.id
        in_title = start < title_end
        key = (rule_id, in_title)
        if key in seen:
            continue
        seen.add(key)
        topic = rule.topic
        if rule.reject_context is not None and rule.reject_context.search(low):
            evidence.append(Evidence(f"{rule_id}:rejected", topic, _clip(shown[start:end]), 0.0))
            continue
        if rule.context is not None and not rule.context.search(low):
            continue
        weight = rule.weight * factor if in_title else rule.weight
        text = shown[start:end].strip()  # _clip, inlined: this runs for most matches
        if len(text) > _MAX_EVIDENCE_TEXT:
            text = text[: _MAX_EVIDENCE_TEXT - 1] + "…"
        evidence.append(Evidence(rule_id, topic, text, weight))
        matched_ids.add(rule_id)
        if topic == ENTITY_TOPIC:
            entity = True
        else:
            scores[topic] += weight

    scores = {t: round(s, 2) for t, s in scores.items()}
    topics: tuple[str, ...] = ()
    if entity:
        topics = tuple(t for t in TOPICS if scores[t] >= rules.threshold[t])
    if len(evidence) > 1:
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

    facts = _extract_facts(matcher.facts[topics], joined, low, satisfied, starts_of, non_ascii)
    severity, reason = _severity(rules.severities, matcher.severity_needs, topics, facts, matched_ids, low, satisfied)
    return Classification(topics, scores, severity, reason, tuple(evidence), facts)


def _anchored_matches(
    pattern: re.Pattern[str], low: str, anchor: Anchor, satisfied: set[int], starts_of: dict[int, list[int]]
) -> list[re.Match[str]]:
    """What ``pattern.finditer(low)`` finds, tried only where one of the literals it starts with occurs."""
    out: list[re.Match[str]] = []
    taken_to = -1
    for start in _starts(starts_of, low, anchor, satisfied):
        if start >= taken_to:
            match = pattern.match(low, start)
            if match is not None:
                taken_to = match.end()
                out.append(match)
    return out


def _starts(starts_of: dict[int, list[int]], low: str, anchor: Anchor, satisfied: set[int]) -> list[int]:
    """``_occurrences``, found once per item for each anchor (anchors are interned: see rules)."""
    starts = starts_of.get(id(anchor))
    if starts is None:
        starts = starts_of[id(anchor)] = _occurrences(low, anchor, satisfied)
    return starts


def _occurrences(low: str, anchor: Anchor, satisfied: set[int]) -> list[int]:
    """Sorted positions in ``low`` of the anchor's literals (those whose clause holds)."""
    clause_ids, literals_of = anchor
    found: set[int] = set()
    for clause in clause_ids.intersection(satisfied):
        for literal in literals_of[clause]:
            at = low.find(literal)
            while at >= 0:
                found.add(at)
                at = low.find(literal, at + 1)
    return sorted(found)


def _evidence_order(e: Evidence) -> tuple[bool, str, float]:
    """The DPRK entity first, then topic by topic, the heaviest evidence (either sign) first."""
    return (e.topic != ENTITY_TOPIC, e.topic, -abs(e.weight))


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_EVIDENCE_TEXT else text[: _MAX_EVIDENCE_TEXT - 1] + "…"


def _extract_facts(
    index: FactIndex,
    text: str,
    low: str,
    satisfied: set[int],
    starts_of: dict[int, list[int]],
    non_ascii: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    source_low = text if len(text) == len(low) else low
    candidates = index.gate.candidates(satisfied)
    if non_ascii and _FOLD_UNSAFE.search(low):
        candidates = list(index.case_aware.union(candidates))  # their clauses may not hold in this lower-cased text
    patterns = index.patterns
    anchors = index.anchors
    for i in sorted(candidates):  # file order: for a scalar key the first fact that matches wins
        fact, pattern, original = patterns[i]
        scalar = fact.type != "list"
        if scalar and fact.key in out:
            continue
        anchor = anchors[i]
        matches = (
            pattern.finditer(text if original else low)
            if anchor is None
            else _anchored_matches(pattern, low, anchor, satisfied, starts_of)
        )
        for match in matches:
            value = _fact_value(fact, match, text if original else source_low)
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
    needs: tuple[frozenset[int], ...],
    topics: tuple[str, ...],
    facts: dict[str, Any],
    matched: set[str],
    text: str,
    satisfied: set[int],
) -> tuple[str, str]:
    best: tuple[str, str] | None = None
    best_rank = -1
    for rule, needed in zip(severities, needs, strict=True):
        if rule.topic not in topics:
            continue
        rank = _RANK[rule.level]
        if rank <= best_rank:
            continue
        if rule.rules and not (rule.rules & matched):
            continue
        if rule.facts and not all(facts.get(key) in allowed for key, allowed in rule.facts.items()):
            continue
        if rule.pattern is not None and not (needed <= satisfied and _affirmed(rule.pattern, rule.negation, text)):
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
