"""Use cases: poll and dispatch, orchestrated over small ports (no boto3 here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from wirewatch.config import Settings
from wirewatch.errors import UnknownFeed
from wirewatch.feeds.parse import parse_feed
from wirewatch.feeds.state import BackoffPolicy, next_feed_state
from wirewatch.feeds.urls import item_id
from wirewatch.models import Classification, Entry, Feed, Item, Story
from wirewatch.usecases.feeds import FEED_ID
from wirewatch.usecases.stories import StoryPort, attach_stories, joins_story

if TYPE_CHECKING:
    from wirewatch.feeds.fetch import FetchResult  # httpx loads only where feeds are fetched

# Puts are independent conditional writes; a few feeds' in flight hide the round trips.
_WRITE_WORKERS = 16
# Clustered items are written in chunks: parallel round trips on DynamoDB, few transactions on SQLite.
_PUT_CHUNK = 25


class PollStore(StoryPort, Protocol):
    def existing_item_ids(self, item_ids: Iterable[str]) -> set[str]: ...
    def put_items_if_new(self, items: Sequence[tuple[Item, datetime]]) -> list[bool]: ...
    def save_feeds(self, feeds: Sequence[Feed]) -> None: ...


class FeedCatalog(Protocol):
    def list_feeds(self) -> list[Feed]: ...
    def get_feeds(self, feed_ids: Sequence[str]) -> list[Feed]: ...
    def add_feed(self, feed: Feed) -> bool: ...


class PollQueue(Protocol):
    def send_batches(self, batches: Sequence[Sequence[str]]) -> int: ...


# Results may come as they complete (fetch_each) or all at once.
Fetcher = Callable[[Sequence[Feed]], Iterable["FetchResult"]]
Classifier = Callable[[str, str, str | None], Classification]


@dataclass(frozen=True)
class FeedOutcome:
    feed_id: str
    outcome: str  # ok | not_modified | failed | gone
    status: int | None
    entries: int = 0
    new_items: int = 0
    relevant_items: int = 0
    malformed: bool = False
    error: str | None = None


@dataclass(frozen=True)
class PollReport:
    feeds: int
    fetched: int
    not_modified: int
    failed: int
    new_items: int
    relevant_items: int
    outcomes: tuple[FeedOutcome, ...] = ()
    new_relevant: tuple[Item, ...] = field(default=(), repr=False)
    stories: tuple[Story, ...] = field(default=(), repr=False)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [
            {"feed": o.feed_id, "status": o.status, "error": o.error}
            for o in self.outcomes
            if o.outcome in ("failed", "gone")
        ]

    @property
    def items_fetched(self) -> int:
        return sum(o.entries for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable summary (CLI --json, Lambda result, API run record)."""
        return {
            "feeds": self.feeds,
            "fetched": self.fetched,
            "items_fetched": self.items_fetched,
            "not_modified": self.not_modified,
            "failed": self.failed,
            "new_items": self.new_items,
            "relevant_items": self.relevant_items,
            "stories": len(self.stories),
            "errors": self.errors,
        }


def poll(
    feeds: Sequence[Feed],
    *,
    store: PollStore,
    fetch: Fetcher,
    classify: Classifier,
    settings: Settings,
    now: datetime,
) -> PollReport:
    """Fetch feeds concurrently, classify their entries and store each new item exactly once.

    A feed's problems become a recorded failure on that feed; only a store failure raises,
    so the invocation fails and is retried (every write here is idempotent).
    """
    policy = BackoffPolicy(base_seconds=settings.backoff_base_seconds, max_seconds=settings.backoff_max_seconds)
    by_id = {feed.id: feed for feed in feeds}
    new_states: list[Feed] = []
    outcomes: dict[str, FeedOutcome] = {}
    seen: set[str] = set()
    # Each feed's items are stored while later feeds are still downloading; only the items that
    # join stories wait for the end, so they are clustered together (and stories saved first).
    with ThreadPoolExecutor(max_workers=_WRITE_WORKERS) as writer:
        batches: list[Future[tuple[list[Item], list[Item]]]] = []
        for result in fetch(list(by_id.values())):
            feed = by_id[result.feed_id]
            result, entries, outcomes[feed.id] = _read_feed(result, settings)
            new_states.append(next_feed_state(feed, result, now, policy))
            items = build_items(feed, entries, classify=classify, settings=settings, now=now)
            items = [item for item in items if item.id not in seen]  # one item in two feeds: the first wins
            seen.update(item.id for item in items)
            if items:
                batches.append(writer.submit(_store_unless_clustered, store, items, settings, now))
        stored: list[Item] = []
        clusterable: list[Item] = []
        for batch in batches:
            batch_stored, batch_clusterable = batch.result()
            stored += batch_stored
            clusterable += batch_clusterable
        clustered, stories = attach_stories(clusterable, store, now, timedelta(hours=settings.story_window_hours))
        chunks = [clustered[i : i + _PUT_CHUNK] for i in range(0, len(clustered), _PUT_CHUNK)]
        for chunk, written in zip(chunks, writer.map(lambda c: _put_all(store, c, settings, now), chunks), strict=True):
            stored += [item for item, new in zip(chunk, written, strict=True) if new]
    # Feed state (ETag, Last-Modified) is saved only after its items, so a crash refetches rather than skips.
    store.save_feeds(new_states)

    for item in stored:
        o = outcomes[item.feed_id]
        outcomes[item.feed_id] = replace(
            o, new_items=o.new_items + 1, relevant_items=o.relevant_items + int(item.relevant)
        )
    all_outcomes = tuple(outcomes.values())
    return PollReport(
        feeds=len(by_id),
        fetched=sum(o.outcome == "ok" for o in all_outcomes),
        not_modified=sum(o.outcome == "not_modified" for o in all_outcomes),
        failed=sum(o.outcome in ("failed", "gone") for o in all_outcomes),
        new_items=len(stored),
        relevant_items=sum(item.relevant for item in stored),
        outcomes=all_outcomes,
        new_relevant=tuple(item for item in stored if item.relevant and not item.suppressed),
        stories=tuple(stories),
    )


