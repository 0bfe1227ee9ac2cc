"""The SQLite store's codec: domain records to JSON text and back, datetimes as sortable UTC text (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from tests.unit.digest.builders import sample_stories, subscription
from tests.unit.stories.builders import item
from wirewatch.adapters.local.codec import from_json, iso, to_json
from wirewatch.models import Evidence, Feed, Item, Story, Subscription

TOKYO = timezone(timedelta(hours=9))


def test_given_every_record_kind_when_encoded_and_decoded_then_it_comes_back_equal() -> None:
    rich = item(
        "i-1",
        "北朝鮮が弾道ミサイル発射",
        "EEZ内に落下か",
        language="ja",
        scores={"missile": 3.25},
        facts={"count": 2, "apogee_km": 6000.5, "landed": "inside_eez"},
        evidence=(Evidence("missile.ja", "missile", "弾道ミサイル", 1.5),),
    )
    assert from_json(Item, to_json(rich)) == rich
    for story in sample_stories():
        assert from_json(Story, to_json(story)) == story
    sub = subscription(quiet_hours=("22:00", "07:00"), next_digest_at=datetime(2025, 7, 10, tzinfo=UTC))
    assert from_json(Subscription, to_json(sub)) == sub
    feed = Feed(id="k", url="https://news.example/k.xml", name="Kyodo", last_status=304, next_attempt=None)
    assert from_json(Feed, to_json(feed)) == feed


def test_given_tuples_when_decoded_then_they_are_tuples_again_not_lists() -> None:
    sub = from_json(Subscription, to_json(subscription(topics=("missile",), quiet_hours=("22:00", "07:00"))))
    assert sub.topics == ("missile",) and isinstance(sub.topics, tuple)
    assert sub.quiet_hours == ("22:00", "07:00") and isinstance(sub.quiet_hours, tuple)
    story = from_json(Story, to_json(sample_stories()[0]))
    assert isinstance(story.sources, tuple) and isinstance(story.evidence[0], Evidence)


def test_given_a_time_in_another_zone_when_encoded_then_it_is_utc_text_of_fixed_width() -> None:
    tokyo = datetime(2025, 7, 9, 7, 25, tzinfo=TOKYO)
    assert iso(tokyo) == "2025-07-08T22:25:00.000000+00:00"
    assert iso(None) is None
    decoded = from_json(Subscription, to_json(subscription(created_at=tokyo)))
    assert decoded.created_at == tokyo and decoded.created_at is not None and decoded.created_at.tzinfo == UTC


def test_given_times_in_mixed_zones_when_encoded_then_the_text_sorts_as_the_times_do() -> None:
    base = datetime(2025, 7, 9, 12, 0, tzinfo=UTC)
    times = [
        base + timedelta(microseconds=1),
        (base - timedelta(hours=3)).astimezone(TOKYO),
        base.replace(microsecond=0),
        base + timedelta(days=400),
    ]
    assert sorted(times) == sorted(times, key=lambda t: iso(t) or "")


def test_given_a_record_of_another_version_when_decoded_then_unknown_fields_are_ignored_and_missing_default() -> None:
    stored = json.loads(to_json(subscription()))
    stored["added_by_a_later_version"] = 1
    del stored["quiet_hours"], stored["min_severity"]
    decoded = from_json(Subscription, json.dumps(stored))
    assert decoded == subscription()


def test_given_non_ascii_text_when_encoded_then_it_is_kept_as_text() -> None:
    text = to_json(item("i-1", "北朝鮮"))
    assert "北朝鮮" in text and "\\u" not in text
