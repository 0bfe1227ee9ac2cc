"""Scheduled digests: due subscriptions, their window, the matching stories, sent once per window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from wirewatch.digest.selection import next_digest_due, select_stories
from wirewatch.errors import NotActive, NotFound
from wirewatch.logs import logger
from wirewatch.models import DIGEST_CADENCES, Story, Subscription
from wirewatch.policy import in_quiet_hours
from wirewatch.usecases.delivery import EmailMessage, Postman, SlackMessages
from wirewatch.usecases.messages import Composer

_CADENCE_SPAN = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


class DigestStore(Protocol):
    def due_subscriptions(self, cadence: str, now: datetime) -> list[Subscription]: ...
    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]: ...
    def advance_digest(self, sub: Subscription, last_digest_at: datetime, next_digest_at: datetime) -> bool: ...
    def get_subscription(self, sub_id: str) -> Subscription | None: ...
    def update_subscription(
        self, sub_id: str, change: Callable[[Subscription], Subscription]
    ) -> tuple[Subscription, Subscription] | None: ...


class PreviewStore(Protocol):
    def get_subscription(self, sub_id: str) -> Subscription | None: ...
    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]: ...


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
    sub: Subscription,
    *,
    store: DigestStore,
    postman: Postman,
    composer: Composer,
    send_empty: bool,
    now: datetime,
    until: datetime | None = None,
) -> str:
    """Send one digest, for the window that ends at `until` (default: when it is due), and move the window on."""
    until = until or sub.next_digest_at or now
    since = sub.last_digest_at or until - _CADENCE_SPAN.get(sub.cadence, timedelta(days=1))
    if sub.cadence == "hourly" and in_quiet_hours(sub, until):
        # Hold the window open: what arrives in quiet hours goes into the first digest after them.
        _move_window(store, sub, since, until)
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
    _move_window(store, sub, until, until)
    return outcome


def _move_window(store: DigestStore, sub: Subscription, last_digest_at: datetime, due_from: datetime) -> None:
    """Start the next window at last_digest_at; a lost conditional write is redone over the fresh record, or logged.

    An edit or a failure record that raced the send moved the stored record: the window still moves,
    over what is stored now. Another digest run that already moved it, or an unsubscribe, wins.
    """
    if store.advance_digest(sub, last_digest_at, next_digest_due(sub, due_from)):
        return

    def move(current: Subscription) -> Subscription:
        if current.status != "active" or current.last_digest_at != sub.last_digest_at:
            return current
        return replace(current, last_digest_at=last_digest_at, next_digest_at=next_digest_due(current, due_from))

    changed = store.update_subscription(sub.id, move)
    if changed is None or changed[0] == changed[1]:
        stored = changed[1] if changed else None
        logger.warning(
            "digest window not moved",
            extra={
                "subscription": sub.id,
                "status": stored.status if stored else "deleted",
                "stored_last_digest_at": str(stored.last_digest_at) if stored else None,
            },
        )


def send_digest_now(
    sub_id: str, *, store: DigestStore, postman: Postman, composer: Composer, now: datetime
) -> tuple[Subscription, str]:
    """Send a subscription its digest now, as a scheduled run would: the window ends now and moves on.

    Only an active subscription gets one (a pending one has not opted in, an unsubscribed one opted out).
    """
    sub = store.get_subscription(sub_id)
    if sub is None:
        raise NotFound(sub_id)
    if sub.status != "active":
        raise NotActive(sub.id, sub.status)
    return sub, send_digest(sub, store=store, postman=postman, composer=composer, send_empty=True, now=now, until=now)


# Previews without a subscription are of every topic, as an email digest.
PREVIEW_SUBSCRIPTION = Subscription(id="preview", channel="email", target="preview@example.com", status="active")


@dataclass(frozen=True)
class DigestPreview:
    subscription: Subscription
    window: tuple[datetime, datetime]
    stories: tuple[Story, ...]
    email: EmailMessage
    slack: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        since, until = self.window
        return {
            "subscription_id": self.subscription.id,
            "window": {"since": since.isoformat(), "until": until.isoformat()},
            "stories": len(self.stories),
            "email": {"subject": self.email.subject, "html": self.email.html, "text": self.email.text},
            "slack": list(self.slack),
        }


def preview_digest(
    sub_id: str | None, *, store: PreviewStore, composer: Composer, now: datetime, since: datetime | None = None
) -> DigestPreview:
    """The digest a subscription would get now (since its last one, or `since`), in both channels; nothing is sent."""
    if sub_id is None:
        sub = PREVIEW_SUBSCRIPTION
    else:
        found = store.get_subscription(sub_id)
        if found is None:
            raise NotFound(sub_id)
        sub = found
    since = since or sub.last_digest_at or now - timedelta(days=1)
    stories = select_stories(store.stories_seen_between(since, now), sub, since, now)
    email = composer.digest(replace(sub, channel="email"), stories, (since, now), now)
    slack = composer.digest(replace(sub, channel="slack"), stories, (since, now), now)
    assert isinstance(email, EmailMessage) and isinstance(slack, SlackMessages)
    return DigestPreview(sub, (since, now), tuple(stories), email, tuple(slack.payloads))
