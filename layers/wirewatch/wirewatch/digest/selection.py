"""Which stories go into a subscription's digest, and when its next digest is due (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from wirewatch.models import Story, Subscription, severity_rank
from wirewatch.policy import parse_clock, subscriber_zone, topic_match
from wirewatch.policy import should_alert as should_alert  # moved to policy.py; kept for callers not yet moved

HOURLY = timedelta(hours=1)


def select_stories(stories: Sequence[Story], sub: Subscription, since: datetime, until: datetime) -> list[Story]:
    """Stories for a digest: matching topics and severity, last seen in (since, until], most severe first."""
    floor = severity_rank(sub.min_severity)
    chosen = [
        story
        for story in stories
        if topic_match(story, sub)
        and severity_rank(story.severity) >= floor
        and severity_rank(story.severity) > 0
        and since < story.last_seen <= until
    ]
    chosen.sort(key=lambda s: s.id)
    chosen.sort(key=lambda s: (severity_rank(s.severity), s.last_seen), reverse=True)
    return chosen


def next_digest_due(sub: Subscription, after: datetime) -> datetime:
    """When the digest after `after` is due: the next full hour, or the next HH:MM in the subscriber's zone.

    A digest covers (last digest, this instant]; the store keeps the instant, so a due digest is one
    index query away. A daily time that DST skips moves past the jump (02:30 → 03:30 EDT) and fires once.
    """
    if sub.cadence == "hourly":
        return after.replace(minute=0, second=0, microsecond=0) + HOURLY
    zone = subscriber_zone(sub)
    at = parse_clock(sub.daily_at)
    local = after.astimezone(zone)
    for days in range(0, 3):
        candidate = datetime.combine(local.date() + timedelta(days=days), at, tzinfo=zone)
        # Round-tripping through UTC resolves a wall time that DST skips or repeats.
        candidate = candidate.astimezone(UTC).astimezone(zone)
        if candidate > local:
            return candidate.astimezone(after.tzinfo)
    raise AssertionError("unreachable: a daily time always recurs within two days")
