"""The living story: one parent message per story and subscription, a threaded follow-up when it changes.

A subscription on a threading channel (slack-app, webhook) gets a parent message for a story it
wants, then, after each poll, one reply gathering everything a reader cares about that changed
(a new source, revised facts, a raised severity, a sanctions or UN response joining the story),
and, where the channel can edit, the parent brought up to date.

Exactly once through the delivery ledger, with keys

    THREAD#<story>#parent              the parent; provider_id is its Slack ts (or webhook message id)
    THREAD#<story>#reply#<digest>      a follow-up; <digest> hashes what the story now shows
    THREAD#<story>#update#<digest>     the parent edited to that state

Each sent parent or reply keeps, as its ledger detail, the snapshot of the story it reported; the
next poll compares the story with the newest snapshot. A retried or duplicate poll finds nothing
new (or a key already sent) and posts nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from wirewatch.delivery.result import SendResult
from wirewatch.logs import logger
from wirewatch.models import Story, Subscription, flatten_facts, severity_rank
from wirewatch.usecases.delivery import send_once

THREAD_CHANNELS: tuple[str, ...] = ("slack-app", "webhook")
# What a reader of a missile story wants to hear revised.
MISSILE_FACTS: tuple[str, ...] = ("missile_class", "missile_name", "count", "landed", "over_japan")
# The facts of a sanctions or UN response (a Security Council meeting, a resolution, a designation).
RESPONSE_FACTS: tuple[str, ...] = ("body", "action", "resolution", "measures", "targets")


class ThreadLedger(Protocol):
    def claim_delivery(self, sub_id: str, key: str, channel: str, now: datetime, lease: Any) -> bool: ...
    def record_delivery(
        self, sub_id: str, key: str, *, status: str, attempts: int, detail: str, provider_id: str | None, now: datetime
    ) -> None: ...
    def deliveries(self, sub_id: str) -> list[dict[str, Any]]: ...
    def set_status(self, sub_id: str, status: str, reason: str | None = None) -> Subscription | None: ...


@dataclass(frozen=True)
class Change:
    """One thing a reader cares about that changed: kind is source, facts, severity or response."""

    kind: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowUp:
    """The one reply a poll gives a thread: its changes, and whether it goes to the channel too."""

    changes: tuple[Change, ...]
    broadcast: bool


class ThreadChannel(Protocol):
    """A channel that can post a parent and replies under it (and maybe edit the parent)."""

    def post_parent(self, sub: Subscription, story: Story) -> SendResult: ...
    def post_follow_up(self, sub: Subscription, story: Story, parent_id: str, follow_up: FollowUp) -> SendResult: ...
    def update_parent(self, sub: Subscription, story: Story, parent_id: str) -> SendResult | None: ...


@dataclass(frozen=True)
class Snapshot:
    """What a thread last told its reader about a story."""

    sources: tuple[str, ...]
    severity: str
    topics: tuple[str, ...]
    facts: Mapping[str, Any]
    seq: int = 0

    def digest(self) -> str:
        """A short hash of the content (not the sequence number): equal states get equal ledger keys."""
        content = json.dumps([self.sources, self.severity, self.topics, dict(self.facts)], sort_keys=True, default=str)
        return hashlib.sha256(content.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "seq": self.seq,
                "sources": self.sources,
                "severity": self.severity,
                "topics": self.topics,
                "facts": dict(self.facts),
            },
            sort_keys=True,
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> Snapshot | None:
        try:
            data = json.loads(text)
            return cls(
                sources=tuple(data["sources"]),
                severity=str(data["severity"]),
                topics=tuple(data["topics"]),
                facts=dict(data["facts"]),
                seq=int(data["seq"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def snapshot(story: Story, seq: int = 0) -> Snapshot:
    """The parts of a story a follow-up reports on."""
    flat = flatten_facts(story.facts)
    tracked = {k: _plain(flat[k]) for k in (*MISSILE_FACTS, *RESPONSE_FACTS) if k in flat}
    return Snapshot(
        sources=tuple(sorted({s.item_id for s in story.sources})),
        severity=story.severity,
        topics=tuple(sorted(story.topics)),
        facts=tracked,
        seq=seq,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def follow_up_due(before: Snapshot, story: Story) -> FollowUp | None:
    """The reply a story's change since `before` calls for, or None when nothing a reader cares about changed."""
    after = snapshot(story)
    changes: list[Change] = []
    new_ids = set(after.sources) - set(before.sources)
    for source in sorted(story.sources, key=lambda s: (s.published, s.item_id)):
        if source.item_id in new_ids:
            changes.append(
                Change(
                    "source",
                    f"{source.source}: {source.title}",
                    {"source": source.source, "title": source.title, "link": source.link},
                )
            )
    revised = {
        k: (before.facts.get(k), after.facts[k])
        for k in MISSILE_FACTS
        if k in after.facts and before.facts.get(k) != after.facts[k]
    }
    if revised:
        text = ", ".join(_revision(k, old, new) for k, (old, new) in revised.items())
        changes.append(Change("facts", text, {k: new for k, (_, new) in revised.items()}))
    if severity_rank(after.severity) > severity_rank(before.severity):
        changes.append(
            Change(
                "severity",
                f"severity raised to {after.severity} (was {before.severity})",
                {"from": before.severity, "to": after.severity},
            )
        )
    response = {k: after.facts[k] for k in RESPONSE_FACTS if k in after.facts and before.facts.get(k) != after.facts[k]}
    joined_sanctions = "sanctions" in after.topics and "sanctions" not in before.topics
    if response or joined_sanctions:
        shown = ", ".join(_shown(v) for v in response.values()) or "sanctions"
        changes.append(Change("response", f"response: {shown}", dict(response)))
    if not changes:
        return None
    broadcast = after.severity == "urgent" and before.severity != "urgent"
    return FollowUp(tuple(changes), broadcast)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _revision(key: str, old: Any, new: Any) -> str:
    name = key.replace("_", " ")
    if key == "over_japan":
        return "flew over Japan" if new is True else "did not fly over Japan"
    return f"{name} {_shown(new)}" + (f" (was {_shown(old)})" if old not in (None, "") else "")


