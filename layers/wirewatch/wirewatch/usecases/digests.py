"""Scheduled digests: due subscriptions, their window, the matching stories, sent once per window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from wirewatch.digest.selection import in_quiet_hours, next_digest_due, select_stories
from wirewatch.models import DIGEST_CADENCES, Story, Subscription
from wirewatch.usecases.delivery import Postman
from wirewatch.usecases.messages import Composer

_CADENCE_SPAN = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


class DigestStore(Protocol):
    def due_subscriptions(self, cadence: str, now: datetime) -> list[Subscription]: ...
    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]: ...
    def advance_digest(self, sub: Subscription, last_digest_at: datetime, next_digest_at: datetime) -> bool: ...


@dataclass(frozen=True)
class DigestReport:
    due: int = 0
    sent: int = 0
    empty: int = 0
    deferred: int = 0
    failed: int = 0
    pending: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "sent": self.sent,
            "empty": self.empty,
            "deferred": self.deferred,
            "failed": self.failed,
            "pending": list(self.pending),
        }


def run_due_digests(
    *, store: DigestStore, postman: Postman, composer: Composer, send_empty: bool, now: datetime
) -> DigestReport:
    """Send every digest that is due. A window is keyed by its end, so a rerun sends nothing twice."""
    due = sent = empty = deferred = failed = 0
    pending: list[str] = []
    for cadence in DIGEST_CADENCES:
        for sub in store.due_subscriptions(cadence, now):
            due += 1
            outcome = send_digest(sub, store=store, postman=postman, composer=composer, send_empty=send_empty, now=now)
            sent += outcome == "sent"
            empty += outcome == "empty"
            deferred += outcome == "deferred"
            failed += outcome == "failed"
            if outcome == "retry":
                pending.append(sub.id)
    return DigestReport(due, sent, empty, deferred, failed, tuple(pending))


def send_digest(
    sub: Subscription, *, store: DigestStore, postman: Postman, composer: Composer, send_empty: bool, now: datetime
) -> str:
    """Send one due digest and move the subscription's window on; returns what happened."""
    until = sub.next_digest_at or now
    since = sub.last_digest_at or until - _CADENCE_SPAN.get(sub.cadence, timedelta(days=1))
    if sub.cadence == "hourly" and in_quiet_hours(sub, until):
        # Hold the window open: what arrives in quiet hours goes into the first digest after them.
        store.advance_digest(sub, since, next_digest_due(sub, until))
        return "deferred"
    stories = select_stories(store.stories_seen_between(since, until), sub, since, until)
    outcome = "empty"
    if stories or send_empty:
        delivery = postman.deliver(
            sub, f"DIGEST#{until.isoformat()}", composer.digest(sub, stories, (since, until), now), now
        )
        if delivery.status == "retry":
            return "retry"  # the window stays due; the next tick tries again
        outcome = "failed" if delivery.status == "failed" else "sent"
    store.advance_digest(sub, until, next_digest_due(sub, until))
    return outcome
