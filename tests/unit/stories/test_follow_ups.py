"""When a living story's change is worth a threaded reply (pure)."""

from __future__ import annotations

from tests.support.living_story import flash, grow, polls, source
from wirewatch.usecases.threads import follow_up_due, snapshot


def test_an_unchanged_story_needs_no_follow_up() -> None:
    story = flash()
    assert follow_up_due(snapshot(story), story) is None


def test_a_later_poll_of_the_same_items_with_a_new_last_seen_needs_no_follow_up() -> None:
    story = flash()
    assert follow_up_due(snapshot(story), grow(story, minutes=30)) is None


def test_a_new_source_is_a_follow_up() -> None:
    before, after = polls()[:2]
    follow_up = follow_up_due(snapshot(before), after)
    assert follow_up is not None
    assert [c.kind for c in follow_up.changes] == ["source"] and not follow_up.broadcast


def test_several_changes_in_one_poll_are_one_follow_up_broadcast_when_it_turns_urgent() -> None:
    before, after = polls()[2:]
    follow_up = follow_up_due(snapshot(before), after)
    assert follow_up is not None
    assert [c.kind for c in follow_up.changes] == ["source", "facts", "severity"]
    assert "missile class ICBM (was SRBM)" in follow_up.changes[1].text
    assert follow_up.broadcast


def test_a_sanctions_response_joining_is_a_follow_up() -> None:
    before = polls()[3]
    after = grow(
        before,
        minutes=90,
        topics=("missile", "sanctions"),
        body="UN Security Council",
        action="meeting",
        add=source(9, "UN", "Council meets"),
    )
    follow_up = follow_up_due(snapshot(before), after)
    assert follow_up is not None
    assert "response" in [c.kind for c in follow_up.changes]
    assert not follow_up.broadcast


def test_a_snapshot_survives_the_ledger_round_trip() -> None:
    snap = snapshot(polls()[3], seq=3)
    again = type(snap).from_json(snap.to_json())
    assert again is not None and again.digest() == snap.digest() and again.seq == 3