def wants_thread(sub: Subscription, story: Story, should_alert: Callable[[Subscription, Story], bool]) -> bool:
    """Whether `sub` gets a parent message for `story`: an immediate subscription from its minimum severity,
    any other only for what its urgent alerts admit."""
    if sub.channel not in THREAD_CHANNELS or sub.status != "active":
        return False
    if not set(story.topics) & set(sub.topics) or story.severity == "none":
        return False
    if sub.cadence == "immediate" and severity_rank(story.severity) >= severity_rank(sub.min_severity):
        return True
    return should_alert(sub, story)


@dataclass(frozen=True)
class ThreadOutcome:
    """What one story's thread did for one subscription: parent, reply, unchanged, skipped, retry or failed."""

    status: str
    detail: str = ""
    provider_id: str | None = None


class StoryThreads:
    """Posts parents and follow-ups through the ledger, once per state of each story and subscription."""

    def __init__(
        self,
        ledger: ThreadLedger,
        channels: Mapping[str, Callable[[], ThreadChannel]],
        *,
        on_failure: Callable[[Subscription, str], None] = lambda sub, reason: None,
    ) -> None:
        self._ledger = ledger
        self._channels = channels
        self._on_failure = on_failure

    def advance(self, sub: Subscription, story: Story, now: datetime) -> ThreadOutcome:
        """Post the story's parent if it has none yet, else the follow-up its changes call for (if any)."""
        prefix = f"THREAD#{story.id}#"
        entries = {d["key"]: d for d in self._ledger.deliveries(sub.id) if str(d.get("key", "")).startswith(prefix)}
        parent = entries.get(prefix + "parent")
        channel = self._channels[sub.channel]()
        if parent is None or parent.get("status") != "sent" or not parent.get("provider_id"):
            return self._send(sub, prefix + "parent", snapshot(story), lambda: channel.post_parent(sub, story), now)
        parent_id = str(parent["provider_id"])
        before = _latest(entries.values())
        if before is None:
            logger.warning("thread snapshot unreadable", extra={"subscription": sub.id, "story": story.id})
            return ThreadOutcome("unchanged", "no readable snapshot")
        follow_up = follow_up_due(before, story)
        after = snapshot(story, before.seq + 1)
        if follow_up is None:
            # The last reply went out but its edit of the parent did not (yet): finish that.
            pending_update = prefix + f"update#{before.digest()}"
            if before.seq > 0 and not _sent(entries, pending_update):
                self._update(sub, story, channel, parent_id, pending_update, now)
            return ThreadOutcome("unchanged")
        outcome = self._send(
            sub,
            prefix + f"reply#{after.digest()}",
            after,
            lambda: channel.post_follow_up(sub, story, parent_id, follow_up),
            now,
            reply=True,
        )
        if outcome.status == "reply":
            self._update(sub, story, channel, parent_id, prefix + f"update#{after.digest()}", now)
        return outcome

    def _send(
        self,
        sub: Subscription,
        key: str,
        state: Snapshot,
        send: Callable[[], SendResult],
        now: datetime,
        *,
        reply: bool = False,
    ) -> ThreadOutcome:
        result = send_once(self._ledger, sub, key, send, now, on_failure=self._on_failure, sent_detail=state.to_json())
        if result is None:
            return ThreadOutcome("skipped")
        if result.status == "failed":
            return ThreadOutcome("failed", result.detail)
        if result.status == "retry":
            return ThreadOutcome("retry", result.detail)
        return ThreadOutcome("reply" if reply else "parent", provider_id=result.provider_id)

    def _update(
        self, sub: Subscription, story: Story, channel: ThreadChannel, parent_id: str, key: str, now: datetime
    ) -> None:
        def edit() -> SendResult:
            edited = channel.update_parent(sub, story, parent_id)
            return edited if edited is not None else SendResult("sent", attempts=0, detail="channel does not edit")

        send_once(self._ledger, sub, key, edit, now, on_failure=self._on_failure)


