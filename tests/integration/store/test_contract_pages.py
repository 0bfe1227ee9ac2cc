"""Store contract, API pages: newest first over the time index, filters, stable cursors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.store.conftest import KEEP, NOW
from tests.unit.digest.builders import story
from tests.unit.stories.builders import item
from wirewatch.models import Item
from wirewatch.paging import PageFilter

pytestmark = pytest.mark.integration

SEVERITIES = ("normal", "high", "urgent")
TOPICS = (("missile",), ("sanctions",), ("missile", "sanctions"))


def seed_items(
    store: Any, count: int, *, start: datetime = NOW, step: timedelta = timedelta(hours=7), prefix: str = "i"
) -> list[Item]:
    """`count` relevant items, one every `step` back from `start` (across a month boundary), newest first."""
    items = [
        item(
            f"{prefix}-{n:03}",
            f"item {n}",
            at=start - n * step,
            topics=TOPICS[n % 3],
            severity=SEVERITIES[n % 3],
            source=("Kyodo", "Reuters")[n % 2],
        )
        for n in range(count)
    ]
    for record in items:
        assert store.put_item_if_new(record, KEEP)
    return items


def every_page(read: Any, where: PageFilter, limit: int) -> list[list[Any]]:
    pages, after = [], None
    while True:
        page = read(where, limit, after)
        pages.append(page.records)
        if page.next is None:
            return pages
        after = page.next


def test_given_items_across_months_when_paged_then_every_item_comes_once_newest_first(store: Any) -> None:
    items = seed_items(store, 40)  # 40 × 7 h reaches back into June
    store.put_item_if_new(item("noise", "weather", at=NOW - timedelta(hours=1), topics=(), severity="none"), KEEP)
    where = PageFilter(since=NOW - timedelta(days=30), until=NOW)
    pages = every_page(store.page_items, where, 7)
    assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 5]
    assert [i for p in pages for i in p] == items


def test_given_an_exact_multiple_when_paged_then_the_last_full_page_has_no_cursor(store: Any) -> None:
    seed_items(store, 6)
    page = store.page_items(PageFilter(since=NOW - timedelta(days=3), until=NOW), 6)
    assert len(page.records) == 6 and page.next is None


def test_given_filters_when_items_are_paged_then_only_matching_items_come_in_order(store: Any) -> None:
    items = seed_items(store, 45)
    where = PageFilter(since=NOW - timedelta(days=30), until=NOW, topic="sanctions", severities=("urgent", "high"))
    expected = [i for i in items if "sanctions" in i.classification.topics and i.classification.severity != "normal"]
    got = [i for p in every_page(store.page_items, where, 4) for i in p]
    assert got == expected and len(expected) == 30


def test_given_a_window_when_paged_then_items_outside_it_never_appear(store: Any) -> None:
    items = seed_items(store, 20)
    where = PageFilter(since=NOW - timedelta(hours=50), until=NOW - timedelta(hours=14))
    got = [i for p in every_page(store.page_items, where, 3) for i in p]
    assert got == [i for i in items if where.since <= i.published <= where.until] == items[2:8]


def test_given_items_added_between_pages_when_the_next_page_is_read_then_it_does_not_shift(store: Any) -> None:
    items = seed_items(store, 12)
    where = PageFilter(since=NOW - timedelta(days=10), until=NOW + timedelta(hours=1))
    first = store.page_items(where, 5)
    assert first.records == items[:5]
    newer = NOW + timedelta(minutes=30)  # newer than every page
    seed_items(store, 3, start=newer, step=timedelta(minutes=1), prefix="new")
    store.put_item_if_new(item("i-between", "between", at=items[2].published - timedelta(minutes=1)), KEEP)
    second = store.page_items(where, 5, first.next)
    assert second.records == items[5:10]


def test_given_stories_when_paged_with_filters_then_they_come_most_recent_first_without_gaps(store: Any) -> None:
    stories = [
        story(
            f"st-{n:02}",
            f"story {n}",
            last_seen=NOW - n * timedelta(hours=9),
            severity=SEVERITIES[n % 3],
            topics=TOPICS[n % 3],
        )
        for n in range(25)
    ]
    for record in stories:
        store.save_story(record, None)
    where = PageFilter(since=NOW - timedelta(days=30), until=NOW)
    assert [s for p in every_page(store.page_stories, where, 4) for s in p] == stories
    missile = PageFilter(since=where.since, until=NOW, topic="missile", severities=("normal", "urgent"))
    expected = [s for s in stories if "missile" in s.topics and s.severity in ("normal", "urgent")]
    assert [s for p in every_page(store.page_stories, missile, 3) for s in p] == expected


def test_given_an_alerted_story_when_paged_then_the_flag_shows(store: Any) -> None:
    store.save_story(story("st-1", "Launch"), None)
    store.mark_story_alerted("st-1")
    (paged,) = store.page_stories(PageFilter(since=NOW - timedelta(days=1), until=NOW), 10).records
    assert paged.alerted


@pytest.mark.parametrize("limit", [0, -1])
def test_given_a_limit_below_one_when_paged_then_it_is_refused(store: Any, limit: int) -> None:
    where = PageFilter(since=NOW - timedelta(days=1), until=NOW)
    with pytest.raises(ValueError):
        store.page_items(where, limit)
    with pytest.raises(ValueError):
        store.page_stories(where, limit)
