"""Precision, recall and F1 of the classifier on labelled items (the realdata quality tests)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wirewatch.models import TOPICS


@dataclass(frozen=True)
class Labelled:
    key: str
    title: str
    summary: str
    topics: frozenset[str]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def load_labelled(path: Path) -> list[Labelled]:
    """Sure items of a labels JSONL file (unsure ones are left out)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [
        Labelled(row["key"], row["title"], row.get("summary") or "", frozenset(row["labels"]))
        for row in rows
        if not row.get("unsure")
    ]


def _score(pairs: Sequence[tuple[bool, bool]]) -> Score:
    hits = sum(gold and guess for gold, guess in pairs)
    guessed = sum(guess for _, guess in pairs)
    wanted = sum(gold for gold, _ in pairs)
    precision = hits / guessed if guessed else 0.0
    recall = hits / wanted if wanted else 0.0
    return Score(precision, recall, 2 * precision * recall / (precision + recall) if hits else 0.0)


def evaluate(items: Sequence[Labelled], predictions: Sequence[frozenset[str]]) -> dict[str, Score]:
    """Scores for relevance (any topic) and for each topic."""
    pairs = list(zip(items, predictions, strict=True))
    scores = {"relevance": _score([(bool(i.topics), bool(p)) for i, p in pairs])}
    scores.update({topic: _score([(topic in i.topics, topic in p) for i, p in pairs]) for topic in TOPICS})
    return scores
