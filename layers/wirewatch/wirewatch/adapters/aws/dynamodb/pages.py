"""Reads for the API: newest-first pages over the time index, and per-feed item counts.

Pages walk the month buckets of gsi1 (ITEMS#<yyyy-mm> / STORIES#<yyyy-mm>) newest first. A page
ends at a Position (bucket, sort key of its last record); the next page resumes strictly below it,
so records written meanwhile never shift a page. Topic and severity filters run in DynamoDB; the
page is filled across as many queries as the filter needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from wirewatch.adapters.aws.dynamodb.feeds_items import item_from_record
from wirewatch.adapters.aws.dynamodb.schema import GSI1, GSI2
from wirewatch.adapters.aws.dynamodb.stories import story_from_record
from wirewatch.adapters.aws.dynamodb.table import Table, decode, encode, iso, months_desc
from wirewatch.models import Item, Story
from wirewatch.paging import Page, PageFilter, Position

T = TypeVar("T")
__all__ = ["Page", "PageFilter", "PageStore", "Position"]
# Below every ISO timestamp: the upper bound of a bucket with no position in it.
_TOP = "~"
# With a filter, a query reads this many records at least, so sparse matches take few round trips.
_FILTERED_READ = 100


class PageStore(Table):
    """Paginated, filtered reads of items and stories, and feed activity counts (queries only)."""

    def page_items(self, where: PageFilter, limit: int, after: Position | None = None) -> Page[Item]:
        """Relevant items published in the window, newest first."""
        return self._page("ITEMS", where, limit, after, item_from_record)

    def page_stories(self, where: PageFilter, limit: int, after: Position | None = None) -> Page[Story]:
        """Stories last seen in the window, most recently active first."""
        return self._page("STORIES", where, limit, after, story_from_record)

    def item_counts_by_feed(self, since: datetime, until: datetime) -> dict[str, tuple[int, int]]:
        """(items, relevant items) first seen in [since, until], per feed id, from the day index."""
        total: Counter[str] = Counter()
        relevant: Counter[str] = Counter()
        day = since.astimezone(UTC).date()
        while day <= until.astimezone(UTC).date():
            for record in self._pages(
                {
                    "IndexName": GSI2,
                    "KeyConditionExpression": "gsi2pk = :p AND gsi2sk BETWEEN :a AND :b",
                    "ExpressionAttributeValues": encode(
                        {":p": f"SEEN#{day:%Y-%m-%d}", ":a": iso(since), ":b": f"{iso(until)}#~"}
                    ),
                    "ProjectionExpression": "feed_id, topics",
                }
            ):
                total[record["feed_id"]] += 1
                relevant[record["feed_id"]] += bool(record.get("topics"))
            day += timedelta(days=1)
        return {feed_id: (count, relevant[feed_id]) for feed_id, count in total.items()}

    def _page(
        self,
        prefix: str,
        where: PageFilter,
        limit: int,
        after: Position | None,
        convert: Callable[[dict[str, Any]], T],
    ) -> Page[T]:
        if limit < 1:
            raise ValueError("page limit must be positive")
        found: list[dict[str, Any]] = []
        for bucket in months_desc(where.since, where.until):
            if after and bucket > after.bucket:
                continue
            upper = after.sort_key if after and bucket == after.bucket else f"{iso(where.until)}#{_TOP}"
            for record in self._bucket(f"{prefix}#{bucket}", iso(where.since) or "", upper, where, limit + 1):
                if after and record["gsi1sk"] == after.sort_key:
                    continue  # BETWEEN is inclusive; the resume point itself was on the last page
                found.append(record)
                if len(found) > limit:
                    last = found[limit - 1]
                    position = Position(last["gsi1pk"].split("#", 1)[1], last["gsi1sk"])
                    return Page([convert(r) for r in found[:limit]], position)
        return Page([convert(r) for r in found], None)

    def _bucket(
        self, partition: str, lower: str, upper: str, where: PageFilter, wanted: int
    ) -> Iterator[dict[str, Any]]:
        values: dict[str, Any] = {":p": partition, ":a": lower, ":b": upper}
        names: dict[str, str] = {}
        filters: list[str] = []
        if where.topic:
            names["#topics"] = "topics"
            values[":topic"] = where.topic
            filters.append("contains(#topics, :topic)")
        if where.severities is not None:
            names["#severity"] = "severity"
            keys = [f":sev{n}" for n in range(len(where.severities))]
            values.update(zip(keys, where.severities, strict=True))
            filters.append(f"#severity IN ({', '.join(keys)})")
        request: dict[str, Any] = {
            "IndexName": GSI1,
            "KeyConditionExpression": f"{GSI1}pk = :p AND {GSI1}sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": encode(values),
            "ScanIndexForward": False,
            "Limit": max(wanted, _FILTERED_READ) if filters else wanted,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
            request["ExpressionAttributeNames"] = names
        return self._pages(request)

    def _pages(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        kwargs = {"TableName": self._table, **request}
        while True:
            page = self._call("query", **kwargs)
            for raw in page.get("Items", []):
                yield decode(raw)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
