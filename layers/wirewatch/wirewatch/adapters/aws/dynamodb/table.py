"""Plumbing shared by the repositories: one table, a given low-level client, typed (de)serialisation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from wirewatch.errors import ConflictError, StoreError

__all__ = ["ConflictError", "StoreError", "Table"]


def iso(value: datetime | None) -> str | None:
    """Fixed-width UTC ISO 8601 (sorts as text), or None."""
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def parse_dt(value: Any) -> datetime | None:
    """Datetime from iso(), or None."""
    return datetime.fromisoformat(value) if value else None


def month(value: datetime) -> str:
    """The yyyy-mm bucket of a time."""
    return value.astimezone(UTC).strftime("%Y-%m")


def months_desc(since: datetime, until: datetime) -> list[str]:
    """The yyyy-mm buckets touched by [since, until], newest first."""
    months: list[str] = []
    cursor = until.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    floor = since.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor >= floor:
        months.append(cursor.strftime("%Y-%m"))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    return months


def encode(record: dict[str, Any]) -> dict[str, Any]:
    """Plain record → DynamoDB attribute values (None dropped)."""
    return {k: to_attribute(v) for k, v in record.items() if v is not None}


def decode(raw: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → plain record."""
    return {k: from_attribute(v) for k, v in raw.items()}


# The few DynamoDB types our records use. (boto3's TypeSerializer would do the same, but importing it
# loads boto3 and s3transfer on every cold start.)
def to_attribute(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, bytes):
        return {"B": value}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_attribute(attribute: dict[str, Any]) -> Any:
    """One DynamoDB attribute value as a Python value (numbers: int when whole, else float)."""
    ((kind, value),) = attribute.items()
    if kind in ("S", "BOOL", "B"):
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind in ("SS", "NS", "BS"):
        return set(value) if kind != "NS" else {from_attribute({"N": v}) for v in value}
    raise TypeError(f"unknown DynamoDB type {kind}")


class Table:
    """Calls on one table through a given client, with errors raised as StoreError."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _put_if_absent(self, record: dict[str, Any]) -> bool:
        """Conditional put of a new record; False when one with its key exists."""
        try:
            self._put(record, "attribute_not_exists(pk)")
        except ConflictError:
            return False
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
            "ExpressionAttributeValues": encode(values),
            "ScanIndexForward": not newest_first,
        }
        yield from self._pages(kwargs)

    def _pages(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, following LastEvaluatedKey."""
        while True:
            page = self._call("query", **kwargs)
            for raw in page.get("Items", []):
                yield decode(raw)
            if "LastEvaluatedKey" not in page:
                return
            kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _batch_put(self, records: list[dict[str, Any]]) -> None:
        """Unconditional puts, 25 a request (for records whose last writer may win, like feed state)."""
        for start in range(0, len(records), 25):
            pending = {self._table: [{"PutRequest": {"Item": encode(r)}} for r in records[start : start + 25]]}
            for _attempt in range(8):
                pending = self._call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise StoreError("batch write left records unprocessed after retries")

    def _delete(self, pk: str, sk: str) -> bool:
        """Delete one record; True when it existed."""
        response = self._call(
            "delete_item", TableName=self._table, Key=encode({"pk": pk, "sk": sk}), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def _batch_get(self, keys: list[dict[str, str]], projection: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {"Keys": [encode(k) for k in keys[start : start + 100]]}
            if projection:
                request["ProjectionExpression"] = projection
            pending = {self._table: request}
            for _attempt in range(8):
                response = self._call("batch_get_item", RequestItems=pending)
                found.extend(decode(r) for r in response.get("Responses", {}).get(self._table, []))
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

    def _put(
        self,
        record: dict[str, Any],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": encode(record)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = encode(values)
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError(f"{record['pk']} changed concurrently") from exc
            raise StoreError(f"put {record['pk']} failed: {exc}") from exc

    def _query_partition(self, pk: str, sk_prefix: str, *, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": encode({":p": pk, ":s": sk_prefix}),
            "ScanIndexForward": not newest_first,
        }
        yield from self._pages(kwargs)

    def _update(
        self,
        pk: str,
        sk: str,
        fields: dict[str, Any],
        *,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
    ) -> None:
        """SET the non-None fields, REMOVE the None ones, ADD counters; conditional (default: item exists)."""
        add = add or {}
        names = {f"#{k}": k for k in fields} | {f"#{k}": k for k in add}
        values = {f":{k}": v for k, v in fields.items() if v is not None} | {f":{k}": v for k, v in add.items()}
        values |= condition_values or {}
        sets = [f"#{k} = :{k}" for k, v in fields.items() if v is not None]
        removes = [f"#{k}" for k, v in fields.items() if v is None]
        adds = [f"#{k} :{k}" for k in add]
        expression = " ".join(
            f"{verb} {', '.join(parts)}" for verb, parts in (("SET", sets), ("REMOVE", removes), ("ADD", adds)) if parts
        )
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": encode({"pk": pk, "sk": sk}),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ConditionExpression": condition or "attribute_exists(pk)",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = encode(values)
        try:
            self._client.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError(f"{pk} changed concurrently or does not exist") from exc
            raise StoreError(f"update {pk} failed: {exc}") from exc

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self._batch_get([{"pk": pk, "sk": sk}])
        return found[0] if found else None
