"""Text similarity across sources and languages (words, concepts, CJK bigrams) and mentioned dates (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from wirewatch.stories.facts import _nfkc
from wirewatch.stories.lexicon import (
    EN_CONCEPTS,
    GENERIC_CONCEPTS,
    GENERIC_JA,
    GENERIC_WORDS,
    JA_CONCEPTS,
    NUMBER_WORDS,
    STOPWORDS,
)

_SMOOTHING = 1.0
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_HIRAGANA_ONLY = re.compile(r"^[\u3040-\u309f]+$")
_WORD = re.compile(r"[a-z0-9]+")
_GENERIC_BIGRAMS = frozenset(word[i : i + 2] for word in GENERIC_JA for i in range(len(word) - 1))

_WEIGHT_CONCEPT = 1.5
_WEIGHT_WORD = 1.0
_WEIGHT_BIGRAM = 0.5
_WEIGHT_GENERIC = 0.1


@dataclass(frozen=True)
class _Profile:
    weights: Mapping[str, float]
    total: float


def _merge_profiles(profiles: Iterable[_Profile]) -> _Profile:
    weights: dict[str, float] = {}
    for profile in profiles:
        weights.update(profile.weights)
    return _Profile(weights, sum(weights.values()))


@lru_cache(maxsize=16384)
def _profile(text: str) -> _Profile:
    """Weighted tokens of one text: words, concepts shared across languages, CJK bigrams."""
    norm = _nfkc(text)
    latin = _CJK_RUN.sub(" ", norm)
    weights: dict[str, float] = {}
    for pattern, concept in EN_CONCEPTS:
        if pattern.search(latin):
            weights["c:" + concept] = _WEIGHT_GENERIC if concept in GENERIC_CONCEPTS else _WEIGHT_CONCEPT
    if _CJK_RUN.search(norm):
        for term, concept in JA_CONCEPTS:
            if term in norm:
                weights["c:" + concept] = _WEIGHT_GENERIC if concept in GENERIC_CONCEPTS else _WEIGHT_CONCEPT
        for run in _CJK_RUN.findall(norm):
            for i in range(len(run) - 1):
                bigram = run[i : i + 2]
                if _HIRAGANA.search(bigram) is None:
                    weights["b:" + bigram] = _WEIGHT_GENERIC if bigram in _GENERIC_BIGRAMS else _WEIGHT_BIGRAM
                elif _HIRAGANA_ONLY.match(bigram) is None:
                    weights["b:" + bigram] = _WEIGHT_GENERIC
    for raw in _WORD.findall(latin):
        # "two" and "2" are one token; "a" stays a stopword, "several" (0) stays a word.
        word = raw if raw in STOPWORDS or not NUMBER_WORDS.get(raw) else str(NUMBER_WORDS[raw])
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        generic = word in GENERIC_WORDS or (len(word) == 4 and word.startswith("20") and word.isdigit())
        weights.setdefault("w:" + word, _WEIGHT_GENERIC if generic else _WEIGHT_WORD)
    return _Profile(weights, sum(weights.values()))


@lru_cache(maxsize=4096)
def _titles_profile(titles: tuple[str, ...]) -> _Profile:
    return _merge_profiles(_profile(title) for title in titles)


def _similarity(a: _Profile, b: _Profile) -> float:
    """Weighted overlap coefficient, damped so that a few shared generic words score low."""
    small, large = (a, b) if len(a.weights) <= len(b.weights) else (b, a)
    shared = sum(weight for token, weight in small.weights.items() if token in large.weights)
    return shared / (min(a.total, b.total) + _SMOOTHING)


_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "月曜": 0,
    "火曜": 1,
    "水曜": 2,
    "木曜": 3,
    "金曜": 4,
    "土曜": 5,
    "日曜": 6,
}
_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_PATTERNS = re.compile(
    r"\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|(?P<jwd>[月火水木金土日]曜)"
    rf"|\b(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})\b"
    rf"|\b(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})"
    r"|(?P<jm>\d{1,2})月(?P<jd>\d{1,2})日"
    r"|(?<![\d月])(?P<jdo>\d{1,2})日(?![間本])"
)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve(match: re.Match[str], ref: date) -> date | None:
    """The most recent date (at most a day after `ref`) that a date mention can mean."""
    groups = match.groupdict()
    weekday = groups["wd"] or groups["jwd"]
    if weekday:
        return ref - timedelta(days=(ref.weekday() - _WEEKDAYS[weekday]) % 7)
    if groups["m1"] or groups["m2"]:
        month = _MONTHS[(groups["m1"] or groups["m2"])[:3]]
        day = int(groups["d1"] or groups["d2"])
        found = _safe_date(ref.year, month, day)
        if found is not None and found > ref + timedelta(days=1):
            found = _safe_date(ref.year - 1, month, day)
        return found
    if groups["jm"]:
        found = _safe_date(ref.year, int(groups["jm"]), int(groups["jd"]))
        if found is not None and found > ref + timedelta(days=1):
            found = _safe_date(ref.year - 1, int(groups["jm"]), int(groups["jd"]))
        return found
    day = int(groups["jdo"])
    found = _safe_date(ref.year, ref.month, day)
    if found is None or found > ref + timedelta(days=1):
        previous = ref.replace(day=1) - timedelta(days=1)
        found = _safe_date(previous.year, previous.month, day)
    return found


@lru_cache(maxsize=8192)
def _mentioned_dates(text: str, ref: date) -> tuple[date, ...]:
    """Dates a text mentions, in text order, resolved against the day it was published."""
    found: list[date] = []
    for match in _DATE_PATTERNS.finditer(_nfkc(text)):
        resolved = _resolve(match, ref)
        if resolved is not None and resolved not in found:
            found.append(resolved)
    return tuple(found)
