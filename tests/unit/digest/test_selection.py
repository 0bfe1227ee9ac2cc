"""Digest selection, due windows, quiet hours and alert decisions across time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.digest.builders import NOW, story, subscription
from wirewatch.digest.selection import next_digest_due, select_stories
from wirewatch.policy import in_quiet_hours, should_alert

SINCE = NOW - timedelta(days=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ selection


def test_select_keeps_matching_topics_and_severity_in_the_window() -> None:
    sub = subscription(topics=("missile",), min_severity="high")
    stories = [
        story("match", "launch", severity="high"),
        story("other-topic", "sanctions", topics=("sanctions",)),
        story("too-minor", "minor", severity="normal"),
        story("too-old", "old", last_seen=SINCE),
        story("future", "later", last_seen=NOW + timedelta(seconds=1)),
        story("at-until", "edge", last_seen=NOW),
        story("both-topics", "mixed", topics=("sanctions", "missile"), severity="urgent"),
    ]
    chosen = [s.id for s in select_stories(stories, sub, SINCE, NOW)]

    assert chosen == ["both-topics", "at-until", "match"]


def test_select_orders_by_severity_then_recency() -> None:
    sub = subscription(min_severity="normal")
    stories = [
        story("normal-new", "a", severity="normal", last_seen=NOW - timedelta(minutes=1)),
        story("high-old", "b", severity="high", last_seen=NOW - timedelta(hours=5)),
        story("urgent-old", "c", severity="urgent", last_seen=NOW - timedelta(hours=9)),
        story("high-new", "d", severity="high", last_seen=NOW - timedelta(hours=1)),
    ]
    chosen = [s.id for s in select_stories(stories, sub, SINCE, NOW)]

    assert chosen == ["urgent-old", "high-new", "high-old", "normal-new"]


def test_select_never_includes_irrelevant_stories_even_at_minimum_none() -> None:
    sub = subscription(min_severity="none")
    assert select_stories([story("x", "noise", severity="none")], sub, SINCE, NOW) == []


# ------------------------------------------------------------------------------------------ windows


def test_hourly_digests_fall_due_on_the_next_full_hour() -> None:
    sub = subscription(cadence="hourly")
    assert next_digest_due(sub, utc(2025, 7, 9, 9, 0) + timedelta(seconds=5)) == utc(2025, 7, 9, 10, 0)
    assert next_digest_due(sub, utc(2025, 7, 9, 9, 59)) == utc(2025, 7, 9, 10, 0)


def test_daily_tokyo_digest_is_due_at_eight_local() -> None:
    sub = subscription(daily_at="08:00")  # Asia/Tokyo
    assert next_digest_due(sub, utc(2025, 7, 9, 22, 59)) == utc(2025, 7, 9, 23, 0)  # 07:59 → 08:00 JST
    # a digest sent at 08:00 makes the next one tomorrow's, not today's again
    assert next_digest_due(sub, utc(2025, 7, 9, 23, 0)) == utc(2025, 7, 10, 23, 0)


def test_new_daily_subscription_waits_for_its_first_slot() -> None:
    created = utc(2025, 7, 9, 1, 0)  # 10:00 JST, after that day's slot
    assert next_digest_due(subscription(daily_at="08:00"), created) == utc(2025, 7, 9, 23, 0)


@pytest.mark.parametrize(
    ("day_before", "slot_utc"),
    [
        (utc(2025, 3, 8, 13, 0), utc(2025, 3, 9, 12, 0)),  # spring forward: 08:00 EST, then 08:00 EDT
        (utc(2025, 11, 1, 12, 0), utc(2025, 11, 2, 13, 0)),  # fall back: 08:00 EDT, then 08:00 EST
    ],
)
def test_daily_new_york_digest_follows_local_time_across_dst(day_before: datetime, slot_utc: datetime) -> None:
    sub = subscription(timezone="America/New_York", daily_at="08:00")
    assert next_digest_due(sub, day_before) == slot_utc


def test_daily_slot_in_a_skipped_dst_hour_still_fires_once() -> None:
    # 02:30 does not exist in New York on 9 March 2025; the digest goes out at 03:30 EDT, then next day.
    sub = subscription(timezone="America/New_York", daily_at="02:30")
    slot = next_digest_due(sub, utc(2025, 3, 8, 7, 30))
    assert slot == utc(2025, 3, 9, 7, 30)
    assert next_digest_due(sub, slot) == utc(2025, 3, 10, 6, 30)


def test_bad_time_zone_or_clock_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="time zone"):
        next_digest_due(subscription(timezone="Mars/Olympus"), NOW)
    with pytest.raises(ValueError, match="HH:MM"):
        next_digest_due(subscription(daily_at="8am"), NOW)


# ------------------------------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (utc(2025, 7, 9, 14, 30), True),  # 23:30 JST
        (utc(2025, 7, 9, 21, 59), True),  # 06:59 JST
        (utc(2025, 7, 9, 22, 0), False),  # 07:00 JST: quiet hours end
        (utc(2025, 7, 9, 13, 0), True),  # 22:00 JST: quiet hours start
        (utc(2025, 7, 9, 3, 0), False),  # 12:00 JST
    ],
)
def test_quiet_hours_wrap_midnight_in_tokyo(moment: datetime, quiet: bool) -> None:
    sub = subscription(quiet_hours=("22:00", "07:00"))
    assert in_quiet_hours(sub, moment) is quiet


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (utc(2025, 1, 15, 3, 30), True),  # 22:30 EST
        (utc(2025, 1, 15, 12, 30), False),  # 07:30 EST
        (utc(2025, 7, 15, 2, 30), True),  # 22:30 EDT
        (utc(2025, 7, 15, 11, 30), False),  # 07:30 EDT
        (utc(2025, 7, 15, 10, 30), True),  # 06:30 EDT (would be 05:30 EST: the zone matters)
    ],
)
def test_quiet_hours_follow_new_york_dst(moment: datetime, quiet: bool) -> None:
    sub = subscription(timezone="America/New_York", quiet_hours=("22:00", "07:00"))
    assert in_quiet_hours(sub, moment) is quiet


def test_daytime_quiet_hours_and_missing_or_empty_ones() -> None:
    lunch = subscription(timezone="UTC", quiet_hours=("12:00", "14:00"))
    assert in_quiet_hours(lunch, utc(2025, 7, 9, 13, 0))
    assert not in_quiet_hours(lunch, utc(2025, 7, 9, 14, 0))
    assert not in_quiet_hours(subscription(quiet_hours=None), NOW)
    assert not in_quiet_hours(subscription(quiet_hours=("09:00", "09:00")), NOW)


# ------------------------------------------------------------------------------------------ alerts

NIGHT_TOKYO = utc(2025, 7, 9, 17, 0)  # 02:00 JST
DAY_TOKYO = utc(2025, 7, 9, 3, 0)  # 12:00 JST
URGENT = story("u", "ICBM over Japan", severity="urgent")


@pytest.mark.parametrize(
    ("changes", "moment", "expected"),
    [
        ({"cadence": "immediate"}, DAY_TOKYO, True),
        (
            {"cadence": "immediate", "quiet_hours": ("22:00", "07:00"), "urgent_in_quiet_hours": False},
            NIGHT_TOKYO,
            True,
        ),
        ({"cadence": "daily"}, DAY_TOKYO, True),
        ({"cadence": "daily", "quiet_hours": ("22:00", "07:00")}, NIGHT_TOKYO, True),
        (
            {"cadence": "daily", "quiet_hours": ("22:00", "07:00"), "urgent_in_quiet_hours": False},
            NIGHT_TOKYO,
            False,
        ),
        (
            {"cadence": "hourly", "quiet_hours": ("22:00", "07:00"), "urgent_in_quiet_hours": False},
            DAY_TOKYO,
            True,
        ),
        ({"cadence": "immediate", "status": "pending"}, DAY_TOKYO, False),
        ({"cadence": "immediate", "status": "unsubscribed"}, DAY_TOKYO, False),
        ({"cadence": "immediate", "topics": ("sanctions",)}, DAY_TOKYO, False),
    ],
)
def test_should_alert_matrix(changes: dict[str, object], moment: datetime, expected: bool) -> None:
    assert should_alert(subscription(**changes), URGENT, moment) is expected


@pytest.mark.parametrize("severity", ["high", "normal", "none"])
def test_only_urgent_stories_alert(severity: str) -> None:
    sub = subscription(cadence="immediate", min_severity="normal")
    assert not should_alert(sub, story("s", "launch", severity=severity), DAY_TOKYO)
