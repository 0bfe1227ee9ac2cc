"""Digest benchmark: render 1,000 stories (HTML, text, Slack) and cluster 1,000 items into stories."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from wirewatch.digest.render import render_email
from wirewatch.digest.slack_blocks import slack_digest_messages
from wirewatch.models import Classification, Evidence, Item, Story, StorySource, Subscription
from wirewatch.stories import assign_story

NOW = datetime(2025, 7, 10, 0, 0, tzinfo=UTC)
RENDER_GOAL_MS = 200.0
ASSIGN_GOAL_MS = 5.0
CANDIDATES = 200
SEVERITIES = ("urgent", "high", "normal")
CLASSES = ("ICBM", "SRBM", "cruise", "IRBM")
VOCABULARY = [f"term{n}" for n in range(300)]


def synthetic_stories(count: int) -> list[Story]:
    """Stories with two or three sources, facts and evidence, like a busy week."""
    stories = []
    for n in range(count):
        seen = NOW - timedelta(minutes=n)
        sources = tuple(
            StorySource(
                item_id=f"i{n}-{k}",
                source=("Kyodo", "Reuters", "共同通信")[k],
                title=f"North Korea fires {CLASSES[n % 4]} number {n} & more <report {k}>",
                link=f"https://news.example/{n}/{k}?a=1&b=2",
                published=seen - timedelta(minutes=k * 7),
                language="ja" if k == 2 else "en",
            )
            for k in range(2 + n % 2)
        )
        stories.append(
            Story(
                id=f"st-{n}",
                headline=sources[0].title,
                topics=("missile",) if n % 3 else ("sanctions", "missile"),
                severity=SEVERITIES[n % 3],
                severity_reason="synthetic",
                first_seen=seen,
                last_seen=seen,
                sources=sources,
                facts={"missile_class": CLASSES[n % 4], "count": 1 + n % 3, "landed": "outside_eez"},
                evidence=(
                    Evidence("r", "missile", "ballistic missile", 2.0),
                    Evidence("s", "missile", "ICBM", 1.0),
                ),
            )
        )
    return stories


def synthetic_items(count: int) -> list[Item]:
    """Four reports per event (one in Japanese), events 17 minutes apart: all inside the 72 h window."""
    items = []
    for n in range(count):
        event, wire = divmod(n, 4)
        at = NOW - timedelta(minutes=17 * (count // 4 - event)) + timedelta(minutes=5 * wire)
        shots = 1 + event % 3
        japanese = wire == 3
        words = " ".join(random.Random(event).sample(VOCABULARY, 4))
        if japanese:
            title = f"北朝鮮が弾道ミサイル{shots}発を発射　{words}"
            summary = f"防衛省によると、ミサイルは{words}方向に飛行した。"
        else:
            title = f"North Korea fires {shots} ballistic missiles, {words}"
            summary = f"The missiles flew {300 + event % 7 * 100} km; {words}, officials said."
        items.append(
            Item(
                id=f"item-{n}",
                feed_id=f"wire-{wire}",
                source=f"Wire {wire}",
                title=title,
                link=f"https://news.example/{n}",
                summary=summary,
                published=at,
                first_seen=at,
                language="ja" if japanese else "en",
                classification=Classification(
                    topics=("missile",),
                    scores={"missile": 3.0},
                    severity="high",
                    facts={
                        "count": shots,
                        "missile_class": CLASSES[event % 4],
                        "distance_km": 300 + event % 7 * 100,
                        "missile_name": f"Hwasong-{event}",
                    },
                ),
            )
        )
    return items


def timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Best wall time of `repeat` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    """Print render and clustering times beside their goals."""
    stories = synthetic_stories(1000)
    sub = Subscription(id="bench", channel="email", target="x@example.org", timezone="Asia/Tokyo", status="active")
    window = (NOW - timedelta(days=1), NOW)

    def render_all() -> None:
        render_email(stories, sub, window, "https://wirewatch.example/u?t=1", NOW)
        slack_digest_messages(stories, window, NOW, "Asia/Tokyo")

    render_all()  # template compilation happens once per process, not per digest
    email_ms = timed(lambda: render_email(stories, sub, window, "https://wirewatch.example/u?t=1", NOW))
    slack_ms = timed(lambda: slack_digest_messages(stories, window, NOW, "Asia/Tokyo"))
    total_ms = timed(render_all)
    verdict = "ok" if total_ms <= RENDER_GOAL_MS else "SLOW"
    print(f"digest render, 1,000 stories: {total_ms:7.1f} ms (goal <= {RENDER_GOAL_MS:.0f} ms) {verdict}")
    print(f"  email html + text: {email_ms:7.1f} ms; slack blocks: {slack_ms:7.1f} ms")

    items = synthetic_items(1000)
    pool: list[Story] = []
    started = time.perf_counter()
    for item in items:
        story = assign_story(item, pool[-CANDIDATES:], NOW)
        pool = [s for s in pool if s.id != story.id]
        pool.append(story)
    per_item_ms = (time.perf_counter() - started) * 1000 / len(items)
    verdict = "ok" if per_item_ms <= ASSIGN_GOAL_MS else "SLOW"
    print(
        f"assign_story, 1,000 items vs <= {CANDIDATES} candidates: {per_item_ms:.2f} ms/item "
        f"(goal <= {ASSIGN_GOAL_MS:.0f} ms) {verdict}"
    )
    print(f"  {len(pool)} stories formed from {len(items) // 4} events of four reports each")


if __name__ == "__main__":
    main()
