"""Poll and dispatch over in-memory ports (no network, no AWS)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from wirewatch.config import Settings
from wirewatch.feeds.fetch import FetchResult
from wirewatch.models import Classification, Entry, Feed, Item, Story
from wirewatch.usecases import build_items, dispatch, due_feeds, poll

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SETTINGS = Settings(table_name="t")


def fake_classify(title: str, summary: str, lang: str | None) -> Classification:
    return Classification(topics=("missile",), severity="high") if "missile" in title else Classification()


class MemoryStore:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.feeds: dict[str, Feed] = {}
        self.stories: dict[str, Story] = {}
        self.puts = 0

    def existing_item_ids(self, item_ids: Iterable[str]) -> set[str]:
        return {i for i in item_ids if i in self.items}

    def put_item_if_new(self, item: Item, expires_at: datetime) -> bool:
        self.puts += 1
        return self.items.setdefault(item.id, item) is item

    def put_items_if_new(self, items: Sequence[tuple[Item, datetime]]) -> list[bool]:
        return [self.put_item_if_new(item, expires_at) for item, expires_at in items]

    def save_feeds(self, feeds: Sequence[Feed]) -> None:
        self.feeds.update((f.id, f) for f in feeds)

    def get_feeds(self, feed_ids: Sequence[str]) -> list[Feed]:
        return [self.feeds[i] for i in feed_ids if i in self.feeds]

    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]:
        return [s for s in self.stories.values() if since <= s.last_seen <= until]

    def save_story(self, story: Story, previous: Story | None) -> None:
        self.stories[story.id] = story

    def list_feeds(self) -> list[Feed]:
        return list(self.feeds.values())

    def add_feed(self, feed: Feed) -> bool:
        return self.feeds.setdefault(feed.id, feed) is feed


RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>w</title>'
    b"<item><title>Test missile launch</title><guid>g1</guid><link>https://x.example/1</link>"
    b"<pubDate>Mon, 30 Nov 2026 05:00:00 +0000</pubDate></item>"
    b"<item><title>Harbour festival</title><guid>g2</guid><link>https://x.example/2</link></item>"
    b"</channel></rss>"
)


def ok(feed: Feed, body: bytes = RSS) -> FetchResult:
    return FetchResult(feed_id=feed.id, outcome="ok", status=200, url=feed.url, body=body, headers={})


def test_poll_stores_new_items_once_and_reports_counts() -> None:
    feed = Feed(id="w", url="https://x.example/rss", name="W")
    store = MemoryStore()

    def fetch(feeds: Sequence[Feed]) -> list[FetchResult]:
        return [ok(f) for f in feeds]

    first = poll([feed], store=store, fetch=fetch, classify=fake_classify, settings=SETTINGS, now=NOW)
    second = poll([feed], store=store, fetch=fetch, classify=fake_classify, settings=SETTINGS, now=NOW)
    assert (first.new_items, first.relevant_items, first.fetched) == (2, 1, 1)
    assert second.new_items == 0 and store.puts == 2
    assert len(first.stories) == 1 and [s.headline for s in store.stories.values()] == ["Test missile launch"]
    assert store.items[first.new_relevant[0].id].story_id == first.stories[0].id
    assert store.feeds["w"].last_success == NOW


def test_poll_stores_each_feeds_items_while_later_feeds_are_still_arriving() -> None:
    # Same site, so the relative GUIDs of the shared item resolve alike.
    first = Feed(id="a", url="https://x.example/rss/a", name="A")
    second = Feed(id="b", url="https://x.example/rss/b", name="B")
    store = MemoryStore()
    stored_while_waiting: list[str] = []

    def fetch(feeds: Sequence[Feed]) -> Iterator[FetchResult]:
        yield ok(first)
        deadline = time.monotonic() + 5
        while not store.items and time.monotonic() < deadline:
            time.sleep(0.01)
        stored_while_waiting.extend(item.title for item in store.items.values())
        # The second feed repeats the first one's missile item (same GUID) and adds one of its own.
        yield ok(second, RSS.replace(b"<guid>g2</guid>", b"<guid>g3</guid>").replace(b"Harbour", b"Rail"))

    report = poll([first, second], store=store, fetch=fetch, classify=fake_classify, settings=SETTINGS, now=NOW)
    # Only the item that joins no story was stored before the first feed's fetch ended; the missile
    # item waited to be clustered with everything else the run found.
    assert stored_while_waiting == ["Harbour festival"]
    assert sorted(i.title for i in store.items.values()) == ["Harbour festival", "Rail festival", "Test missile launch"]
    assert (report.new_items, report.relevant_items, store.puts) == (3, 1, 3)
    assert [o.new_items for o in report.outcomes] == [2, 1]
    assert len(store.stories) == 1


def test_poll_records_a_non_feed_as_a_feed_failure() -> None:
    feed = Feed(id="w", url="https://x.example/rss", name="W")
    store = MemoryStore()
    report = poll(
        [feed],
        store=store,
        fetch=lambda feeds: [ok(f, b"<html><body>hello</body></html>") for f in feeds],
        classify=fake_classify,
        settings=SETTINGS,
        now=NOW,
    )
    assert report.failed == 1 and report.errors[0]["feed"] == "w"
    assert store.feeds["w"].consecutive_failures == 1


def test_build_items_guards_the_first_run_and_clamps_future_dates() -> None:
    feed = Feed(id="w", url="https://x.example/rss", name="W")
    entries = [
        Entry(guid="old", link=None, title="old missile", summary="", published=NOW - timedelta(days=2)),
        Entry(guid="future", link=None, title="future", summary="", published=NOW + timedelta(days=1)),
        Entry(guid=None, link=None, title="no identity", summary="", published=None),
        Entry(guid=None, link="https://x.example/a?utm_source=x", title="undated", summary="", published=None),
    ]
    items = build_items(feed, entries, classify=fake_classify, settings=SETTINGS, now=NOW)
    assert [i.title for i in items] == ["old missile", "future", "undated"]
    assert items[0].suppressed and not items[1].suppressed
    assert items[1].published == NOW and items[2].published == NOW


def test_items_are_not_suppressed_once_a_feed_has_been_polled() -> None:
    feed = Feed(id="w", url="https://x.example/rss", name="W", last_success=NOW - timedelta(hours=1))
    entry = Entry(guid="old", link=None, title="old", summary="", published=NOW - timedelta(days=2))
    assert not build_items(feed, [entry], classify=fake_classify, settings=SETTINGS, now=NOW)[0].suppressed


def test_due_feeds_respect_backoff_and_disabled() -> None:
    feeds = [
        Feed(id="new", url="u", name="n"),
        Feed(id="due", url="u", name="n", next_attempt=NOW),
        Feed(id="later", url="u", name="n", next_attempt=NOW + timedelta(seconds=1)),
        Feed(id="off", url="u", name="n", enabled=False),
    ]
    assert [f.id for f in due_feeds(feeds, NOW)] == ["new", "due"]


def test_dispatch_batches_due_feeds() -> None:
    store = MemoryStore()
    sent: list[list[str]] = []

    class Queue:
        def send_batches(self, batches: Sequence[Sequence[str]]) -> int:
            sent.extend(list(b) for b in batches)
            return len(batches)

    initial = [Feed(id=f"f{n}", url="u", name="n") for n in range(5)]
    report = dispatch(catalog=store, queue=Queue(), initial_feeds=lambda: initial, feeds_per_message=2, now=NOW)
    assert (report.seeded, report.due, report.messages) == (5, 5, 3)
    assert sent == [["f0", "f1"], ["f2", "f3"], ["f4"]]
