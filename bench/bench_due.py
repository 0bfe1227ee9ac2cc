"""Selecting due subscriptions among 10,000: GSI queries against moto, never a Scan.

Run: `.venv/bin/python -m bench.bench_due` (also part of `make bench`).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

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


def main() -> None:
    """Load 10,000 subscriptions into moto, then time the due-digest selection and count its requests."""
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
        now = datetime.now(UTC)
        subs = population(now)
        repo = runtime.repository()
        repo._batch_put([subscription_to_record(s) for s in subs])
        calls: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call.dynamodb.*", count)
        start = time.perf_counter()
        due = [s for cadence in DIGEST_CADENCES for s in repo.due_subscriptions(cadence, now)]
        elapsed = time.perf_counter() - start
    expected = sum(
        1
        for s in subs
        if s.status == "active" and s.cadence in DIGEST_CADENCES and s.next_digest_at <= now  # type: ignore[operator]
    )
    verdict = "ok" if calls["Scan"] == 0 and len(due) == expected else "FAILED"
    print(f"due subscriptions among {SUBSCRIPTIONS:,}: {len(due)} due (expected {expected}) in {elapsed * 1000:.0f} ms")
    print(f"  requests: {dict(calls)} — goal: queries, not scans: {verdict}")


if __name__ == "__main__":
    main()
