"""Cross-source clustering of classified items into stories (pure: no I/O, `now` is an argument).

An item joins an existing story when all the gates pass and the evidence is strong enough:

- gates: same topic family (a story's family is ``story.topics[0]``), published within the window of
  one of the story's sources, no contradicting stated fact and, for missile stories, no conflicting
  event day and no headline announcing a further launch ("fires another missile") that the story
  lacks;
- evidence: text similarity (words, cross-language concept terms and CJK character bigrams) and the
  number of stated facts the two agree on. Different-language versions of one event share little
  text, so on the same event day one agreeing fact (or a few shared concepts) is enough.

Early wire reports of one launch are revised within hours ("toward the Sea of Japan", then "inside
Japan's EEZ"; "ballistic missile", then "ICBM"; one missile, then two), so only clear contradictions
keep items apart: different explicit classes (SRBM vs ICBM, ballistic vs cruise), different missile
names or launch sites, opposite coasts (Yellow Sea vs Sea of Japan), different counts reported hours
apart, different resolutions or sanctioning bodies. A single DPRK launch day usually has one event:
two reports of a DPRK launch on the same day (Korea/Japan time), within 12 h of the story's first
report and with no such contradiction, are one launch however differently they are worded.

Stories record their launch day as ``facts["event_date"]`` (ISO date, Korea/Japan time).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from wirewatch.models import TOPICS, Evidence, Item, Story, StorySource, severity_rank

DEFAULT_WINDOW = timedelta(hours=72)
# Launches are reported in Korea/Japan time: both UTC+9, no daylight saving.
EVENT_TZ = timezone(timedelta(hours=9), "KST")
MAX_EVIDENCE = 12
EVENT_DATE = "event_date"

MISSILE_FACTS = frozenset(
    {
        "missile_class",
        "missile_name",
        "count",
        "launch_site",
        "distance_km",
        "apogee_km",
        "flight_time_min",
        "over_japan",
        "landed",
    }
)
SANCTIONS_FACTS = frozenset({"body", "action", "resolution", "measures", "targets"})
# Facts only a report of a fresh launch states; such a report carries its own event day.
LAUNCH_REPORT_FACTS = frozenset({"distance_km", "apogee_km", "flight_time_min", "landed", "over_japan"})
# Facts that show an item or story is about a launch (a missile class alone may describe hardware).
_LAUNCH_EVIDENCE_FACTS = LAUNCH_REPORT_FACTS | {"count"}
_LIST_FACTS = frozenset({"measures", "targets"})

_SUMMARY_CHARS = 800
_SMOOTHING = 1.0
_TEXT_JOIN = 0.5
_TEXT_WITH_FACT = 0.3
_TEXT_BILINGUAL = 0.2
_CROSS_LANGUAGE_GAP = timedelta(hours=24)
# Reports of one launch day arrive within hours of the first flash; a later launch report on the same
# day is more likely a second launch.
_SAME_LAUNCH_SPAN = timedelta(hours=12)
# Counts are revised quickly ("a missile" -> "two missiles"); a different count hours later is
# another salvo.
_COUNT_REVISION_GAP = timedelta(hours=3)
_REPORT_DELAY = timedelta(hours=6)
# A day mentioned longer before publication is background ("its first launch since May 8"), not the
# day of the event the report is about.
_EVENT_DAY_HORIZON = timedelta(days=3)
# A headline announcing a launch (not launchers, launch pads or a launch site).
_LAUNCH_HEADLINE = re.compile(
    r"\b(?:test-)?(?:fires?|fired|launch(?:es|ed)?)\b(?!\s+(?:vehicle|pad|site|system|platform)s?\b)"
    r"|\b(?:missile|weapons?) tests?\b|発射(?![台機場])"
)
# A sentence reporting a missile launch (not launchers, a launch pad, or a data system "launched"
# years ago): "fired a ballistic missile", "the missile launched by", "launch of an ICBM".
_LAUNCH_VERB = (
    r"(?:(?:test-)?(?:fires?|fired)|launch(?:es|ed)?)\b(?!\s+(?:vehicle|pad|site|system|platform|facilit(?:y|ie))s?\b)"
)
_MISSILE_NOUN = r"(?:missiles?|projectiles?|icbms?|srbms?|rockets?)\b"
_LAUNCH_EVENT = re.compile(
    rf"\b{_MISSILE_NOUN}\s+{_LAUNCH_VERB}"
    rf"|\b{_LAUNCH_VERB}\s+(?:of\s+)?(?:[\w-]+\s+){{0,4}}?{_MISSILE_NOUN}"
    r"|(?:ミサイル|飛翔体)[^。]{0,12}発射(?![台機場])|発射(?![台機場])[^。]{0,6}(?:ミサイル|飛翔体)"
)
# A headline announcing a further launch: another salvo, not a new report of the same one.
_REPEAT_LAUNCH = re.compile(
    r"\b(?:another|second|third|fresh|additional|more(?!\s+than\b))\s+(?:[\w-]+\s+){0,3}?"
    r"(?:missiles?|projectiles?|rockets?|launch(?:es)?|rounds?|salvos?)\b"
    r"|\bagain\s+(?:fires?|fired|launch(?:es|ed))\b|\b(?:fires?|fired|launch(?:es|ed))\b[^,:;]*\bagain\b"
    r"|再び|再度|追加(?:で|の)?(?:発射|弾道|ミサイル)|[2２二](?:発目|回目|度目)"
)


# ---------------------------------------------------------------------------------------------- facts


def flatten_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts as one flat mapping, whether the classifier nested them by topic or not."""
    flat: dict[str, Any] = {}
    for key, value in facts.items():
        if key in TOPICS and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat.setdefault(str(inner), inner_value)
        else:
            flat[key] = value
    return {k: v for k, v in flat.items() if v is not None and v != "" and v != [] and v != ()}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TRANSLITERATIONS = (
    ("火星", "hwasong"),
    ("ファソン", "hwasong"),
    ("hwaseong", "hwasong"),
    ("北極星", "pukguksong"),
    ("プッククソン", "pukguksong"),
    ("ポッククソン", "pukguksong"),
    ("bukgeukseong", "pukguksong"),
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CLASS_PATTERNS = (
    ("icbm", ("icbm", "intercontinental", "大陸間")),
    ("irbm", ("irbm", "intermediate", "中距離")),
    ("srbm", ("srbm", "shortrange", "short range", "短距離")),
    ("slbm", ("slbm", "submarine", "潜水艦")),
    ("cruise", ("cruise", "巡航")),
    ("hypersonic", ("hypersonic", "極超音速")),
    ("satellite", ("satellite", "spacelaunch", "space launch", "衛星")),
)
_GENERIC_CLASSES = frozenset({"", "missile", "unknown", "unidentified"})
_BALLISTIC = frozenset({"ballistic", "ballisticmissile", "弾道", "弾道ミサイル"})
# (kind, range) of each class: classes contradict when their kinds differ or both ranges are known and
# differ. Hypersonic and submarine-launched describe a ballistic missile of any range.
_CLASS_PROFILES: dict[str, tuple[str, str | None]] = {
    "ballistic": ("ballistic", None),
    "icbm": ("ballistic", "long"),
    "irbm": ("ballistic", "intermediate"),
    "srbm": ("ballistic", "short"),
    "slbm": ("ballistic", None),
    "hypersonic": ("ballistic", None),
    "cruise": ("cruise", None),
    "satellite": ("space", None),
}


def _norm_class(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = _nfkc(value).replace("-", "")
    for canonical, needles in _CLASS_PATTERNS:
        if any(needle in text for needle in needles):
            return canonical
    plain = _NON_ALNUM.sub("", text) or text.strip()
    if plain in _BALLISTIC:
        return "ballistic"
    return None if plain in _GENERIC_CLASSES else plain or None


def _classes_conflict(a: str, b: str) -> bool:
    """Whether two stated classes cannot describe one missile; a vague class ("long-range") never does."""
    profile_a, profile_b = _CLASS_PROFILES.get(a), _CLASS_PROFILES.get(b)
    if a == b or profile_a is None or profile_b is None:
        return False
    (kind_a, range_a), (kind_b, range_b) = profile_a, profile_b
    return kind_a != kind_b or (range_a is not None and range_b is not None and range_a != range_b)


# Where a missile came down, by coast: estimates on one side (Sea of Japan, inside or outside the EEZ,
# Pacific) are revisions of each other, but the Yellow Sea is the other side of the peninsula.
_WEST_WATERS = ("yellow", "westsea", "黄海", "서해")
_EAST_WATERS = ("eez", "seaofjapan", "eastsea", "japansea", "pacific", "日本海", "排他的経済水域", "太平洋", "동해")


def _coast(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = _NON_ALNUM.sub("", _nfkc(value)) or _nfkc(value)
    if any(needle in text for needle in _WEST_WATERS):
        return "west"
    if any(needle in text for needle in _EAST_WATERS):
        return "east"
    return None


def _sites_conflict(a: str, b: str) -> bool:
    """Two named launch sites differ; names in different scripts are not compared (no gazetteer)."""
    if a.isascii() != b.isascii():
        return False
    return a not in b and b not in a


def _norm_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = _nfkc(value)
    for foreign, latin in _TRANSLITERATIONS:
        text = text.replace(foreign, latin)
    return _NON_ALNUM.sub("", text) or None


def _norm_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _norm_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        return None
    return number if number > 0 else None


def _norm_resolution(value: Any) -> str | None:
    digits = re.sub(r"\D", "", _nfkc(str(value))) if value is not None else ""
    return digits or None


_BODY_ALIASES = (
    ("unsc", ("securitycouncil", "unsc", "安保理", "安全保障理事会")),
    ("un", ("unitednations", "国連")),
    ("eu", ("europeanunion", "欧州連合")),
    ("ustreasury", ("treasury", "ofac", "財務省")),
)


def _norm_body(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = _NON_ALNUM.sub("", _nfkc(value)) or _nfkc(value).strip()
    for canonical, needles in _BODY_ALIASES:
        if any(needle in text for needle in needles):
            return canonical
    return text or None


def _bodies_compatible(a: str, b: str) -> bool:
    if a == b or {a, b} == {"un", "unsc"}:
        return True
    return a in b or b in a


def _norm_set(value: Any) -> frozenset[str]:
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    return frozenset(n for v in values if isinstance(v, str) and (n := _NON_ALNUM.sub("", _nfkc(v))))


def _compare_facts(a: Mapping[str, Any], b: Mapping[str, Any], *, counts_may_differ: bool = False) -> int | None:
    """Number of stated facts both agree on, or None when a stated fact clearly contradicts.

    Estimates that wire reports revise (where the missile fell, how far it flew) never contradict;
    `counts_may_differ` says the reports are close enough in time for a count to have been revised.
    """
    agree = 0
    class_a, class_b = _norm_class(a.get("missile_class")), _norm_class(b.get("missile_class"))
    if class_a is not None and class_b is not None:
        if _classes_conflict(class_a, class_b):
            return None
        agree += 1 if class_a == class_b else 0
    count_a, count_b = _norm_int(a.get("count")), _norm_int(b.get("count"))
    if count_a is not None and count_b is not None:
        if count_a != count_b and not counts_may_differ:
            return None
        agree += 1 if count_a == count_b else 0
    pairs: tuple[tuple[str, Any], ...] = (
        ("missile_name", _norm_name),
        ("resolution", _norm_resolution),
    )
    for key, norm in pairs:
        x, y = norm(a.get(key)), norm(b.get(key))
        if x is None or y is None:
            continue
        if x != y:
            return None
        agree += 1
    body_a, body_b = _norm_body(a.get("body")), _norm_body(b.get("body"))
    if body_a and body_b:
        if not _bodies_compatible(body_a, body_b):
            return None
        agree += 1
    for key in ("distance_km", "apogee_km"):
        x_num, y_num = _norm_number(a.get(key)), _norm_number(b.get(key))
        # Early estimates differ (Tokyo vs Seoul, lofted trajectories) and get revised: close ones
        # agree, far ones say nothing.
        if x_num is not None and y_num is not None and max(x_num, y_num) <= 2 * min(x_num, y_num):
            agree += 1
    site_a, site_b = _norm_name(a.get("launch_site")), _norm_name(b.get("launch_site"))
    if site_a and site_b:
        if _sites_conflict(site_a, site_b):
            return None
        agree += 1
    coast_a, coast_b = _coast(a.get("landed")), _coast(b.get("landed"))
    if coast_a and coast_b and coast_a != coast_b:
        return None
    landed_a, landed_b = _norm_name(a.get("landed")), _norm_name(b.get("landed"))
    if landed_a and landed_a == landed_b:
        agree += 1
    for key in _LIST_FACTS:
        if _norm_set(a.get(key)) & _norm_set(b.get(key)):
            agree += 1
    return agree


def _merge_facts(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Facts of a story after a newer report joins it.

    Wire reports revise their first estimates (where the missile fell, its class, the flight time),
    so the newer report's stated value wins; lists are unioned; `over_japan` once true stays true;
    the story's event date is its own.
    """
    merged = dict(base)
    for key, value in extra.items():
        if key in _LIST_FACTS and key in merged:
            current = merged[key] if isinstance(merged[key], list | tuple) else [merged[key]]
            additions = value if isinstance(value, list | tuple) else [value]
            merged[key] = list(dict.fromkeys([*current, *additions]))
        elif (key == EVENT_DATE and key in merged) or (key == "over_japan" and merged.get(key) is True):
            continue  # the story keeps its own event date; "over Japan" once reported stays
        else:
            merged[key] = list(value) if isinstance(value, list | tuple) else value
    return merged


# ----------------------------------------------------------------------------------------------- text

_STOPWORDS = frozenset(
    word
    for line in (
        "a an the of to in on at for by with from and or but is are was were be been being has have had",
        "it its as that this these those after before over into than about said says say will would could",
        "may might not no new more also their they he she his her we our you who which what when where",
        "while amid there here s t u",
    )
    for word in line.split()
)
# Words found in nearly every story the service sees: they say little about which event it is.
_GENERIC_WORDS = frozenset(
    word
    for line in (
        "north korea korean koreas dprk pyongyang kim jong un leader kcna state media nuclear oversee",
        "missile fire fires fired firing launch launche launched launching ballistic test tested testing",
        "japan japanese south seoul tokyo official military government sea reuters kyodo news report",
        "reported week day today monday tuesday wednesday thursday friday saturday sunday",
    )
    for word in line.split()
)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_EN_CONCEPTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), concept)
    for pattern, concept in (
        (r"\bnorth korea|\bn\. ?korea|\bdprk\b|\bpyongyang\b", "dprk"),
        (r"\bexclusive economic zone|\beez\b", "eez"),
        (r"\bsea of japan\b|\beast sea\b", "seajapan"),
        (r"\bsecurity council\b|\bunsc\b", "unsc"),
        (r"\bintercontinental\b|\bicbm", "icbm"),
        (r"\bintermediate[- ]range\b|\birbm", "irbm"),
        (r"\bshort[- ]range\b|\bsrbm", "srbm"),
        (r"\bsubmarine[- ]launched\b|\bslbm", "slbm"),
        (r"\bcruise missile", "cruise"),
        (r"\bhypersonic\b", "hypersonic"),
        (r"\bsolid[- ]fuel", "solidfuel"),
        (r"\bballistic\b", "ballistic"),
        (r"\bhwa?se?ong\b", "hwasong"),
        (r"\bpukguksong\b", "pukguksong"),
        (r"\bhokkaido\b", "hokkaido"),
        (r"\baomori\b", "aomori"),
        (r"\bokinawa\b", "okinawa"),
        (r"\bpacific\b", "pacific"),
        (r"\bsatellite\b|\bspace launch", "satellite"),
        (r"\bsanction", "sanctions"),
        (r"\bresolution", "resolution"),
        (r"\bveto", "veto"),
        (r"\basset freeze|\bfreez", "assetfreeze"),
        (r"\bship-to-ship\b", "shiptoship"),
        (r"\btreasury\b", "treasury"),
        (r"\bdesignat", "designate"),
        (r"\blaunch|\bfires?\b|\bfired\b", "launch"),
        (r"\bmissile", "missile"),
        (r"\bjapan", "japan"),
        (r"\bsouth korea|\bseoul\b", "rok"),
        (r"\bchina\b|\bchinese\b|\bbeijing\b", "china"),
        (r"\brussia", "russia"),
        (r"\bprotest", "protest"),
        (r"\bland(?:ed|s)\b|\bfell\b|\bsplash", "landed"),
        (r"\bover japan\b|\boverflew\b|\bflew over\b", "overflight"),
    )
)
_JA_CONCEPTS: tuple[tuple[str, str], ...] = (
    ("北朝鮮", "dprk"),
    ("朝鮮民主主義人民共和国", "dprk"),
    ("排他的経済水域", "eez"),
    ("日本海", "seajapan"),
    ("安保理", "unsc"),
    ("安全保障理事会", "unsc"),
    ("大陸間弾道", "icbm"),
    ("中距離弾道", "irbm"),
    ("短距離弾道", "srbm"),
    ("潜水艦発射", "slbm"),
    ("巡航ミサイル", "cruise"),
    ("極超音速", "hypersonic"),
    ("固体燃料", "solidfuel"),
    ("弾道", "ballistic"),
    ("火星", "hwasong"),
    ("北極星", "pukguksong"),
    ("北海道", "hokkaido"),
    ("青森", "aomori"),
    ("沖縄", "okinawa"),
    ("太平洋", "pacific"),
    ("衛星", "satellite"),
    ("制裁", "sanctions"),
    ("決議", "resolution"),
    ("拒否権", "veto"),
    ("資産凍結", "assetfreeze"),
    ("瀬取り", "shiptoship"),
    ("指定", "designate"),
    ("発射", "launch"),
    ("ミサイル", "missile"),
    ("日本", "japan"),
    ("韓国", "rok"),
    ("中国", "china"),
    ("ロシア", "russia"),
    ("抗議", "protest"),
    ("落下", "landed"),
    ("上空を通過", "overflight"),
    ("上空通過", "overflight"),
)
_GENERIC_CONCEPTS = frozenset({"dprk", "missile", "launch", "japan", "ballistic", "rok"})
_GENERIC_JA = (
    "北朝鮮",
    "ミサイル",
    "弾道",
    "発射",
    "日本",
    "政府",
    "防衛省",
    "韓国",
    "発表",
    "関係者",
    "明らか",
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_HIRAGANA_ONLY = re.compile(r"^[\u3040-\u309f]+$")
_WORD = re.compile(r"[a-z0-9]+")
_GENERIC_BIGRAMS = frozenset(word[i : i + 2] for word in _GENERIC_JA for i in range(len(word) - 1))

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
    for pattern, concept in _EN_CONCEPTS:
        if pattern.search(latin):
            weights["c:" + concept] = _WEIGHT_GENERIC if concept in _GENERIC_CONCEPTS else _WEIGHT_CONCEPT
    if _CJK_RUN.search(norm):
        for term, concept in _JA_CONCEPTS:
            if term in norm:
                weights["c:" + concept] = _WEIGHT_GENERIC if concept in _GENERIC_CONCEPTS else _WEIGHT_CONCEPT
        for run in _CJK_RUN.findall(norm):
            for i in range(len(run) - 1):
                bigram = run[i : i + 2]
                if _HIRAGANA.search(bigram) is None:
                    weights["b:" + bigram] = _WEIGHT_GENERIC if bigram in _GENERIC_BIGRAMS else _WEIGHT_BIGRAM
                elif _HIRAGANA_ONLY.match(bigram) is None:
                    weights["b:" + bigram] = _WEIGHT_GENERIC
    for raw in _WORD.findall(latin):
        word = _NUMBER_WORDS.get(raw, raw)
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        generic = word in _GENERIC_WORDS or (len(word) == 4 and word.startswith("20") and word.isdigit())
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


# ---------------------------------------------------------------------------------------------- dates

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


# ---------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class _ItemView:
    family: str
    topics: tuple[str, ...]
    facts: Mapping[str, Any]
    profile: _Profile
    language: str
    event_time: datetime
    seen: datetime
    dates: frozenset[date]
    days: frozenset[date]
    event_date: date
    # About a DPRK launch (stated launch facts, or a launch in the title or text).
    reports_launch: bool
    # The headline announces a further launch ("fires another missile", "再び発射").
    repeat_launch: bool


def _family(topics: Sequence[str], scores: Mapping[str, float], facts: Mapping[str, Any]) -> str:
    """The topic an item is mainly about; a story only takes items of its own family."""
    if len(topics) == 1:
        return topics[0]
    if "sanctions" in topics and ("action" in facts or "measures" in facts):
        return "sanctions"
    if "missile" in topics and (facts.keys() & MISSILE_FACTS) and not (facts.keys() & SANCTIONS_FACTS):
        return "missile"
    return max(topics, key=lambda topic: (scores.get(topic, 0.0), -topics.index(topic)))


def _view(item: Item, now: datetime) -> _ItemView:
    cls = item.classification
    facts = flatten_facts(cls.facts)
    topics = tuple(t for t in cls.topics if t)
    family = _family(topics, cls.scores, facts)
    ordered = (family, *(t for t in topics if t != family))
    event_time = min(item.published, now)
    ref = event_time.astimezone(EVENT_TZ).date()
    text = f"{item.title}\n{item.summary[:_SUMMARY_CHARS]}"
    mentioned = tuple(day for day in _mentioned_dates(text, ref) if ref - day <= _EVENT_DAY_HORIZON)
    # Without a date in the text the event happened on the day of publication, or the day before
    # when the report came out shortly after midnight.
    days = frozenset(mentioned) or frozenset({ref, (event_time - _REPORT_DELAY).astimezone(EVENT_TZ).date()})
    dates = frozenset(mentioned) or (days if facts.keys() & LAUNCH_REPORT_FACTS else frozenset())
    return _ItemView(
        family=family,
        topics=ordered,
        facts=facts,
        profile=_profile(text),
        language=(item.language or "en")[:2].lower(),
        event_time=event_time,
        seen=min(item.first_seen, now),
        dates=dates,
        days=days,
        event_date=mentioned[0] if mentioned else ref,
        reports_launch=_reports_dprk_launch(item.title, text, facts),
        repeat_launch=_repeat_launch(item.title),
    )


@lru_cache(maxsize=16384)
def _launch_headline(title: str) -> bool:
    return _LAUNCH_HEADLINE.search(_nfkc(title)) is not None


@lru_cache(maxsize=16384)
def _mentions_launch(text: str) -> bool:
    return _LAUNCH_EVENT.search(_nfkc(text)) is not None


@lru_cache(maxsize=16384)
def _repeat_launch(title: str) -> bool:
    return _REPEAT_LAUNCH.search(_nfkc(title)) is not None


def _reports_dprk_launch(title: str, text: str, facts: Mapping[str, Any]) -> bool:
    if "c:dprk" not in _profile(text).weights:
        return False
    return bool(facts.keys() & _LAUNCH_EVIDENCE_FACTS) or _launch_headline(title) or _mentions_launch(text)


def _is_launch_story(titles: Sequence[str], facts: Mapping[str, Any]) -> bool:
    """Whether a story is about a launch: launch facts or a launch headline (stories keep no text)."""
    return bool(facts.keys() & _LAUNCH_EVIDENCE_FACTS) or any(
        _launch_headline(title) or _mentions_launch(title) for title in titles
    )


def _clean(text: str) -> str:
    return " ".join(text.split())


def _story_date(story: Story) -> date | None:
    value = story.facts.get(EVENT_DATE)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _score(view: _ItemView, story: Story, window: timedelta) -> float | None:
    """How well an item fits a story, or None when it must not join."""
    if not story.topics or story.topics[0] != view.family or not story.sources:
        return None
    gap = min(abs(view.event_time - source.published) for source in story.sources)
    if gap > window:
        return None
    story_facts = flatten_facts(story.facts)
    agree = _compare_facts(view.facts, story_facts, counts_may_differ=gap <= _COUNT_REVISION_GAP)
    if agree is None:
        return None
    story_date = _story_date(story)
    titles = (story.headline, *(source.title for source in story.sources))
    if view.family == "missile":
        if story_date is not None and view.dates and story_date not in view.dates:
            return None
        # A headline announcing another launch starts its own story, unless the story is that launch.
        if view.repeat_launch and not any(_repeat_launch(title) for title in titles):
            return None
    text = _similarity(view.profile, _titles_profile(titles))
    cross_language = all(source.language[:2].lower() != view.language for source in story.sources)
    same_day = story_date is None or story_date in view.days
    textual = text >= _TEXT_JOIN or (text >= _TEXT_WITH_FACT and agree >= 1)
    # Another language shares little text with the story, so the same event day has to do.
    bilingual = cross_language and same_day and gap <= _CROSS_LANGUAGE_GAP and (agree >= 1 or text >= _TEXT_BILINGUAL)
    # Reports of one launch share few words ("fires projectile", "J-Alert not issued", "ICBM fell in
    # EEZ"), but a DPRK launch day usually has one launch: launch reports on the same day, within
    # hours of the story's first report and with no contradicting fact, are one event.
    first_report = min(source.published for source in story.sources)
    same_launch = (
        view.family == "missile"
        and view.reports_launch
        and story_date is not None
        and story_date in view.days
        and abs(view.event_time - first_report) <= _SAME_LAUNCH_SPAN
        and _is_launch_story(titles, story_facts)
    )
    if not (textual or bilingual or same_launch):
        return None
    return text + 0.25 * agree - 0.05 * gap.total_seconds() / 86400


# ---------------------------------------------------------------------------------------------- api


def story_id_for(item: Item) -> str:
    """The id of the story an item starts when it joins none (stable across reruns)."""
    return "st-" + hashlib.sha256(item.id.encode("utf-8")).hexdigest()[:20]


def _source(item: Item) -> StorySource:
    return StorySource(
        item_id=item.id,
        source=item.source,
        title=_clean(item.title),
        link=item.link,
        published=item.published,
        language=item.language,
    )


def _merge_evidence(*groups: Iterable[Evidence]) -> tuple[Evidence, ...]:
    best: dict[tuple[str, str, str], Evidence] = {}
    for group in groups:
        for ev in group:
            key = (ev.rule, ev.topic, ev.text)
            if key not in best or ev.weight > best[key].weight:
                best[key] = ev
    return tuple(sorted(best.values(), key=lambda ev: (-ev.weight, ev.text))[:MAX_EVIDENCE])


def _new_story(item: Item, view: _ItemView) -> Story:
    cls = item.classification
    facts = dict(view.facts)
    if view.family == "missile":
        facts[EVENT_DATE] = view.event_date.isoformat()
    return Story(
        id=story_id_for(item),
        headline=_clean(item.title),
        topics=view.topics,
        severity=cls.severity,
        severity_reason=cls.severity_reason,
        first_seen=view.seen,
        last_seen=view.seen,
        sources=(_source(item),),
        facts=facts,
        evidence=_merge_evidence(cls.evidence),
    )


def _join(story: Story, item: Item, view: _ItemView) -> Story:
    cls = item.classification
    escalates = severity_rank(cls.severity) > severity_rank(story.severity)
    return replace(
        story,
        headline=_clean(item.title) if escalates else story.headline,
        severity=cls.severity if escalates else story.severity,
        severity_reason=cls.severity_reason if escalates else story.severity_reason,
        topics=tuple(dict.fromkeys((*story.topics, *view.topics))),
        first_seen=min(story.first_seen, view.seen),
        last_seen=max(story.last_seen, view.seen),
        sources=(*story.sources, _source(item)),
        facts=_merge_facts(story.facts, view.facts),
        evidence=_merge_evidence(story.evidence, cls.evidence),
    )


def assign_story(item: Item, candidates: Sequence[Story], now: datetime, window: timedelta = DEFAULT_WINDOW) -> Story:
    """The story an item belongs to: a candidate updated with it as a source, or a new story.

    Adding an item a candidate already holds returns that candidate unchanged. The best-scoring
    matching candidate wins (ties: the most recently seen). Raises ValueError for an item the
    classifier found irrelevant: only relevant items are clustered.
    """
    if not item.relevant:
        raise ValueError(f"item {item.id} has no topic and cannot be clustered")
    own_id = story_id_for(item)
    for story in candidates:
        if story.id == own_id or any(source.item_id == item.id for source in story.sources):
            return story
    view = _view(item, now)
    best: tuple[float, datetime, str] | None = None
    chosen: Story | None = None
    for story in candidates:
        score = _score(view, story, window)
        if score is None:
            continue
        key = (score, story.last_seen, story.id)
        if best is None or key > best:
            best, chosen = key, story
    return _new_story(item, view) if chosen is None else _join(chosen, item, view)


def cluster(items: Sequence[Item], now: datetime, window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group relevant items into stories, oldest item first; irrelevant items are skipped."""
    stories: dict[str, Story] = {}
    newest: dict[str, datetime] = {}
    ordered = sorted((i for i in items if i.relevant), key=lambda i: (i.published, i.first_seen, i.id))
    for item in ordered:
        published = min(item.published, now)
        candidates = [stories[sid] for sid, last in newest.items() if last >= published - window]
        story = assign_story(item, candidates, now, window)
        stories[story.id] = story
        newest[story.id] = max(newest.get(story.id, published), published)
    return list(stories.values())
