"""Feeds and items.

One table, single-table design (see DESIGN.md):
  FEED#<id> / FEED          gsi1: FEEDS / <id>
  ITEM#<id> / ITEM          gsi1 (relevant items only, sparse): ITEMS#<yyyy-mm> / <published iso>#<id>
                            gsi2 (every item): SEEN#<yyyy-mm-dd> / <first seen iso>#<id>
Relevant items are bucketed by month so a time-window read is one Query per month touched; gsi2
serves re-classification of history, day by day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from wirewatch.adapters.aws.dynamodb.schema import GSI1, GSI2, TTL_ATTRIBUTE
from wirewatch.adapters.aws.dynamodb.table import Table, iso, month, months_desc, parse_dt
from wirewatch.models import Classification, Evidence, Feed, Item


def feed_to_record(feed: Feed) -> dict[str, Any]:
    """Table record of a feed."""
    return {
        "pk": f"FEED#{feed.id}",
        "sk": "FEED",
        "gsi1pk": "FEEDS",
        "gsi1sk": feed.id,
        "type": "feed",
        "id": feed.id,
        "url": feed.url,
        "name": feed.name,
        "language": feed.language,
        "enabled": feed.enabled,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "last_success": iso(feed.last_success),
        "last_attempt": iso(feed.last_attempt),
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "consecutive_failures": feed.consecutive_failures,
        "next_attempt": iso(feed.next_attempt),
        "disabled_reason": feed.disabled_reason,
    }


def feed_from_record(record: dict[str, Any]) -> Feed:
    """Feed from its table record."""
    return Feed(
        id=record["id"],
        url=record["url"],
        name=record["name"],
        language=record.get("language", "en"),
        enabled=bool(record.get("enabled", True)),
        etag=record.get("etag"),
        last_modified=record.get("last_modified"),
        last_success=parse_dt(record.get("last_success")),
        last_attempt=parse_dt(record.get("last_attempt")),
        last_status=int(record["last_status"]) if record.get("last_status") is not None else None,
        last_error=record.get("last_error"),
        consecutive_failures=int(record.get("consecutive_failures", 0)),
        next_attempt=parse_dt(record.get("next_attempt")),
        disabled_reason=record.get("disabled_reason"),
    )


def item_to_record(item: Item, expires_at: datetime) -> dict[str, Any]:
    """Table record of an item; relevant items also go into the sparse time index."""
    record: dict[str, Any] = {
        "pk": f"ITEM#{item.id}",
        "sk": "ITEM",
        "type": "item",
        "id": item.id,
        "feed_id": item.feed_id,
        "source": item.source,
        "title": item.title,
        "link": item.link,
        "summary": item.summary,
        "published": iso(item.published),
        "first_seen": iso(item.first_seen),
        "language": item.language,
        "suppressed": item.suppressed,
        "story_id": item.story_id,
        TTL_ATTRIBUTE: int(expires_at.timestamp()),
        "gsi2pk": f"SEEN#{item.first_seen.astimezone(UTC):%Y-%m-%d}",
        "gsi2sk": f"{iso(item.first_seen)}#{item.id}",
    }
    record.update(_classification_fields(item.classification))
    if item.relevant:
        record.update(_relevant_index(item))
    return record


def _classification_fields(c: Classification) -> dict[str, Any]:
    return {
        "topics": list(c.topics),
        "severity": c.severity,
        "severity_reason": c.severity_reason,
        "score": max(c.scores.values(), default=0.0),
        # Nested, float-bearing parts stay JSON so they round-trip exactly.
        "scores": json.dumps(dict(c.scores), sort_keys=True),
        "evidence": json.dumps([asdict(e) for e in c.evidence], ensure_ascii=False),
        "facts": json.dumps(dict(c.facts), ensure_ascii=False, sort_keys=True),
    }


def _relevant_index(item: Item) -> dict[str, str]:
    return {"gsi1pk": f"ITEMS#{month(item.published)}", "gsi1sk": f"{iso(item.published)}#{item.id}"}


def item_from_record(record: dict[str, Any]) -> Item:
    """Item from its table record."""
    classification = Classification(
        topics=tuple(record.get("topics", [])),
        scores=json.loads(record.get("scores", "{}")),
        severity=record.get("severity", "none"),
        severity_reason=record.get("severity_reason", ""),
        evidence=tuple(Evidence(**e) for e in json.loads(record.get("evidence", "[]"))),
        facts=json.loads(record.get("facts", "{}")),
    )
    first_seen = parse_dt(record["first_seen"]) or datetime.now(UTC)
    published = parse_dt(record.get("published")) or first_seen
    return Item(
        id=record["id"],
        feed_id=record["feed_id"],
        source=record.get("source", ""),
        title=record.get("title", ""),
        link=record.get("link", ""),
        summary=record.get("summary", ""),
        published=published,
        first_seen=first_seen,
        language=record.get("language", "en"),
        classification=classification,
        suppressed=bool(record.get("suppressed", False)),
        story_id=record.get("story_id"),
    )


class FeedItemStore(Table):
    """Feeds and items."""

    # feeds

    def list_feeds(self) -> list[Feed]:
        """Every feed, from the index (no Scan)."""
        return [feed_from_record(r) for r in self._query(GSI1, "FEEDS")]

    def get_feeds(self, feed_ids: Sequence[str]) -> list[Feed]:
        """The feeds with these ids that exist."""
        keys = [{"pk": f"FEED#{fid}", "sk": "FEED"} for fid in dict.fromkeys(feed_ids)]
        return [feed_from_record(r) for r in self._batch_get(keys)]

    def get_feed(self, feed_id: str) -> Feed | None:
        """One feed, or None."""
        found = self.get_feeds([feed_id])
        return found[0] if found else None

    def save_feeds(self, feeds: Sequence[Feed]) -> None:
        """Write many feeds' records (fetch state after a poll), 25 a request."""
        self._batch_put([feed_to_record(f) for f in feeds])

    def add_feed(self, feed: Feed) -> bool:
        """Add a feed unless one with its id exists; True when added."""
        return self._put_if_absent(feed_to_record(feed))

    def delete_feed(self, feed_id: str) -> bool:
        """Delete a feed; True when it existed."""
        return self._delete(f"FEED#{feed_id}", "FEED")

    # items

    def existing_item_ids(self, item_ids: Iterable[str]) -> set[str]:
        """Which of these item ids are already stored (keys only, eventually consistent)."""
        keys = [{"pk": f"ITEM#{iid}", "sk": "ITEM"} for iid in dict.fromkeys(item_ids)]
        return {r["id"] for r in self._batch_get(keys, projection="id")}

    def put_item_if_new(self, item: Item, expires_at: datetime) -> bool:
        """Store an item unless it exists (one conditional put); True when stored."""
        return self._put_if_absent(item_to_record(item, expires_at))

    def put_items_if_new(self, items: Sequence[tuple[Item, datetime]]) -> list[bool]:
        """Store each item unless it exists (a conditional put each: BatchWriteItem carries no condition)."""
        return [self.put_item_if_new(item, expires_at) for item, expires_at in items]

    def relevant_items(
        self, since: datetime, until: datetime, *, topic: str | None = None, limit: int | None = None
    ) -> list[Item]:
        """Relevant items published in [since, until], newest first, from the time index."""
        items: list[Item] = []
        for bucket in months_desc(since, until):
            for record in self._query(
                GSI1, f"ITEMS#{bucket}", between=(iso(since) or "", f"{iso(until)}#~"), newest_first=True
            ):
                if topic and topic not in record.get("topics", []):
                    continue
                items.append(item_from_record(record))
                if limit is not None and len(items) >= limit:
                    return items
        return items

    def items_first_seen(self, since: datetime, until: datetime) -> Iterator[Item]:
        """Every stored item first seen in [since, until], relevant or not, from the day index."""
        day = since.astimezone(UTC).date()
        while day <= until.astimezone(UTC).date():
            bounds = (iso(since) or "", f"{iso(until)}#~")
            for record in self._query(GSI2, f"SEEN#{day:%Y-%m-%d}", between=bounds):
                yield item_from_record(record)
            day += timedelta(days=1)

    def update_classification(self, item: Item, classification: Classification, relevant_expiry: datetime) -> None:
        """Replace an item's classification, moving it into or out of the relevant index."""
        fields: dict[str, Any] = _classification_fields(classification)
        if classification.relevant:
            fields |= _relevant_index(item) | {TTL_ATTRIBUTE: int(relevant_expiry.timestamp())}
        else:
            fields |= {"gsi1pk": None, "gsi1sk": None}
        self._update(f"ITEM#{item.id}", "ITEM", fields)
