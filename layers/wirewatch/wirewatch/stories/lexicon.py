"""Clustering's lexicon from classify/lexicon.toml: concepts (English, Japanese), generic words, launch patterns."""

from __future__ import annotations

import re
from typing import Any

from wirewatch.classify.lexicon import NUMBER_WORDS, lexicon

_DATA: dict[str, Any] = dict(lexicon()["stories"])
_LAUNCH: dict[str, str] = dict(_DATA["launch"])

STOPWORDS = frozenset(_DATA["stopwords"].split())
GENERIC_WORDS = frozenset(_DATA["generic_words"].split())
GENERIC_CONCEPTS = frozenset(_DATA["generic_concepts"])
GENERIC_JA: tuple[str, ...] = tuple(_DATA["generic_ja"])
EN_CONCEPTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(entry["pattern"]), entry["concept"]) for entry in _DATA["en_concepts"]
)
JA_CONCEPTS: tuple[tuple[str, str], ...] = tuple((entry["text"], entry["concept"]) for entry in _DATA["ja_concepts"])
LAUNCH_HEADLINE = re.compile(_LAUNCH["headline"])
LAUNCH_EVENT = re.compile(_LAUNCH["event"].replace("{noun}", _LAUNCH["noun"]).replace("{verb}", _LAUNCH["verb"]))
REPEAT_LAUNCH = re.compile(_LAUNCH["repeat"])

__all__ = [
    "EN_CONCEPTS",
    "GENERIC_CONCEPTS",
    "GENERIC_JA",
    "GENERIC_WORDS",
    "JA_CONCEPTS",
    "LAUNCH_EVENT",
    "LAUNCH_HEADLINE",
    "NUMBER_WORDS",
    "REPEAT_LAUNCH",
    "STOPWORDS",
]
