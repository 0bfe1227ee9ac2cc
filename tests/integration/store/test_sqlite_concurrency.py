"""SQLite store under concurrency: two stores on one file (as two processes), and threads sharing one store."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.integration.store.conftest import KEEP, NOW, fixed_clock
from tests.integration.store.test_contract_stories import with_source
from tests.unit.digest.builders import story, subscription
from tests.unit.stories.builders import item
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import ConflictError
from wirewatch.models import Subscription

pytestmark = pytest.mark.integration


@pytest.fixture()
def stores(db_path: Path) -> list[SqliteStore]:
    """Two stores on the same file, each with its own connection."""
    return [SqliteStore(db_path, clock=fixed_clock()) for _ in range(2)]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, one thread each; each result is its return value or the exception it raised."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:  # collected for the caller's assertions
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_given_two_processes_growing_one_story_when_they_save_at_once_then_one_wins_and_one_conflicts(
    stores: list[SqliteStore],
) -> None:
    first, second = stores
    first.save_story(story("st-1", "Launch"), None)
    for round_ in range(20):
        reads = [s.get_story("st-1") for s in stores]
        grown = [with_source(r, f"i-{round_}-{n}") for n, r in enumerate(reads) if r is not None]
        assert len(grown) == 2 and reads[0] == reads[1]
        results = race(partial(first.save_story, grown[0], reads[0]), partial(second.save_story, grown[1], reads[1]))
        conflicts = [r for r in results if isinstance(r, ConflictError)]
        assert len(conflicts) == 1 and results.count(None) == 1
        assert first.get_story("st-1") == grown[results.index(None)]


def test_given_two_processes_creating_one_story_when_they_save_at_once_then_one_wins_and_one_conflicts(
    stores: list[SqliteStore],
) -> None:
    for n in range(20):
        mine, theirs = story(f"st-{n}", "mine"), story(f"st-{n}", "theirs")
        results = race(partial(stores[0].save_story, mine, None), partial(stores[1].save_story, theirs, None))
        assert sum(isinstance(r, ConflictError) for r in results) == 1
        assert stores[1].get_story(f"st-{n}") == (mine, theirs)[results.index(None)]


def test_given_two_processes_claiming_the_same_messages_when_they_race_then_each_is_claimed_once(
    stores: list[SqliteStore],
) -> None:
    lease = timedelta(minutes=5)
    for n in range(30):
        results = race(*(partial(s.claim_delivery, "s-1", f"digest#{n}", "email", NOW, lease) for s in stores))
        assert sorted(results) == [False, True]
    assert all(d["attempts"] == 1 for d in stores[0].deliveries("s-1"))


def test_given_two_digest_runs_when_they_advance_one_window_at_once_then_only_one_moves_it(
    stores: list[SqliteStore],
) -> None:
    due = subscription(next_digest_at=NOW)
    stores[0].save_subscription(due)
    results = race(
        lambda: stores[0].advance_digest(due, NOW, NOW + timedelta(days=1)),
        lambda: stores[1].advance_digest(due, NOW, NOW + timedelta(days=2)),
    )
    assert sorted(results) == [False, True]
    stored = stores[1].get_subscription(due.id)
    assert stored is not None and stored.next_digest_at == NOW + timedelta(days=1 + results.index(True))


def test_given_an_edit_in_one_process_when_a_digest_run_in_another_moves_the_window_then_both_changes_stay(
    stores: list[SqliteStore],
) -> None:
    editor, digest = stores
    editor.save_subscription(subscription(next_digest_at=NOW))
    moved = threading.Event()
    reads: list[Subscription] = []

    def edit(current: Subscription) -> Subscription:
        reads.append(current)
        if len(reads) == 1:  # the other process's digest run lands between this read and the write
            runner = threading.Thread(target=lambda: digest.advance_digest(current, NOW, NOW + timedelta(days=1)))
            runner.start()
            runner.join(timeout=30)
            moved.set()
        return dataclasses.replace(current, topics=("sanctions",))

    _, after = editor.update_subscription("s-1", edit) or (None, None)
    assert moved.is_set() and len(reads) == 2
    stored = digest.get_subscription("s-1")
    assert stored == after and stored is not None
    assert stored.topics == ("sanctions",) and stored.next_digest_at == NOW + timedelta(days=1)


def test_given_threads_sharing_one_store_when_they_put_the_same_items_then_each_is_stored_once(
    db_path: Path,
) -> None:
    store = SqliteStore(db_path, clock=fixed_clock())
    records = [item(f"i-{n}", "launch") for n in range(200)]
    stored: Counter[str] = Counter()
    lock = threading.Lock()

    def put_all() -> None:
        for record in records:
            if store.put_item_if_new(record, KEEP):
                with lock:
                    stored[record.id] += 1

    results = race(*([put_all] * 8))
    assert results == [None] * 8
    assert stored == Counter({r.id: 1 for r in records})
    assert store.count("items") == 200
