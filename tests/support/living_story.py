"""A story that grows poll by poll, for the living-story tests (flash, confirmations, revisions, escalation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from wirewatch.models import Story, StorySource

START = datetime(2026, 11, 3, 0, 5, tzinfo=UTC)


def source(n: int, name: str, title: str, *, minutes: int = 0, link: str | None = None) -> StorySource:
    return StorySource(
        item_id=f"item-{n}",
        source=name,
        title=title,
        link=link or f"https://news.example/{n}",
        published=START + timedelta(minutes=minutes),
    )


def flash(severity: str = "high") -> Story:
    """Poll 1: the first wire flash."""
    return Story(
        id="story-launch",
        headline="North Korea fires ballistic missile toward the sea",
        topics=("missile",),
        severity=severity,
        severity_reason="ballistic missile launch",
        first_seen=START,
        last_seen=START,
        sources=(source(1, "Kyodo", "FLASH: North Korea fires ballistic missile"),),
        facts={"missile": {"missile_class": "SRBM", "count": 1}},
    )


def grow(
    story: Story,
    *,
    minutes: int,
    add: StorySource | None = None,
    severity: str | None = None,
    topics: tuple[str, ...] | None = None,
    **facts: Any,
) -> Story:
    """The story after a later poll: maybe a new source, revised facts, a raised severity."""
    merged = dict(story.facts.get("missile", {}))
    merged.update({k: v for k, v in facts.items() if k in ("missile_class", "count", "landed", "over_japan")})
    response = {k: v for k, v in facts.items() if k in ("body", "action", "resolution")}
    new_facts: dict[str, Any] = {"missile": merged}
    if response or "sanctions" in story.facts:
        new_facts["sanctions"] = {**dict(story.facts.get("sanctions", {})), **response}
    return replace(
        story,
        sources=story.sources + ((add,) if add else ()),
        severity=severity or story.severity,
        topics=topics or story.topics,
        last_seen=START + timedelta(minutes=minutes),
        facts=new_facts,
    )


def polls() -> list[Story]:
    """The issue's flow: flash, a second wire, where it fell, the class revised to ICBM over Japan (urgent)."""
    first = flash()
    second = grow(first, minutes=10, add=source(2, "Reuters", "North Korea launches missile, Japan says", minutes=9))
    third = grow(second, minutes=25, landed="inside Japan's EEZ")
    fourth = grow(
        third,
        minutes=40,
        missile_class="ICBM",
        over_japan=True,
        severity="urgent",
        add=source(3, "NHK", "ICBM flew over Japan", minutes=38),
    )
    return [first, second, third, fourth]
