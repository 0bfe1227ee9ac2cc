"""Clustering cases as data: each tests/unit/stories/cases/*.json lists items and the stories they must form.

An analyst adds a case without writing Python: items (id, title, summary; optional minutes after
the launch day's first report, language, source, topics, severity, facts) and the expected stories
as lists of item ids. Order of items and of stories does not matter.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.stories.builders import LAUNCH_DAY, item
from wirewatch.models import Item
from wirewatch.stories import cluster

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))
NOW = LAUNCH_DAY + timedelta(days=5)


def _item(row: dict[str, Any]) -> Item:
    return item(
        row["id"],
        row["title"],
        row.get("summary", ""),
        at=LAUNCH_DAY + timedelta(minutes=row.get("minutes", 0)),
        language=row.get("language", "en"),
        source=row.get("source", "Kyodo"),
        topics=tuple(row.get("topics", ["missile"])),
        severity=row.get("severity", "high"),
        facts=row.get("facts"),
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_clustering_case(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    items = [_item(row) for row in case["items"]]
    for order in (items, items[::-1]):
        found = {frozenset(s.item_id for s in story.sources) for story in cluster(order, NOW)}
        assert found == {frozenset(ids) for ids in case["stories"]}, case["note"]
