"""Newest-first pages over a time index: the types every store's page reads share (and the API's cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Position:
    """Where a page ended: a month bucket and the index sort key of the page's last record."""

    bucket: str
    sort_key: str


@dataclass(frozen=True)
class PageFilter:
    since: datetime
    until: datetime
    topic: str | None = None
    severities: Sequence[str] | None = None  # the severities to keep; None keeps all


@dataclass(frozen=True)
class Page(Generic[T]):
    records: list[T]
    next: Position | None
