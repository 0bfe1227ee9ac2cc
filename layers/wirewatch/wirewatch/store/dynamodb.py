"""The DynamoDB repository: the only module that talks to the table.

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
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from wirewatch.models import Classification, Evidence, Feed, Item
from wirewatch.store.schema import GSI1, GSI2, TTL_ATTRIBUTE

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreError(RuntimeError):
    """The table could not be read or written."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _month(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m")


def _encode(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_decimals(v)) for k, v in record.items() if v is not None}


def _decode(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


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
        "last_success": _iso(feed.last_success),
        "last_attempt": _iso(feed.last_attempt),
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "consecutive_failures": feed.consecutive_failures,
        "next_attempt": _iso(feed.next_attempt),
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
        last_success=_dt(record.get("last_success")),
        last_attempt=_dt(record.get("last_attempt")),
        last_status=int(record["last_status"]) if record.get("last_status") is not None else None,
        last_error=record.get("last_error"),
        consecutive_failures=int(record.get("consecutive_failures", 0)),
        next_attempt=_dt(record.get("next_attempt")),
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
        "published": _iso(item.published),
        "first_seen": _iso(item.first_seen),
        "language": item.language,
        "suppressed": item.suppressed,
        "story_id": item.story_id,
        TTL_ATTRIBUTE: int(expires_at.timestamp()),
        "gsi2pk": f"SEEN#{item.first_seen.astimezone(UTC):%Y-%m-%d}",
        "gsi2sk": f"{_iso(item.first_seen)}#{item.id}",
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
    return {"gsi1pk": f"ITEMS#{_month(item.published)}", "gsi1sk": f"{_iso(item.published)}#{item.id}"}


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
    first_seen = _dt(record["first_seen"]) or datetime.now(UTC)
    published = _dt(record.get("published")) or first_seen
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


class Repository:
    """Feeds and items in one DynamoDB table, through a given low-level client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

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

    def save_feed(self, feed: Feed) -> None:
        """Write a feed's whole record (config and fetch state)."""
        self._call("put_item", TableName=self._table, Item=_encode(feed_to_record(feed)))

    def add_feed(self, feed: Feed) -> bool:
        """Add a feed unless one with its id exists; True when added."""
        return self._put_if_absent(feed_to_record(feed))

    def delete_feed(self, feed_id: str) -> bool:
        """Delete a feed; True when it existed."""
        response = self._call(
            "delete_item",
            TableName=self._table,
            Key=_encode({"pk": f"FEED#{feed_id}", "sk": "FEED"}),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in response

    # items

    def existing_item_ids(self, item_ids: Iterable[str]) -> set[str]:
        """Which of these item ids are already stored (keys only, eventually consistent)."""
        keys = [{"pk": f"ITEM#{iid}", "sk": "ITEM"} for iid in dict.fromkeys(item_ids)]
        return {r["id"] for r in self._batch_get(keys, projection="id")}

    def put_item_if_new(self, item: Item, expires_at: datetime) -> bool:
        """Store an item unless it exists (one conditional put); True when stored."""
        return self._put_if_absent(item_to_record(item, expires_at))

    def get_item(self, item_id: str) -> Item | None:
        """One item, or None."""
        found = self._batch_get([{"pk": f"ITEM#{item_id}", "sk": "ITEM"}])
        return item_from_record(found[0]) if found else None

    def relevant_items(
        self, since: datetime, until: datetime, *, topic: str | None = None, limit: int | None = None
    ) -> list[Item]:
        """Relevant items published in [since, until], newest first, from the time index."""
        items: list[Item] = []
        for month in _months_desc(since, until):
            for record in self._query(
                GSI1, f"ITEMS#{month}", between=(_iso(since) or "", f"{_iso(until)}#~"), newest_first=True
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
            bounds = (_iso(since) or "", f"{_iso(until)}#~")
            for record in self._query(GSI2, f"SEEN#{day:%Y-%m-%d}", between=bounds):
                yield item_from_record(record)
            day += timedelta(days=1)

    def update_classification(
        self, item: Item, classification: Classification, relevant_expiry: datetime
    ) -> None:
        """Replace an item's classification, moving it into or out of the relevant index."""
        fields = _classification_fields(classification)
        names = {f"#{k}": k for k in fields}
        values = {f":{k}": v for k, v in fields.items()}
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in fields)
        if classification.relevant:
            index = _relevant_index(item)
            names.update({f"#{k}": k for k in index} | {"#ttl": TTL_ATTRIBUTE})
            values.update({f":{k}": v for k, v in index.items()} | {":ttl": int(relevant_expiry.timestamp())})
            update += ", " + ", ".join(f"#{k} = :{k}" for k in index) + ", #ttl = :ttl"
        else:
            update += " REMOVE gsi1pk, gsi1sk"
        self._call(
            "update_item",
            TableName=self._table,
            Key=_encode({"pk": f"ITEM#{item.id}", "sk": "ITEM"}),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_encode(values),
        )

    # plumbing

    def _put_if_absent(self, record: dict[str, Any]) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=_encode(record), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"put {record['pk']} failed: {exc}") from exc
        return True

    def _query(
        self,
        index: str,
        partition: str,
        *,
        between: tuple[str, str] | None = None,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]:
        # Index names double as their key attribute prefixes: gsi1 → gsi1pk / gsi1sk.
        condition = f"{index}pk = :p"
        values: dict[str, Any] = {":p": partition}
        if between:
            condition += f" AND {index}sk BETWEEN :a AND :b"
            values.update({":a": between[0], ":b": between[1]})
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": _encode(values),
            "ScanIndexForward": not newest_first,
        }
        while True:
            page = self._call("query", **kwargs)
            for raw in page.get("Items", []):
                yield _decode(raw)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_get(self, keys: list[dict[str, str]], projection: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {"Keys": [_encode(k) for k in keys[start : start + 100]]}
            if projection:
                request["ProjectionExpression"] = projection
            pending = {self._table: request}
            for _attempt in range(8):
                response = self._call("batch_get_item", RequestItems=pending)
                found.extend(_decode(r) for r in response.get("Responses", {}).get(self._table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise StoreError("batch get left keys unprocessed after retries")
        return found

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            raise StoreError(f"{operation} on {self._table} failed: {exc}") from exc


def _months_desc(since: datetime, until: datetime) -> list[str]:
    months: list[str] = []
    cursor = until.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    floor = since.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor >= floor:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    return months