def _read_feed(result: FetchResult, settings: Settings) -> tuple[FetchResult, Sequence[Entry], FeedOutcome]:
    """A fetch result parsed: the result to record (a body that is no feed becomes an error), the
    entries, and the feed's outcome for the report."""
    entries: Sequence[Entry] = ()
    malformed = False
    if result.outcome == "ok":
        parsed = parse_feed(result.body, result.headers, result.url, summary_max=settings.summary_max_chars)
        if parsed.error:
            result = replace(result, outcome="error", error=parsed.error)
        entries, malformed = parsed.entries, parsed.malformed
    outcome = FeedOutcome(
        feed_id=result.feed_id,
        outcome={"error": "failed"}.get(result.outcome, result.outcome),
        status=result.status,
        entries=len(entries),
        malformed=malformed,
        error=result.error,
    )
    return result, entries, outcome


def build_items(
    feed: Feed, entries: Iterable[Entry], *, classify: Classifier, settings: Settings, now: datetime
) -> list[Item]:
    """Items from a feed's entries: identity, time, flood guard and classification."""
    flood_cutoff = now - timedelta(hours=settings.first_run_max_age_hours)
    items = []
    for entry in entries:
        try:
            identity = item_id(entry.guid, entry.link)
        except ValueError:
            continue  # no GUID and no link: nothing stable to deduplicate on
        # A missing or future date falls back to first-seen time; the date never feeds identity.
        published = min(entry.published, now) if entry.published else now
        items.append(
            Item(
                id=identity,
                feed_id=feed.id,
                source=feed.name,
                title=entry.title,
                link=entry.link or "",
                summary=entry.summary,
                published=published,
                first_seen=now,
                language=feed.language,
                classification=classify(entry.title, entry.summary, feed.language),
                suppressed=feed.never_polled and published < flood_cutoff,
            )
        )
    return items


def _expiry(item: Item, settings: Settings, now: datetime) -> datetime:
    return now + timedelta(days=settings.relevant_ttl_days if item.relevant else settings.other_ttl_days)


def _put_all(store: PollStore, items: Sequence[Item], settings: Settings, now: datetime) -> list[bool]:
    """Conditional puts of these items (one transaction on SQLite); True for each one stored."""
    return store.put_items_if_new([(item, _expiry(item, settings, now)) for item in items])


def _store_unless_clustered(
    store: PollStore, items: Sequence[Item], settings: Settings, now: datetime
) -> tuple[list[Item], list[Item]]:
    """Store one feed's new items except those that join stories; returns (stored, left to cluster)."""
    known = store.existing_item_ids(item.id for item in items)
    fresh = [item for item in items if item.id not in known]
    alone = [item for item in fresh if not joins_story(item)]
    # One feed's items go in one call: on SQLite that is one transaction instead of one per item.
    written = _put_all(store, alone, settings, now)
    stored = [item for item, new in zip(alone, written, strict=True) if new]
    return stored, [item for item in fresh if joins_story(item)]


def due_feeds(feeds: Iterable[Feed], now: datetime) -> list[Feed]:
    """Enabled feeds whose next attempt has come (backoff and Retry-After respected)."""
    return [f for f in feeds if f.enabled and (f.next_attempt is None or f.next_attempt <= now)]


