"""SQLite store: rows past their expiry are never returned, and purge_expired deletes them (DynamoDB's TTL)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.store.conftest import NOW
from tests.unit.digest.builders import story
from tests.unit.stories.builders import item
from wirewatch.adapters.local import sqlite
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import ConflictError
from wirewatch.models import Feed
from wirewatch.paging import PageFilter

pytestmark = pytest.mark.integration

EXPIRES = NOW + timedelta(days=1)
WINDOW = (NOW - timedelta(days=3), NOW)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> float:
        return self.moment.timestamp()


@pytest.fixture()
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture()
def store(db_path: Path, clock: Clock) -> SqliteStore:
    return SqliteStore(db_path, clock=clock)


def test_given_an_item_past_its_expiry_when_read_any_way_then_it_is_never_returned(
    store: SqliteStore, clock: Clock
) -> None:
    store.put_item_if_new(item("i-old", "launch", at=NOW - timedelta(hours=2)), EXPIRES)
    store.put_item_if_new(item("i-new", "launch", at=NOW - timedelta(hours=1)), EXPIRES + timedelta(days=1))
    clock.moment = EXPIRES
    assert store.existing_item_ids(["i-old", "i-new"]) == {"i-new"}
    assert [i.id for i in store.relevant_items(*WINDOW)] == ["i-new"]
    assert [i.id for i in store.items_first_seen(*WINDOW)] == ["i-new"]
    assert store.item_counts_by_feed(*WINDOW) == {"kyodo": (1, 1)}
    assert [i.id for i in store.page_items(PageFilter(*WINDOW), 10).records] == ["i-new"]


def test_given_an_expired_item_when_it_shows_up_again_then_it_is_stored_anew_before_and_after_a_purge(
    store: SqliteStore, clock: Clock
) -> None:
    old = item("i-1", "launch", at=NOW - timedelta(hours=2))
    store.put_item_if_new(old, EXPIRES)
    clock.moment = EXPIRES + timedelta(seconds=1)
    again = dataclasses.replace(old, title="launch, seen again")
    assert store.put_item_if_new(again, EXPIRES + timedelta(days=2))
    assert not store.put_item_if_new(old, EXPIRES + timedelta(days=2))
    assert [i.title for i in store.relevant_items(*WINDOW)] == ["launch, seen again"]
    assert store.purge_expired() == 0  # the row lives again
    clock.moment = EXPIRES + timedelta(days=3)
    assert store.purge_expired() == 1
    assert store.put_item_if_new(old, EXPIRES + timedelta(days=9))


def test_given_an_expired_story_when_read_or_clustered_anew_then_it_is_gone_and_a_new_one_takes_its_id(
    store: SqliteStore, clock: Clock
) -> None:
    old = story("st-1", "Launch", last_seen=NOW - timedelta(hours=1))
    store.save_story(old, None)
    clock.moment = NOW + store.story_retention
    assert store.get_story("st-1") is None
    assert store.stories_seen_between(NOW - timedelta(days=1), NOW) == []
    assert store.page_stories(PageFilter(NOW - timedelta(days=1), NOW), 5).records == []
    with pytest.raises(ConflictError):
        store.mark_story_alerted("st-1")
    fresh = story("st-1", "Another launch", last_seen=clock.moment)
    store.save_story(fresh, None)  # the expired row does not make a new story conflict
    assert store.get_story("st-1") == fresh


def test_given_an_expired_run_when_read_then_it_is_gone_and_a_purge_deletes_it_with_its_batches(
    store: SqliteStore, clock: Clock
) -> None:
    store.create_run("r-1", ["a"], 1, NOW)
    store.record_run_batch("r-1", 0, {"feeds": 1}, [], NOW)
    clock.moment = NOW + timedelta(days=31)
    assert store.get_run("r-1", clock.moment) is None
    assert store.purge_expired() == 1
    assert store.count("runs") == 0
    assert store.create_run("r-1", ["a"], 1, clock.moment)
    assert store.get_run("r-1", clock.moment)["batches_done"] == 0  # type: ignore[index]


def test_given_expired_and_live_rows_when_purged_in_small_batches_then_only_expired_ones_go(
    store: SqliteStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "_PURGE_BATCH", 3)  # several batches of each table
    for n in range(10):
        store.put_item_if_new(item(f"i-{n}", "launch", at=NOW - timedelta(minutes=n)), EXPIRES)
    for n in range(4):
        store.put_item_if_new(item(f"keep-{n}", "launch", at=NOW), EXPIRES + timedelta(days=5))
    for n in range(7):
        store.save_story(story(f"st-{n}", "Launch", last_seen=NOW - timedelta(days=400)), None)
    store.save_story(story("st-live", "Launch", last_seen=NOW), None)
    store.add_feed(Feed(id="kyodo", url="https://news.example/k.xml", name="Kyodo"))
    clock.moment = EXPIRES
    assert store.purge_expired() == 17
    assert (store.count("items"), store.count("stories"), store.count("feeds")) == (4, 1, 1)
    assert store.purge_expired() == 0
