"""Domain records ⇄ JSON text for the SQLite store: datetimes as fixed-width UTC ISO 8601 (sorts as text)."""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def iso(value: datetime | None) -> str | None:
    """Fixed-width UTC ISO 8601, or None (the same text the DynamoDB store keys on)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def to_json(record: Any) -> str:
    """A frozen dataclass (nested ones, tuples, mappings and datetimes included) as JSON text."""
    return json.dumps(_plain(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_json(cls: type[T], text: str) -> T:
    """The dataclass `cls` back from to_json's text."""
    return typing.cast(T, _build(cls, json.loads(text)))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _build(options[0], value) if len(options) == 1 else value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _build(hints[k], v) for k, v in value.items() if k in names})
    if origin is tuple:
        args = typing.get_args(kind)
        inner = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        return tuple(_build(inner, v) for v in value)
    return value