@dataclass(frozen=True)
class DispatchReport:
    feeds: int
    due: int
    messages: int
    seeded: int

    def to_dict(self) -> dict[str, int]:
        return {"feeds": self.feeds, "due": self.due, "messages": self.messages, "seeded": self.seeded}


def seed_feeds(catalog: FeedCatalog, feeds: Sequence[Feed]) -> list[Feed]:
    """Add the feeds that are not in the catalog yet, leaving those that exist alone.

    Returns every listed feed as the catalog now has it (stored state for the known ones).
    """
    known = {f.id: f for f in catalog.get_feeds([f.id for f in feeds])}
    for feed in feeds:
        if feed.id not in known and catalog.add_feed(feed):
            known[feed.id] = feed
    return [known[f.id] for f in feeds if f.id in known]


@dataclass(frozen=True)
class FeedSelection:
    feeds: list[Feed]  # every feed of the catalog, after seeding
    due: list[Feed]
    seeded: int


def select_feeds(
    catalog: FeedCatalog,
    *,
    initial_feeds: Callable[[], list[Feed]],
    now: datetime,
    force: bool = False,
    feed_ids: Sequence[str] | None = None,
    listed: Sequence[Feed] | None = None,
) -> FeedSelection:
    """The feeds to poll now: the due ones (every enabled one with force); the initial list is seeded on first run.

    One selection for every way a poll starts: dispatch, `wirewatch poll`, `wirewatch run`, POST /poll.
    `feed_ids` names the feeds (polled even when backing off, as with force; an unknown id is an
    error); `listed` is a feed list to poll, its new feeds added to the catalog first.
    """
    if feed_ids is not None:
        ids = list(dict.fromkeys(feed_ids))
        found = {f.id: f for f in catalog.get_feeds([i for i in ids if FEED_ID.fullmatch(i)])}
        missing = [i for i in ids if i not in found]
        if missing:
            raise UnknownFeed(missing[0])
        named = [found[i] for i in ids]
        return FeedSelection(named, [f for f in named if f.enabled], 0)
    seeded = 0
    if listed is not None:
        feeds = seed_feeds(catalog, listed)
    else:
        feeds = catalog.list_feeds()
        if not feeds:
            feeds = seed_feeds(catalog, initial_feeds())
            seeded = len(feeds)
    due = [f for f in feeds if f.enabled] if force else due_feeds(feeds, now)
    return FeedSelection(feeds, due, seeded)


def dispatch(
    *,
    catalog: FeedCatalog,
    queue: PollQueue,
    initial_feeds: Callable[[], list[Feed]],
    feeds_per_message: int,
    now: datetime,
) -> DispatchReport:
    """Send the feeds that are due to the poll queue in batches; seed the initial list on first run."""
    selection = select_feeds(catalog, initial_feeds=initial_feeds, now=now)
    due = [f.id for f in selection.due]
    batches = [due[i : i + feeds_per_message] for i in range(0, len(due), feeds_per_message)]
    messages = queue.send_batches(batches) if batches else 0
    return DispatchReport(feeds=len(selection.feeds), due=len(due), messages=messages, seeded=selection.seeded)


class ReclassifyStore(Protocol):
    def items_first_seen(self, since: datetime, until: datetime) -> Iterable[Item]: ...
    def update_classification(self, item: Item, classification: Classification, relevant_expiry: datetime) -> None: ...


@dataclass(frozen=True)
class Reclassification:
    item: Item
    new: Classification

    @property
    def gained(self) -> tuple[str, ...]:
        return tuple(t for t in self.new.topics if t not in self.item.classification.topics)

    @property
    def lost(self) -> tuple[str, ...]:
        return tuple(t for t in self.item.classification.topics if t not in self.new.topics)


def reclassify(
    *,
    store: ReclassifyStore,
    classify: Classifier,
    since: datetime,
    now: datetime,
    settings: Settings,
    dry_run: bool,
) -> tuple[int, list[Reclassification]]:
    """Re-run the current rules over stored items; write the changes unless dry_run.

    Returns how many items were examined and the ones whose topics or severity change.
    """
    examined, changes = 0, []
    for item in store.items_first_seen(since, now):
        examined += 1
        new = classify(item.title, item.summary, item.language)
        old = item.classification
        if new.topics != old.topics or new.severity != old.severity:
            changes.append(Reclassification(item, new))
    if not dry_run:
        expiry = now + timedelta(days=settings.relevant_ttl_days)
        for change in changes:
            store.update_classification(change.item, change.new, expiry)
    return examined, changes
