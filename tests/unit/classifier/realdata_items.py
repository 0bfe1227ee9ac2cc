"""Every real news item in ../shared/realdata as (key, title, summary), for the classifier tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from wirewatch.feeds.parse import parse_feed

NEAR_MISSES = "rsslinkdb_rumca_2021-2023_nearmiss_negatives.json"
GENERAL_NEGATIVES = "rsslinkdb_rumca_2021-2023_general_news_negatives.json"


class RealItem(NamedTuple):
    """One real item: where it comes from (file#index), its title and its summary."""

    key: str
    title: str
    summary: str


def negatives(folder: Path) -> list[RealItem]:
    """The 960 near misses and 700 general-news items: none of them is about North Korea."""
    return [*_json_items(folder / NEAR_MISSES), *_json_items(folder / GENERAL_NEGATIVES)]


def all_items(folder: Path) -> list[RealItem]:
    """Every item of every dataset and feed snapshot in the folder (about 19,000)."""
    items: list[RealItem] = []
    for path in sorted(folder.glob("*.json")):
        items += _json_items(path)
    for path in sorted(folder.glob("*.csv")):
        items += _csv_items(path)
    for path in sorted(folder.glob("*.jsonl")):
        items += _jsonl_items(path)
    for path in sorted(folder.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), {}, "https://feeds.example.com/")
        items += [
            RealItem(f"{path.name}#{n}", entry.title or "", entry.summary or "")
            for n, entry in enumerate(parsed.entries)
        ]
    return items


def _json_items(path: Path) -> list[RealItem]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(_records(path.name, data))


def _records(name: str, data: dict[str, Any]) -> Iterator[RealItem]:
    if "groups" in data:
        for group, rows in data["groups"].items():
            for n, row in enumerate(rows):
                yield _item(f"{name}#{group}/{n}", row)
        return
    for n, row in enumerate(data.get("items") or data.get("records") or []):
        yield _item(f"{name}#{n}", row)


def _item(key: str, row: dict[str, Any]) -> RealItem:
    title = row.get("title") or row.get("headline") or ""
    summary = row.get("description") or row.get("story_text") or row.get("summary") or ""
    return RealItem(key, str(title), str(summary))


def _csv_items(path: Path) -> list[RealItem]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        RealItem(f"{path.name}#{n}", row.get("title") or row.get("text") or "", row.get("description") or "")
        for n, row in enumerate(rows)
    ]


def _jsonl_items(path: Path) -> list[RealItem]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            items.append(_item(f"{path.name}#{n}", json.loads(line)))
    return items
