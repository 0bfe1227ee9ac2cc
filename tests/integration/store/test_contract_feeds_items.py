"""Store contract, feeds and items: the same behaviour on DynamoDB (moto server) and SQLite."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.store.conftest import KEEP, NOW
from tests.unit.stories.builders import item
from wirewatch.errors import ConflictError
from wirewatch.models import Classification, Evidence, Feed

pytestmark = pytest.mark.integration


def feed(feed_id: str, **changes: Any) -> Feed:
    fields: dict[str, Any] = {"url": f"https://news.example/{feed_id}.xml", "name": f"Feed {feed_id}"} | changes
    return Feed(id=feed_id, **fields)


# feeds


def test_given_a_feed_when_added_twice_then_only_the_first_is_kept(store: Any) -> None:
    assert store.add_feed(feed("kyodo", name="Kyodo"))
    assert not store.add_feed(feed("kyodo", name="Impostor"))
    assert store.get_feed("kyodo") == feed("kyodo", name="Kyodo")


def test_given_feeds_added_in_any_order_when_listed_then_they_come_by_id(store: Any) -> None:
    for feed_id in ("reuters", "afp", "kyodo"):
        store.add_feed(feed(feed_id))
    assert [f.id for f in store.list_feeds()] == ["afp", "kyodo", "reuters"]


def test_given_some_feeds_when_got_by_ids_then_only_existing_ones_come_back_once(store: Any) -> None:
    store.add_feed(feed("a"))
    store.add_feed(feed("b"))
    found = store.get_feeds(["b", "missing", "a", "b"])
    assert sorted(f.id for f in found) == ["a", "b"]
    assert store.get_feed("missing") is None


def test_given_fetch_state_when_saved_then_it_round_trips_and_the_last_writer_wins(store: Any) -> None:
    store.add_feed(feed("kyodo"))
    polled = feed(
        "kyodo",
        etag='"abc"',
        last_modified="Wed, 09 Jul 2025 22:00:00 GMT",
        last_success=NOW,
        last_attempt=NOW,
        last_status=200,
        consecutive_failures=0,
        next_attempt=NOW + timedelta(minutes=5),
    )
    failed = dataclasses.replace(polled, last_status=503, last_error="HTTP 503", consecutive_failures=1)
    store.save_feeds([polled, feed("new")])
    assert store.get_feed("kyodo") == polled
    store.save_feeds([failed])
    assert store.get_feed("kyodo") == failed
    assert [f.id for f in store.list_feeds()] == ["kyodo", "new"]


def test_given_a_feed_when_deleted_then_it_is_gone_and_a_second_delete_says_so(store: Any) -> None:
    store.add_feed(feed("kyodo"))
    assert store.delete_feed("kyodo")
    assert not store.delete_feed("kyodo")
    assert store.get_feed("kyodo") is None and store.list_feeds() == []


# items


def test_given_an_item_when_put_twice_then_it_is_stored_once_unchanged(store: Any) -> None:
    first = item("i-1", "North Korea fires ballistic missile")
    assert store.put_item_if_new(first, KEEP)
    assert not store.put_item_if_new(dataclasses.replace(first, title="rewritten"), KEEP)
    assert store.relevant_items(NOW - timedelta(days=2), NOW) == [first]


def test_given_a_batch_when_put_then_each_new_item_is_stored_once_and_known_ones_are_left(store: Any) -> None:
    known = item("i-1", "North Korea fires ballistic missile")
    store.put_item_if_new(known, KEEP)
    batch = [dataclasses.replace(known, title="rewritten"), item("i-2", "Typhoon nears Okinawa"), item("i-3", "Yen")]
    assert store.put_items_if_new([(i, KEEP) for i in batch]) == [False, True, True]
    assert store.put_items_if_new([]) == []
    assert store.existing_item_ids(["i-1", "i-2", "i-3"]) == {"i-1", "i-2", "i-3"}
    stored = {i.id: i for i in store.relevant_items(NOW - timedelta(days=2), NOW)}
    assert stored["i-1"] == known and stored["i-2"] == batch[1]


def test_given_stored_items_when_asked_which_exist_then_only_those_ids_come_back(store: Any) -> None:
    store.put_item_if_new(item("i-1", "launch"), KEEP)
    store.put_item_if_new(item("i-2", "unrelated", topics=(), severity="none"), KEEP)
    assert store.existing_item_ids(["i-1", "i-2", "i-3", "i-1"]) == {"i-1", "i-2"}
    assert store.existing_item_ids([]) == set()


def test_given_many_ids_when_asked_which_exist_then_every_batch_is_read(store: Any) -> None:
    ids = [f"i-{n}" for n in range(130)]  # past DynamoDB's 100 keys a request
    for item_id in ids[::10]:
        store.put_item_if_new(item(item_id, "launch"), KEEP)
    assert store.existing_item_ids(ids) == set(ids[::10])


def test_given_items_across_a_month_boundary_when_read_by_window_then_relevant_ones_come_newest_first(
    store: Any,
) -> None:
    june = item("i-june", "June launch", at=NOW.replace(month=6, day=30, hour=23))
    july = item("i-july", "July launch", at=NOW - timedelta(hours=1))
    sanctions = item("i-sanc", "New designations", at=NOW - timedelta(hours=2), topics=("sanctions",))
    old = item("i-old", "May launch", at=NOW.replace(month=5, day=1))
    noise = item("i-noise", "Weather", at=NOW - timedelta(hours=3), topics=(), severity="none")
    for record in (june, july, sanctions, old, noise):
        store.put_item_if_new(record, KEEP)
    since = NOW.replace(month=6, day=15)
    assert store.relevant_items(since, NOW) == [july, sanctions, june]
    assert store.relevant_items(since, NOW, topic="missile") == [july, june]
    assert store.relevant_items(since, NOW, topic="sanctions") == [sanctions]
    assert store.relevant_items(since, NOW, limit=2) == [july, sanctions]


def test_given_items_on_the_window_edges_when_read_then_both_edges_are_included(store: Any) -> None:
    since, until = NOW - timedelta(hours=24), NOW
    on_since = item("i-since", "at since", at=since)
    on_until = item("i-until", "at until", at=until)
    after = item("i-after", "after", at=until + timedelta(microseconds=1))
    for record in (on_since, on_until, after):
        store.put_item_if_new(record, KEEP)
    assert store.relevant_items(since, until) == [on_until, on_since]


def test_given_an_item_with_evidence_and_facts_when_read_back_then_every_field_round_trips(store: Any) -> None:
    rich = item(
        "i-rich",
        "北朝鮮が弾道ミサイル発射",
        "EEZ内に落下か <b>&amp;</b>",
        language="ja",
        source="共同通信",
        severity="urgent",
        scores={"missile": 3.25},
        facts={"missile_class": "ICBM", "count": 2, "apogee_km": 6000.5},
        evidence=(Evidence("missile.ja", "missile", "弾道ミサイル", 1.5),),
    )
    rich = dataclasses.replace(rich, story_id="st-1", suppressed=True)
    store.put_item_if_new(rich, KEEP)
    assert store.relevant_items(NOW - timedelta(days=2), NOW) == [rich]


def test_given_items_first_seen_over_days_when_listed_then_relevant_and_not_come_oldest_first(store: Any) -> None:
    day1 = item("i-1", "launch", at=NOW - timedelta(days=2))
    day2 = item("i-2", "weather", at=NOW - timedelta(days=1), topics=(), severity="none")
    day3 = item("i-3", "sanctions", at=NOW - timedelta(hours=1), topics=("sanctions",))
    outside = item("i-0", "old", at=NOW - timedelta(days=9))
    for record in (day3, outside, day1, day2):
        store.put_item_if_new(record, KEEP)
    seen = list(store.items_first_seen(NOW - timedelta(days=3), NOW))
    assert seen == [day1, day2, day3]


def test_given_an_irrelevant_item_when_reclassified_relevant_then_it_enters_the_time_index(store: Any) -> None:
    noise = item("i-1", "launch missed at first", at=NOW - timedelta(hours=1), topics=(), severity="none")
    store.put_item_if_new(noise, KEEP)
    assert store.relevant_items(NOW - timedelta(days=1), NOW) == []
    now_relevant = Classification(topics=("missile",), scores={"missile": 2.0}, severity="high")
    store.update_classification(noise, now_relevant, KEEP)
    assert store.relevant_items(NOW - timedelta(days=1), NOW) == [
        dataclasses.replace(noise, classification=now_relevant)
    ]
    assert store.item_counts_by_feed(NOW - timedelta(days=1), NOW) == {"kyodo": (1, 1)}


def test_given_a_relevant_item_when_reclassified_irrelevant_then_it_leaves_the_index_but_stays_stored(
    store: Any,
) -> None:
    launch = item("i-1", "firing squad", at=NOW - timedelta(hours=1))
    store.put_item_if_new(launch, KEEP)
    store.update_classification(launch, Classification(), KEEP)
    assert store.relevant_items(NOW - timedelta(days=1), NOW) == []
    assert store.existing_item_ids(["i-1"]) == {"i-1"}
    assert [i.classification for i in store.items_first_seen(NOW - timedelta(days=1), NOW)] == [Classification()]
    assert not store.put_item_if_new(launch, KEEP)


def test_given_no_such_item_when_reclassified_then_a_conflict_is_raised(store: Any) -> None:
    with pytest.raises(ConflictError):
        store.update_classification(item("ghost", "never stored"), Classification(), KEEP)


def test_given_items_from_several_feeds_when_counted_then_totals_and_relevant_per_feed(store: Any) -> None:
    store.put_item_if_new(item("k-1", "launch", at=NOW - timedelta(hours=1), source="Kyodo"), KEEP)
    store.put_item_if_new(item("k-2", "weather", at=NOW - timedelta(hours=2), topics=(), source="Kyodo"), KEEP)
    store.put_item_if_new(item("r-1", "weather", at=NOW - timedelta(hours=3), topics=(), source="Reuters"), KEEP)
    store.put_item_if_new(item("r-old", "launch", at=NOW - timedelta(days=5), source="Reuters"), KEEP)
    assert store.item_counts_by_feed(NOW - timedelta(days=1), NOW) == {"kyodo": (2, 1), "reuters": (1, 0)}
