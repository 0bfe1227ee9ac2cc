"""Selecting due subscriptions among 10,000: GSI queries against moto, an index search on SQLite, never a scan.

Run: `.venv/bin/python -m bench.bench_due` (also part of `make bench`).
"""

from __future__ import annotations

import os
import random
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_poll import Row, print_table
from tests.support.aws import moto_server
from wirewatch import runtime
from wirewatch.adapters.aws import clients as aws
from wirewatch.adapters.aws.dynamodb.schema import create_table
from wirewatch.adapters.aws.dynamodb.subscriptions import DIGEST_CADENCES, subscription_to_record
from wirewatch.models import Subscription

SUBSCRIPTIONS = 10_000
ZONES = ("UTC", "Asia/Tokyo", "Asia/Seoul", "Europe/London", "America/New_York")


def population(now: datetime) -> list[Subscription]:
    """10,000 subscriptions: a mix of cadences, zones and states; about one in twelve due right now."""
    rng = random.Random(20261130)
    subs = []
    for n in range(SUBSCRIPTIONS):
        cadence = rng.choice(("immediate", "hourly", "daily", "daily"))
        status = rng.choices(("active", "pending", "unsubscribed", "failing"), weights=(85, 5, 8, 2))[0]
        due_in = timedelta(minutes=rng.randrange(-60, 24 * 60))
        subs.append(
            Subscription(
                id=f"sub-{n:05d}",
                channel=rng.choice(("email", "slack")),
                target=f"reader{n}@example.org",
                cadence=cadence,
                timezone=rng.choice(ZONES),
                status=status,
                last_digest_at=now + due_in - timedelta(days=1),
                next_digest_at=now + due_in,
                created_at=now - timedelta(days=30),
            )
        )
    return subs


def expected_due(subs: list[Subscription], now: datetime) -> int:
    """How many subscriptions a correct selection returns."""
    return len(
        [s for s in subs if s.status == "active" and s.cadence in DIGEST_CADENCES and (s.next_digest_at or now) <= now]
    )


def bench_dynamodb(subs: list[Subscription], now: datetime) -> Row:
    """Load the subscriptions into moto, then time the due-digest selection and count its requests."""
    with moto_server() as endpoint:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "WIREWATCH_TABLE": "bench-due",
            }
        )
        runtime.reset()
        client = aws.client("dynamodb")
        create_table(client, "bench-due")
        repo = runtime.repository()
        repo._batch_put([subscription_to_record(s) for s in subs])  # type: ignore[union-attr]
        calls: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call.dynamodb.*", count)
        start = time.perf_counter()
        due = [s for cadence in DIGEST_CADENCES for s in repo.due_subscriptions(cadence, now)]
        elapsed = time.perf_counter() - start
    for name in ("AWS_ENDPOINT_URL", "WIREWATCH_TABLE"):
        os.environ.pop(name, None)
    runtime.reset()
    expected = expected_due(subs, now)
    return Row(
        "DynamoDB (moto server)",
        f"{elapsed * 1000:.0f} ms",
        f"{len(due)} due of {expected} expected",
        "queries, no Scan",
        calls["Scan"] == 0 and len(due) == expected,
        f"requests: {dict(calls)}",
    )


def bench_sqlite(subs: list[Subscription], now: datetime) -> Row:
    """Save the subscriptions into a SQLite store, time the selection, and read its query plan."""
    from wirewatch.adapters.local.sqlite import SqliteStore

    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-due-") as tmp:
        path = Path(tmp) / "due.db"
        store = SqliteStore(path)
        for sub in subs:
            store.save_subscription(sub)
        start = time.perf_counter()
        due = [s for cadence in DIGEST_CADENCES for s in store.due_subscriptions(cadence, now)]
        elapsed = time.perf_counter() - start
        store.close()
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        plan = " / ".join(
            str(row[3])
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT data FROM subscriptions WHERE status = 'active' AND cadence = ?"
                " AND (next_digest_at IS NULL OR next_digest_at <= ?) ORDER BY next_digest_at, id",
                ("daily", now.isoformat()),
            )
        )
        db.close()
    expected = expected_due(subs, now)
    scans = "SCAN subscriptions" in plan and "USING" not in plan
    return Row(
        "SQLite store",
        f"{elapsed * 1000:.0f} ms",
        f"{len(due)} due of {expected} expected",
        "index search, no scan",
        not scans and len(due) == expected,
        f"plan (the store's query, copied here): {plan}",
    )


def main() -> None:
    """The due-digest selection among 10,000 subscriptions on both stores, one table."""
    now = datetime.now(UTC)
    subs = population(now)
    rows = [bench_dynamodb(subs, now), bench_sqlite(subs, now)]
    print_table(f"due digests among {SUBSCRIPTIONS:,} subscriptions", rows)


if __name__ == "__main__":
    main()
