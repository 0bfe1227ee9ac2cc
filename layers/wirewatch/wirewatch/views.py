"""Domain records as JSON, for the API (the shapes api/openapi.yaml documents) and `wirewatch --json`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from wirewatch.feeds.text import plain_line
from wirewatch.models import PREFERENCE_FIELDS, Feed, Item, Story, Subscription


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_view(item: Item) -> dict[str, Any]:
    c = item.classification
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "summary": item.summary,
        "source": item.source,
        "feed_id": item.feed_id,
        "language": item.language,
        "published": _time(item.published),
        "first_seen": _time(item.first_seen),
        "topics": list(c.topics),
        "severity": c.severity,
        "severity_reason": c.severity_reason,
        "scores": dict(c.scores),
        "facts": dict(c.facts),
        "evidence": [asdict(e) for e in c.evidence],
        "story_id": item.story_id,
        "suppressed": item.suppressed,
    }


def story_view(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "topics": list(story.topics),
        "severity": story.severity,
        "severity_reason": story.severity_reason,
        "first_seen": _time(story.first_seen),
        "last_seen": _time(story.last_seen),
        "sources": [{**asdict(s), "published": _time(s.published)} for s in story.sources],
        "facts": dict(story.facts),
        "evidence": [asdict(e) for e in story.evidence],
        "alerted": story.alerted,
    }


def feed_view(feed: Feed, items_24h: int = 0, relevant_24h: int = 0) -> dict[str, Any]:
    if not feed.enabled:
        health = "disabled"
    elif feed.last_attempt is None:
        health = "never_polled"
    elif feed.consecutive_failures:
        health = "failing"
    else:
        health = "ok"
    return {
        "id": feed.id,
        "url": feed.url,
        "name": feed.name,
        "language": feed.language,
        "enabled": feed.enabled,
        "health": {
            "status": health,
            "last_success": _time(feed.last_success),
            "last_attempt": _time(feed.last_attempt),
            "last_status": feed.last_status,
            "last_error": plain_line(feed.last_error) if feed.last_error else None,
            "consecutive_failures": feed.consecutive_failures,
            "next_attempt": _time(feed.next_attempt),
            "disabled_reason": feed.disabled_reason,
            "items_24h": items_24h,
            "relevant_items_24h": relevant_24h,
        },
    }


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def subscription_view(sub: Subscription) -> dict[str, Any]:
    # A Slack target is the name of the secret holding the webhook, never the webhook itself.
    return {
        "id": sub.id,
        "channel": sub.channel,
        "target": sub.target,
        **{name: _json_value(getattr(sub, name)) for name in PREFERENCE_FIELDS},
        "status": sub.status,
        # A provider's error text: control and bidi characters never reach a terminal or a page.
        "failure_reason": plain_line(sub.failure_reason) if sub.failure_reason else None,
        "last_digest_at": _time(sub.last_digest_at),
        "next_digest_at": _time(sub.next_digest_at),
        "created_at": _time(sub.created_at),
    }


def delivery_view(record: dict[str, Any]) -> dict[str, Any]:
    attempts = record.get("send_attempts", record.get("attempts"))
    return {
        "key": record["key"],
        "channel": record.get("channel"),
        "status": record.get("status"),
        "attempts": int(attempts) if attempts is not None else None,
        "detail": record.get("detail"),
        "provider_id": record.get("provider_id"),
        "updated_at": record.get("updated_at"),
    }
