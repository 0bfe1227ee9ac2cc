"""Durations as people type them ('90m', '24h', '30d', '2w'): one reading for the CLI and the API."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(\d{1,9})\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Ten years of history is more than any retention keeps; a longer window is a typo, not a request.
LONGEST = timedelta(days=3650)


def is_duration(text: str) -> bool:
    """True when text has a duration's shape (a number and m, h, d or w)."""
    return _DURATION.match(text.strip().lower()) is not None


def parse_duration(text: str) -> timedelta:
    """'90m' → 90 minutes; ValueError naming the rule when text is not one, or longer than ten years."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and m, h, d or w (e.g. 24h, 30d)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"duration {text!r} is too long: at most {LONGEST.days} days")
    return timedelta(seconds=seconds)
