"""On-demand poll runs: start one (queued to SQS, or in a local thread), and record what each batch did.

The poll function reports batches of a run through this module; the API starts runs through it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from wirewatch.logs import logger
from wirewatch.models import Feed
from wirewatch.usecases.poll import PollReport


class RunLog(Protocol):
    def create_run(self, run_id: str, feed_ids: Sequence[str], batches: int, now: datetime) -> bool: ...
    def record_run_batch(
        self, run_id: str, batch: int, counts: Mapping[str, int], errors: Sequence[Mapping[str, Any]], now: datetime
    ) -> bool: ...
    def fail_run(self, run_id: str, error: str, now: datetime) -> None: ...


class BatchQueue(Protocol):
    def send_batches(self, batches: Sequence[Sequence[str]], run_id: str | None = None) -> int: ...


Poller = Callable[[Sequence[Feed]], PollReport]


def new_run_id(now: datetime) -> str:
    """A unique, time-ordered run id."""
    return f"run-{now.astimezone(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(6)}"


def start_run(
    feeds: Sequence[Feed],
    *,
    runs: RunLog,
    queue: BatchQueue | None,
    poll: Poller,
    feeds_per_message: int,
    now: datetime,
) -> str:
    """Record a run and hand its feeds to the poll queue, or to a local thread when there is no queue."""
    run_id = new_run_id(now)
    ids = [f.id for f in feeds]
    if queue is None:
        runs.create_run(run_id, ids, 1 if ids else 0, now)
        if ids:
            run_in_thread(run_id, feeds, runs=runs, poll=poll)
        return run_id
    batches = [ids[i : i + feeds_per_message] for i in range(0, len(ids), feeds_per_message)]
    runs.create_run(run_id, ids, len(batches), now)
    if batches:
        try:
            queue.send_batches(batches, run_id=run_id)
        except Exception:
            # Recorded, then raised on: the caller gets an error, and GET /runs/{id} does not say "queued".
            runs.fail_run(run_id, "the poll queue refused the run", datetime.now(UTC))
            raise
    return run_id


def run_in_thread(run_id: str, feeds: Sequence[Feed], *, runs: RunLog, poll: Poller) -> threading.Thread:
    """Poll in a background thread (local serve mode) and record the run as its single batch."""

    def work() -> None:
        try:
            report = poll(feeds)
            counts, errors = batch_report(report, [f.id for f in feeds])
            runs.record_run_batch(run_id, 0, counts, errors, datetime.now(UTC))
        except Exception as exc:
            # The thread's top level: nobody else would see this failure, so the run records it.
            logger.exception("local poll run failed", extra={"run_id": run_id})
            runs.fail_run(run_id, f"poll failed: {type(exc).__name__}", datetime.now(UTC))

    thread = threading.Thread(target=work, name=f"wirewatch-{run_id}", daemon=True)
    thread.start()
    return thread


def batch_report(report: PollReport, feed_ids: Collection[str]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The part of a poll's report that concerns these feeds: counts and feed errors."""
    wanted = set(feed_ids)
    outcomes = [o for o in report.outcomes if o.feed_id in wanted]
    stories = {i.story_id for i in report.new_relevant if i.feed_id in wanted and i.story_id}
    counts = {
        "feeds": len(outcomes),
        "fetched": sum(o.outcome == "ok" for o in outcomes),
        "not_modified": sum(o.outcome == "not_modified" for o in outcomes),
        "failed": sum(o.outcome in ("failed", "gone") for o in outcomes),
        "new_items": sum(o.new_items for o in outcomes),
        "relevant_items": sum(o.relevant_items for o in outcomes),
        "stories": len(stories),
    }
    return counts, [e for e in report.errors if e["feed"] in wanted]


def record_batches(
    runs: RunLog, batches: Sequence[tuple[str, int, Sequence[str]]], report: PollReport, now: datetime
) -> None:
    """Add each (run id, batch, feed ids) batch's share of one poll to its run (once per batch)."""
    for run_id, batch, feed_ids in batches:
        counts, errors = batch_report(report, feed_ids)
        if not runs.record_run_batch(run_id, batch, counts, errors, now):
            logger.info("run batch already recorded", extra={"run_id": run_id, "batch": batch})
