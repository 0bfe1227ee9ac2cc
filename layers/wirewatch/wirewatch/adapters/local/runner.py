"""`wirewatch run`: the whole service on one machine, in the foreground.

Each cycle does what the scheduled functions do on AWS, with the same use cases: poll the due feeds
(same due-ness and backoff as dispatch), alert urgent stories (the table stream's job on AWS), send
due digests, purge expired rows (DynamoDB's TTL on AWS). One log line per cycle. SIGINT or SIGTERM
ends the wait between cycles, or the cycle in progress once its current step is done.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from wirewatch import runtime
from wirewatch.adapters.local.statedir import hold_run_lock
from wirewatch.errors import WirewatchError


@dataclass(frozen=True)
class Intervals:
    """How often each step runs (defaults: the template's PollSchedule and DigestSchedule)."""

    poll: timedelta = timedelta(minutes=2)
    digest: timedelta = timedelta(minutes=15)
    purge: timedelta = timedelta(hours=1)


def run_service(
    intervals: Intervals, *, once: bool = False, stop: threading.Event | None = None, out: TextIO = sys.stdout
) -> int:
    """Run cycles until stopped (or one with once); refuses when another run holds the state dir."""
    lock = hold_run_lock(runtime.state_dir())
    stop = stop or _stop_on_signals()
    runtime.repository()  # a store that cannot be opened ends the run before the first cycle
    due = {step: 0.0 for step in ("poll", "digest", "purge")}
    try:
        while not stop.is_set():
            started = time.monotonic()
            parts = []
            for step, action in (("poll", _poll), ("digest", _digest), ("purge", _purge)):
                if stop.is_set() or started < due[step]:
                    continue
                due[step] = started + getattr(intervals, step).total_seconds()
                try:
                    parts.append(action())
                except WirewatchError as exc:
                    # One failed step is this cycle's loss; the next cycle tries again.
                    parts.append(f"{step} failed: {exc}")
            print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {'; '.join(parts)}", file=out, flush=True)
            if once:
                break
            stop.wait(max(0.0, min(due.values()) - time.monotonic()))
    finally:
        lock.close()
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def _poll() -> str:
    now = datetime.now(UTC)
    selection = runtime.select_feeds(now)
    report = runtime.run_poll(selection.due, now=now)
    alerts = runtime.run_pending_alerts(now)
    sent = sum(a.sent for a in alerts)
    pending = sum(len(a.pending) for a in alerts)
    return (
        f"polled {report.feeds}/{len(selection.feeds)} feeds ({report.fetched} fetched, {report.not_modified} not "
        f"modified, {report.failed} failed), {report.new_items} new, {report.relevant_items} relevant; "
        f"alerts {sent} sent, {pending} pending"
    )


def _digest() -> str:
    report = runtime.run_digests(datetime.now(UTC)).to_dict()
    return "digests " + ", ".join(f"{v} {k}" for k, v in report.items() if isinstance(v, int))


def _purge() -> str:
    from wirewatch.adapters.local.sqlite import SqliteStore

    store = runtime.repository()
    assert isinstance(store, SqliteStore), "wirewatch run works on the local SQLite store"
    return f"purged {store.purge_expired()}"
