"""Stated facts of items and stories: normalised, compared for contradictions, merged (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Where a story records its launch day (ISO date, Korea/Japan time).
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
