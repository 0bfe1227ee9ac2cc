"""Who is sent what now: the urgent-alert policy and quiet hours, in the subscriber's time (pure)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wirewatch.models import Story, Subscription, severity_rank


def subscriber_zone(sub: Subscription) -> ZoneInfo:
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


def topic_match(story: Story, sub: Subscription) -> bool:
    """Whether the story is about a topic the subscription follows."""
    return bool(set(story.topics) & set(sub.topics))


def in_quiet_hours(sub: Subscription, now: datetime) -> bool:
    """Whether `now` falls in the subscription's quiet hours (local time; may wrap midnight)."""
    if not sub.quiet_hours:
        return False
    start, end = (parse_clock(value) for value in sub.quiet_hours)
    if start == end:
        return False
    local = now.astimezone(subscriber_zone(sub)).time().replace(tzinfo=None)
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
    if sub.status != "active" or story.severity != "urgent" or not topic_match(story, sub):
        return False
    if severity_rank(story.severity) < severity_rank(sub.min_severity):
        return False
    if sub.cadence == "immediate":
        return True
    return sub.urgent_in_quiet_hours or not in_quiet_hours(sub, now)
