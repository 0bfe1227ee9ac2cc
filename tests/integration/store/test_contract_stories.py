"""Store contract, stories: optimistic concurrency on the source count and the alerted flag."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.store.conftest import NOW
from tests.unit.digest.builders import sample_stories, story
from wirewatch.errors import ConflictError
from wirewatch.models import Story, StorySource

pytestmark = pytest.mark.integration


def with_source(base: Story, item_id: str) -> Story:
    """The story grown by one more source, seen a minute later."""
    added = StorySource(item_id, "Reuters", base.headline, f"https://news.example/{item_id}", base.last_seen)
    return dataclasses.replace(base, sources=(*base.sources, added), last_seen=base.last_seen + timedelta(minutes=1))


def test_given_a_new_story_when_saved_then_every_field_reads_back(store: Any) -> None:
    for record in sample_stories():
        store.save_story(record, None)
        assert store.get_story(record.id) == record
    assert store.get_story("missing") is None


def test_given_a_stored_story_when_saved_again_as_new_then_it_conflicts_and_is_unchanged(store: Any) -> None:
    first = story("st-1", "Launch")
    store.save_story(first, None)
    with pytest.raises(ConflictError):
        store.save_story(dataclasses.replace(first, headline="Rival"), None)
    assert store.get_story("st-1") == first


def test_given_two_writers_grow_the_same_story_when_the_second_saves_then_it_conflicts(store: Any) -> None:
    base = story("st-1", "Launch")
    store.save_story(base, None)
    read_by_both = store.get_story("st-1")
    winner = with_source(read_by_both, "i-win")
    store.save_story(winner, read_by_both)
    with pytest.raises(ConflictError):
        store.save_story(with_source(read_by_both, "i-lose"), read_by_both)
    assert store.get_story("st-1") == winner


def test_given_a_story_alerted_after_it_was_read_when_saved_then_it_conflicts_and_the_flag_stays(store: Any) -> None:
    base = story("st-1", "Launch", severity="urgent")
    store.save_story(base, None)
    read = store.get_story("st-1")
    store.mark_story_alerted("st-1")
    with pytest.raises(ConflictError):
        store.save_story(dataclasses.replace(read, headline="Renamed"), read)
    stored = store.get_story("st-1")
    assert stored is not None and stored.alerted and stored.headline == "Launch"


def test_given_a_story_when_marked_alerted_then_a_regrowth_read_after_keeps_the_flag(store: Any) -> None:
    store.save_story(story("st-1", "Launch"), None)
    store.mark_story_alerted("st-1")
    read = store.get_story("st-1")
    assert read is not None and read.alerted
    grown = with_source(read, "i-2")
    store.save_story(grown, read)
    assert store.get_story("st-1") == grown and grown.alerted


def test_given_no_story_when_marked_alerted_or_updated_then_it_conflicts(store: Any) -> None:
    with pytest.raises(ConflictError):
        store.mark_story_alerted("ghost")
    ghost = story("ghost", "Never saved")
    with pytest.raises(ConflictError):
        store.save_story(with_source(ghost, "i-2"), ghost)
    assert store.get_story("ghost") is None


def test_given_stories_across_months_when_read_by_window_then_they_come_newest_first(store: Any) -> None:
    july = story("st-july", "July", last_seen=NOW - timedelta(hours=1))
    july_earlier = story("st-july-2", "July earlier", last_seen=NOW - timedelta(days=3))
    june = story("st-june", "June", last_seen=NOW.replace(month=6, day=29))
    may = story("st-may", "May", last_seen=NOW.replace(month=5, day=1))
    for record in (june, may, july_earlier, july):
        store.save_story(record, None)
    since = NOW.replace(month=6, day=1)
    assert store.stories_seen_between(since, NOW) == [july, july_earlier, june]
    assert store.stories_seen_between(since, NOW, limit=2) == [july, july_earlier]
    assert store.stories_seen_between(NOW - timedelta(hours=1), NOW) == [july]  # the edge is included
