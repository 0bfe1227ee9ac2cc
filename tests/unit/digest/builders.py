"""Stories and subscriptions for the digest tests, plus the golden-file helper."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wirewatch.models import Evidence, Story, StorySource, Subscription

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2025, 7, 9, 23, 0, tzinfo=UTC)
WINDOW = (NOW - timedelta(days=1), NOW)
UNSUBSCRIBE = "https://wirewatch.example/unsubscribe?token=abc.def&sub=s-1"
HOSTILE = "<script>alert(1)</script> <!channel> <@U123> <https://evil.example|click> & co"


def story(
    story_id: str,
    headline: str,
    *,
    severity: str = "high",
    topics: tuple[str, ...] = ("missile",),
    last_seen: datetime = NOW - timedelta(hours=2),
    facts: Mapping[str, Any] | None = None,
    sources: tuple[StorySource, ...] | None = None,
    evidence: tuple[Evidence, ...] = (),
    reason: str = "",
) -> Story:
    """A story whose single default source carries the headline."""
    default = (
        StorySource(
            item_id=f"{story_id}-1",
            source="Kyodo",
            title=headline,
            link=f"https://news.example/{story_id}",
            published=last_seen - timedelta(minutes=5),
        ),
    )
    return Story(
        id=story_id,
        headline=headline,
        topics=topics,
        severity=severity,
        severity_reason=reason,
        first_seen=last_seen - timedelta(minutes=4),
        last_seen=last_seen,
        sources=sources if sources is not None else default,
        facts=dict(facts or {}),
        evidence=evidence,
    )


def subscription(**changes: Any) -> Subscription:
    """An active daily email subscription in Tokyo, changed as asked."""
    fields: dict[str, Any] = {
        "id": "s-1",
        "channel": "email",
        "target": "desk@example.org",
        "status": "active",
        "timezone": "Asia/Tokyo",
        "daily_at": "08:00",
        "cadence": "daily",
    }
    fields.update(changes)
    return Subscription(**fields)


def sample_stories() -> list[Story]:
    """Three stories in digest order: an urgent launch (English and Japanese sources), sanctions, a test."""
    launch_at = datetime(2025, 7, 8, 22, 25, tzinfo=UTC)
    launch = story(
        "st-launch",
        "North Korea fires ICBM-class missile that falls inside Japan's EEZ",
        severity="urgent",
        last_seen=NOW - timedelta(hours=1),
        reason="ICBM launch landing in Japan's EEZ",
        facts={
            "missile_class": "ICBM",
            "missile_name": "Hwasong-18",
            "count": 1,
            "apogee_km": 6000,
            "flight_time_min": 73,
            "landed": "inside_eez",
            "event_date": "2025-07-09",
        },
        evidence=(
            Evidence("missile.icbm", "missile", "ICBM", 3.0),
            Evidence("missile.eez", "missile", "exclusive economic zone", 2.0),
            Evidence("missile.ja", "missile", "弾道ミサイル", 1.5),
        ),
        sources=(
            StorySource(
                "i-1",
                "Kyodo",
                "North Korea fires ICBM-class missile that falls inside Japan's EEZ",
                "https://news.example/kyodo/1",
                launch_at,
            ),
            StorySource(
                "i-2",
                "共同通信",
                "北朝鮮がICBM級の弾道ミサイル発射　EEZ内に落下か",
                "https://news.example/kyodo-ja/2",
                launch_at + timedelta(minutes=5),
                "ja",
            ),
            StorySource(
                "i-3",
                "Reuters",
                "N.Korea launches suspected long-range missile off Hokkaido",
                "https://news.example/reuters/3?ref=rss&x=1",
                launch_at + timedelta(minutes=25),
            ),
        ),
    )
    sanctions = story(
        "st-sanctions",
        "US Treasury designates shipping firms over North Korea oil transfers",
        topics=("sanctions",),
        last_seen=NOW - timedelta(hours=3),
        reason="new designations",
        facts={"body": "US Treasury", "action": "designated", "targets": ["Firm A", "Firm B"]},
        evidence=(Evidence("sanctions.designate", "sanctions", "designates", 2.0),),
    )
    cruise = story(
        "st-cruise",
        "North Korea test-fires cruise missiles off west coast, Seoul says",
        severity="normal",
        last_seen=NOW - timedelta(hours=5),
        facts={"missile_class": "cruise", "count": 2, "launch_site": "Nampo"},
        evidence=(Evidence("missile.cruise", "missile", "cruise missiles", 1.0),),
    )
    return [launch, sanctions, cruise]


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/unit/digest/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; run the tests with UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"
