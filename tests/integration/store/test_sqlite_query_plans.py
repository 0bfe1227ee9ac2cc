"""SQLite store: the time-window and key reads (and the purge) go through an index, never a scan of the table.

The statements are the store's own, caught by a trace callback on its connection, and explained on a
second connection to the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.store.conftest import KEEP, NOW, fixed_clock
from tests.unit.digest.builders import story, subscription
from tests.unit.stories.builders import item
from wirewatch.adapters.local import sqlite
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.paging import PageFilter

pytestmark = pytest.mark.integration

DAY = (NOW - timedelta(hours=24), NOW)
READS: dict[str, Callable[[SqliteStore], Any]] = {
    "relevant_items": lambda s: s.relevant_items(*DAY),
    "relevant_items by topic": lambda s: s.relevant_items(*DAY, topic="missile", limit=50),
    "existing_item_ids": lambda s: s.existing_item_ids([f"i-{n}" for n in range(20)]),
    "stories_seen_between": lambda s: s.stories_seen_between(*DAY),
    "items_first_seen": lambda s: list(s.items_first_seen(*DAY)),
    "item_counts_by_feed": lambda s: s.item_counts_by_feed(*DAY),
    "page_items": lambda s: s.page_items(PageFilter(*DAY, topic="missile", severities=("urgent",)), 20),
    "page_stories": lambda s: s.page_stories(PageFilter(*DAY), 20),
    "due_subscriptions": lambda s: s.due_subscriptions("daily", NOW),
    "purge_expired": lambda s: s.purge_expired(),
}


@pytest.fixture()
def traced(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SqliteStore, list[str]]:
    """A seeded store whose statements are recorded (with their parameters bound)."""
    statements: list[str] = []
    connect = sqlite3.connect

    def tracing(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite.sqlite3, "connect", tracing)
    store = SqliteStore(db_path, clock=fixed_clock())
    monkeypatch.undo()
    for n in range(300):
        at = NOW - timedelta(hours=n)
        store.put_item_if_new(item(f"i-{n}", "launch", at=at, topics=(("missile",), ())[n % 2]), KEEP)
        store.save_story(story(f"st-{n}", "Launch", last_seen=at), None)
    store.save_subscription(subscription(next_digest_at=NOW))
    return store, statements


@pytest.mark.parametrize("read", list(READS))
def test_given_a_year_of_rows_when_read_by_window_or_key_then_an_index_is_searched_not_the_table_scanned(
    traced: tuple[SqliteStore, list[str]], db_path: Path, read: str
) -> None:
    store, statements = traced
    statements.clear()
    READS[read](store)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "DELETE"))]
    assert selects, f"{read} ran no SELECT"
    with sqlite3.connect(db_path) as other:
        for sql in selects:
            plan = [row[3] for row in other.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert any(step.startswith("SEARCH") and "USING" in step for step in plan), (read, sql, plan)
            assert not any(step.startswith("SCAN") for step in plan), (read, sql, plan)
