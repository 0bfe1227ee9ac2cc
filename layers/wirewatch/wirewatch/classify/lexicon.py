"""The lexicon data file (classify/lexicon.toml): number words for the classifier and clustering's terms."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

LEXICON = Path(__file__).with_name("lexicon.toml")


@cache
def lexicon() -> Mapping[str, Any]:
    """The parsed lexicon file (read once)."""
    return tomllib.loads(LEXICON.read_text(encoding="utf-8"))


# One table of number words: "two missiles" is a count of 2 to the classifier and the token "2" to clustering.
NUMBER_WORDS: Mapping[str, int] = MappingProxyType({str(k): int(v) for k, v in lexicon()["number_words"].items()})
