"""Clustering new items into stories as they are stored, safe against concurrent polls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from wirewatch.errors import ConflictError
from wirewatch.models import Item, Story
from wirewatch.stories import assign_story

_MAX_ATTEMPTS = 5


class StoryPort(Protocol):
    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]: ...
    def save_story(self, story: Story, previous: Story | None) -> None: ...


def joins_story(item: Item) -> bool:
    """Whether an item is clustered into a story: relevant and not held back by the flood guard."""
    return item.relevant and not item.suppressed


def attach_stories(
    items: Sequence[Item], store: StoryPort, now: datetime, window: timedelta
) -> tuple[list[Item], list[Story]]:
    """Assign each relevant, alertable item to a story and save the stories that changed.

    Returns the items with their story ids and the stories written. Stories are saved before the
    items, and assigning an item a story already holds changes nothing, so a retried poll repairs a
    half-done run. A concurrent writer makes a save fail; the candidates are then re-read and the
    assignment redone.
    """
    clusterable = sorted((i for i in items if joins_story(i)), key=lambda i: (i.published, i.id))
    if not clusterable:
        return list(items), []
    since = min(i.published for i in clusterable) - window
    for _attempt in range(_MAX_ATTEMPTS):
        originals = {s.id: s for s in store.stories_seen_between(since, now)}
        current = dict(originals)
        story_of: dict[str, str] = {}
        for item in clusterable:
            story = assign_story(item, list(current.values()), now, window)
            current[story.id] = story
            story_of[item.id] = story.id
        changed = [s for sid, s in current.items() if originals.get(sid) != s]
        try:
            for story in changed:
                store.save_story(story, originals.get(story.id))
        except ConflictError:
            continue
        placed = [replace(i, story_id=story_of[i.id]) if i.id in story_of else i for i in items]
        return placed, changed
    raise ConflictError(f"stories kept changing under {_MAX_ATTEMPTS} clustering attempts")
