"""Urgent alerts: one message per story per subscription, as soon as a story turns urgent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from wirewatch.logs import logger
from wirewatch.models import Story, Subscription
from wirewatch.policy import should_alert
from wirewatch.usecases.delivery import Message, Postman
from wirewatch.usecases.threads import THREAD_CHANNELS, StoryThreads, ThreadReport, follow_stories


class AlertStore(Protocol):
    def get_story(self, story_id: str) -> Story | None: ...
    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]: ...
    def active_subscriptions(self) -> list[Subscription]: ...
    def mark_story_alerted(self, story_id: str) -> None: ...


@dataclass(frozen=True)
class AlertReport:
    story_id: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    # Subscriptions whose send must be tried again (rate limited, provider down).
    pending: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "story": self.story_id,
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
            "pending": list(self.pending),
        }


def alert_story(
    story_id: str,
    *,
    store: AlertStore,
    postman: Postman,
    compose: Callable[[Subscription, Story], Message],
    now: datetime,
    threads: StoryThreads | None = None,
) -> AlertReport:
    """Alert every subscription that wants this urgent story now; the ledger makes reruns send nothing twice.

    The story is flagged alerted only when no send is pending, so a retry of the invocation (stream
    retry, DLQ redrive) finishes the job. Later sources joining the story don't alert again: they
    reach subscribers in the next digest, except on threading channels (slack-app, webhook): with
    `threads`, those get the story's parent and its threaded follow-ups (usecases/threads.py).
    """
    story = store.get_story(story_id)
    if story is None:
        return AlertReport(story_id)
    threaded = ThreadReport()
    if threads is not None:
        threaded = follow_stories(
            [story],
            store.active_subscriptions(),
            threads=threads,
            should_alert=lambda sub, st: should_alert(sub, st, now),
            now=now,
        )
    if story.severity != "urgent" or story.alerted:
        return AlertReport(
            story_id, threaded.parents + threaded.replies, failed=threaded.failed, pending=threaded.pending
        )
    sent, skipped, failed = threaded.parents + threaded.replies, 0, threaded.failed
    pending: list[str] = list(threaded.pending)
    for sub in store.active_subscriptions():
        if sub.channel in THREAD_CHANNELS or not should_alert(sub, story, now):
            continue
        try:
            message = compose(sub, story)
        except ValueError as exc:
            # One subscription's message that cannot be built (a bad setting) costs no other its alert.
            logger.warning("alert not composed", extra={"subscription": sub.id, "story": story.id, "error": str(exc)})
            pending.append(sub.id)
            continue
        delivery = postman.deliver(sub, f"ALERT#{story.id}", message, now)
        if delivery.status == "sent":
            sent += 1
        elif delivery.status == "skipped":
            skipped += 1
        elif delivery.status == "failed":
            failed += 1
        else:
            pending.append(sub.id)
    if not pending:
        store.mark_story_alerted(story.id)
    return AlertReport(story.id, sent, skipped, failed, tuple(pending))


def alert_pending(
    *,
    store: AlertStore,
    postman: Postman,
    compose: Callable[[Subscription, Story], Message],
    window: timedelta,
    now: datetime,
    threads: StoryThreads | None = None,
) -> list[AlertReport]:
    """Alert every urgent story active within `window` that is not flagged alerted yet (one machine's alert step).

    On AWS the table's stream starts alert_story; on one machine this runs after each poll, and it
    also retries the sends an earlier run left pending.
    """
    stories = store.stories_seen_between(now - window, now)
    reports = [
        alert_story(s.id, store=store, postman=postman, compose=compose, now=now, threads=threads)
        for s in stories
        if threads is not None or (s.severity == "urgent" and not s.alerted)
    ]
    # With threads every recent story is looked at; report only those that were due or did something.
    due = {s.id for s in stories if s.severity == "urgent" and not s.alerted}
    return [r for r in reports if r.story_id in due or r.sent or r.failed or r.pending]
