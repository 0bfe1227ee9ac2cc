"""Store contract, on-demand poll runs: created once, each batch counted once, status derived when read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.store.conftest import NOW
from wirewatch.errors import ConflictError
from wirewatch.runlog import RUN_COUNTERS

pytestmark = pytest.mark.integration

ZERO = dict.fromkeys(RUN_COUNTERS, 0)


def test_given_a_run_when_created_twice_then_the_second_is_refused(store: Any) -> None:
    assert store.create_run("r-1", ["kyodo", "reuters"], 2, NOW)
    assert not store.create_run("r-1", ["other"], 9, NOW)
    run = store.get_run("r-1", NOW)
    assert run is not None
    assert (run["status"], run["feed_ids"], run["batches"], run["batches_done"]) == (
        "queued",
        ["kyodo", "reuters"],
        2,
        0,
    )
    assert run["report"] == ZERO | {"errors": []}


def test_given_a_batch_delivered_twice_when_recorded_then_it_counts_once(store: Any) -> None:
    store.create_run("r-1", ["a", "b"], 2, NOW)
    counts = {"feeds": 1, "fetched": 1, "new_items": 5, "relevant_items": 2}
    errors = [{"feed": "b", "status": 503, "error": "HTTP 503"}]
    assert store.record_run_batch("r-1", 0, counts, errors, NOW + timedelta(seconds=5))
    assert not store.record_run_batch("r-1", 0, counts, errors, NOW + timedelta(seconds=6))
    run = store.get_run("r-1", NOW + timedelta(seconds=10))
    assert run is not None and run["status"] == "running" and run["batches_done"] == 1
    assert run["report"] == ZERO | counts | {"errors": errors}
    assert run["updated_at"] == (NOW + timedelta(seconds=5)).isoformat(timespec="microseconds")


def test_given_every_batch_recorded_when_read_then_the_run_is_done_with_summed_counts(store: Any) -> None:
    store.create_run("r-1", ["a", "b"], 2, NOW)
    store.record_run_batch("r-1", 1, {"feeds": 1, "new_items": 3}, [], NOW)
    store.record_run_batch("r-1", 0, {"feeds": 1, "new_items": 4, "failed": 1}, [], NOW)
    run = store.get_run("r-1", NOW)
    assert run is not None and run["status"] == "done" and run["batches_done"] == 2
    assert run["report"] == ZERO | {"feeds": 2, "new_items": 7, "failed": 1, "errors": []}


def test_given_an_unknown_run_when_a_batch_is_recorded_then_nothing_is_created(store: Any) -> None:
    assert not store.record_run_batch("ghost", 0, {"feeds": 1}, [], NOW)
    assert store.get_run("ghost", NOW) is None


def test_given_a_run_when_failed_then_it_reads_failed_with_its_error(store: Any) -> None:
    store.create_run("r-1", ["a"], 1, NOW)
    store.fail_run("r-1", "store unreachable " + "x" * 1000, NOW)
    run = store.get_run("r-1", NOW)
    assert run is not None and run["status"] == "failed"
    assert run["error"].startswith("store unreachable") and len(run["error"]) == 300
    with pytest.raises(ConflictError):
        store.fail_run("ghost", "boom", NOW)


def test_given_a_run_never_finished_when_read_long_after_then_it_reads_expired(store: Any) -> None:
    store.create_run("r-1", ["a", "b"], 2, NOW)
    store.record_run_batch("r-1", 0, {"feeds": 1}, [], NOW)
    run = store.get_run("r-1", NOW + timedelta(hours=1))
    assert run is not None and run["status"] == "expired"