def _sent(entries: Mapping[str, Mapping[str, Any]], key: str) -> bool:
    return entries.get(key, {}).get("status") == "sent"


def _latest(entries: Iterable[Mapping[str, Any]]) -> Snapshot | None:
    snapshots = [
        Snapshot.from_json(str(e.get("detail", "")))
        for e in entries
        if e.get("status") == "sent" and ("#parent" in e["key"] or "#reply#" in e["key"])
    ]
    readable = [s for s in snapshots if s is not None]
    return max(readable, key=lambda s: s.seq) if readable else None


@dataclass(frozen=True)
class ThreadReport:
    parents: int = 0
    replies: int = 0
    failed: int = 0
    pending: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"parents": self.parents, "replies": self.replies, "failed": self.failed, "pending": list(self.pending)}


def follow_stories(
    stories: Sequence[Story],
    subs: Sequence[Subscription],
    *,
    threads: StoryThreads,
    should_alert: Callable[[Subscription, Story], bool],
    now: datetime,
) -> ThreadReport:
    """Advance every (story, threading subscription) pair: run after each poll; reruns post nothing twice."""
    parents = replies = failed = 0
    pending: list[str] = []
    for story in stories:
        for sub in subs:
            if not wants_thread(sub, story, should_alert):
                continue
            outcome = threads.advance(sub, story, now)
            if outcome.status == "parent":
                parents += 1
            elif outcome.status == "reply":
                replies += 1
            elif outcome.status == "failed":
                failed += 1
            elif outcome.status == "retry":
                pending.append(f"{sub.id}/{story.id}")
    return ThreadReport(parents, replies, failed, tuple(pending))
