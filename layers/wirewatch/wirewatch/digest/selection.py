"""Which stories go into a subscription's digest, when a digest is due, and when to alert (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wirewatch.models import Story, Subscription, severity_rank

HOURLY = timedelta(hours=1)


def _zone(sub: Subscription) -> ZoneInfo:
    try:
        return ZoneInfo(sub.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"subscription {sub.id} has an unknown time zone {sub.timezone!r}") from exc


def parse_clock(value: str) -> time:
    """A wall-clock time from "HH:MM" (24-hour); ValueError when malformed."""
    hours, sep, minutes = value.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return time(int(hours), int(minutes))


def _topic_match(story: Story, sub: Subscription) -> bool:
    return bool(set(story.topics) & set(sub.topics))


def select_stories(stories: Sequence[Story], sub: Subscription, since: datetime, until: datetime) -> list[Story]:
    """Stories for a digest: matching topics and severity, last seen in (since, until], most severe first."""
    floor = severity_rank(sub.min_severity)
    chosen = [
        story
        for story in stories
        if _topic_match(story, sub)
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
    zone = _zone(sub)
    at = parse_clock(sub.daily_at)
    local = after.astimezone(zone)
    for days in range(0, 3):
        candidate = datetime.combine(local.date() + timedelta(days=days), at, tzinfo=zone)
        # Round-tripping through UTC resolves a wall time that DST skips or repeats.
        candidate = candidate.astimezone(UTC).astimezone(zone)
        if candidate > local:
            return candidate.astimezone(after.tzinfo)
    raise AssertionError("unreachable: a daily time always recurs within two days")


def in_quiet_hours(sub: Subscription, now: datetime) -> bool:
    """Whether `now` falls in the subscription's quiet hours (local time; may wrap midnight)."""
    if not sub.quiet_hours:
        return False
    start, end = (parse_clock(value) for value in sub.quiet_hours)
    if start == end:
        return False
    local = now.astimezone(_zone(sub)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def should_alert(sub: Subscription, story: Story, now: datetime) -> bool:
    """Whether an urgent story is pushed to `sub` now rather than waiting for its digest.

    Every active subscription whose topics match and whose minimum severity admits the story is
    alerted about an urgent story: `immediate` ones always (they have no digest to catch up with,
    so holding the alert back would lose it), hourly and daily ones unless it is their quiet hours
    and they have turned the urgent bypass off, in which case the story waits for the next digest.
    """
    if sub.status != "active" or story.severity != "urgent" or not _topic_match(story, sub):
        return False
    if severity_rank(story.severity) < severity_rank(sub.min_severity):
        return False
    if sub.cadence == "immediate":
        return True
    return sub.urgent_in_quiet_hours or not in_quiet_hours(sub, now)
