"""The DPRK missile / sanctions classifier: rules as data (rules.toml), pure and explainable.

``classify`` loads the packaged rules once (lazily, thread-safe) and does no I/O afterwards.
"""

from __future__ import annotations

import threading
from importlib import resources

from wirewatch.classify.engine import classify_with, clean_text
from wirewatch.classify.rules import Rules, RulesError, compile_rules, load_rules
from wirewatch.models import Classification

__all__ = [
    "Rules",
    "RulesError",
    "classify",
    "classify_with",
    "clean_text",
    "compile_rules",
    "default_rules",
    "load_rules",
]

_lock = threading.Lock()
_default: Rules | None = None


def default_rules() -> Rules:
    """The packaged rules.toml, loaded and compiled on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                with resources.as_file(resources.files(__package__) / "rules.toml") as path:
                    _default = load_rules(path)
    return _default


def classify(title: str, summary: str = "", lang: str | None = None) -> Classification:
    """Classify one news item (title, summary, optional language) with the packaged rules."""
    return classify_with(default_rules(), title, summary, lang)
