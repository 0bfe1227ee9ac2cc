"""Explicit request validation: every refusal is a BadRequest naming the parameter or field."""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from wirewatch.api.errors import BadRequest
from wirewatch.durations import is_duration, parse_duration
from wirewatch.models import SEVERITIES, TOPICS

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
DEFAULT_SINCE = timedelta(days=30)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):[0-5][0-9]")
# No API field is multi-line or formatted text: control characters (NUL, CR/LF, ESC ...), lone
# surrogates (valid JSON escapes, but not encodable: a 500 later) and bidi controls are refused.
_BAD_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def query(event: APIGatewayProxyEventV2, allowed: Collection[str]) -> dict[str, str]:
    """The query string, refusing parameters this route does not take."""
    params = dict(event.query_string_parameters or {})
    for name in sorted(params):
        if name not in allowed:
            expected = ", ".join(sorted(allowed)) or "none"
            raise BadRequest("unknown_parameter", f"unknown query parameter {name!r} (expected: {expected})", name)
    return params


def path_id(raw: str, name: str = "id") -> str:
    """A path identifier, percent-decoded and checked for shape."""
    value = unquote(raw)
    if not _ID.fullmatch(value):
        raise BadRequest("invalid_parameter", f"{name} is not a valid identifier", name)
    return value


def json_object(
    event: APIGatewayProxyEventV2,
    *,
    required: Collection[str] = (),
    optional: Collection[str] = (),
    empty_ok: bool = False,
) -> dict[str, Any]:
    """The body as a JSON object with only known fields and every required one."""
    try:
        raw = event.decoded_body
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("invalid_body", "the body could not be decoded") from exc
    if raw is None or not raw.strip():
        if empty_ok and not required:
            return {}
        raise BadRequest("missing_body", "a JSON object body is required")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "the body must be a JSON object")
    _refuse_bad_characters(data)
    known = set(required) | set(optional)
    for name in data:
        if name not in known:
            raise BadRequest("unknown_field", f"unknown field {name!r} (expected: {', '.join(sorted(known))})", name)
    for name in required:
        if name not in data:
            raise BadRequest("missing_field", f"{name} is required", name)
    return data


def _refuse_bad_characters(value: Any, field: str | None = None) -> None:
    """BadRequest naming the field when any string in value (keys too) holds a refused character."""
    if isinstance(value, str):
        bad = _BAD_CHARACTERS.search(value)
        if bad:
            where = field or "the body"
            raise BadRequest(
                "invalid_field",
                f"{where} contains a control, bidi or unpaired surrogate character (U+{ord(bad.group()):04X})",
                field,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if field is None else f"{field}.{key}"
            _refuse_bad_characters(key, field)
            _refuse_bad_characters(item, name)
    elif isinstance(value, list):
        for item in value:
            _refuse_bad_characters(item, field)


def string(data: Mapping[str, Any], name: str, *, max_length: int = 200, default: str | None = None) -> str | None:
    """An optional non-empty string field (absent: default; null is refused)."""
    if name not in data:
        return default
    value = data[name]
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise BadRequest("invalid_field", f"{name} must be a non-empty string of at most {max_length} characters", name)
    return value


def boolean(data: Mapping[str, Any], name: str) -> bool | None:
    """An optional boolean field (null is refused)."""
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, bool):
        raise BadRequest("invalid_field", f"{name} must be true or false", name)
    return value


def string_list(data: Mapping[str, Any], name: str, *, max_items: int, max_length: int = 200) -> list[str] | None:
    """An optional non-empty list of strings (null is refused)."""
    if name not in data:
        return None
    value = data[name]
    if (
        not isinstance(value, list)
        or not value
        or len(value) > max_items
        or not all(isinstance(v, str) and 0 < len(v) <= max_length for v in value)
    ):
        raise BadRequest("invalid_field", f"{name} must be a list of 1 to {max_items} strings", name)
    return value


def is_clock(value: Any) -> bool:
    """Whether value is an H:MM / HH:MM wall-clock time (ASCII digits, 24-hour)."""
    return isinstance(value, str) and _CLOCK.fullmatch(value) is not None


def clock(data: Mapping[str, Any], name: str) -> str | None:
    """An optional wall-clock time field (null is refused)."""
    if name not in data:
        return None
    value = data[name]
    if not is_clock(value):
        raise BadRequest("invalid_field", f"{name} must be a 24-hour time HH:MM", name)
    return value


def flag(params: Mapping[str, str], name: str) -> bool:
    """A true/false query parameter (absent: false)."""
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequest("invalid_parameter", f"{name} must be true or false", name)
    return value == "true"


def limit(params: Mapping[str, str]) -> int:
    """Page size: 1 to MAX_LIMIT."""
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise BadRequest("invalid_parameter", "limit must be a whole number", "limit")
    value = int(raw)
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest("invalid_parameter", f"limit must be between 1 and {MAX_LIMIT}", "limit")
    return value


def topic(params: Mapping[str, str]) -> str | None:
    """A topic filter."""
    value = params.get("topic")
    if value is not None and value not in TOPICS:
        raise BadRequest("invalid_parameter", f"unknown topic {value!r} (choose from {', '.join(TOPICS)})", "topic")
    return value


def min_severity(params: Mapping[str, str]) -> list[str] | None:
    """A minimum-severity filter, as the severities it keeps."""
    value = params.get("severity")
    if value is None:
        return None
    ranked = SEVERITIES[1:]
    if value not in ranked:
        raise BadRequest(
            "invalid_parameter", f"unknown severity {value!r} (choose from {', '.join(ranked)})", "severity"
        )
    return list(ranked[ranked.index(value) :])


def since(params: Mapping[str, str], now: datetime, horizon: timedelta) -> datetime | None:
    """A duration back from now ('24h', '7d') or an ISO 8601 date or date-time (UTC when no offset), clamped to
    what the table still holds."""
    raw = params.get("since")
    if raw is None:
        return None
    if is_duration(raw):
        try:
            return max(now - parse_duration(raw), now - horizon)
        except ValueError as exc:
            raise BadRequest("invalid_parameter", str(exc), "since") from None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequest(
            "invalid_parameter", "since must be a duration (24h, 7d) or an ISO 8601 date or date-time", "since"
        ) from exc
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: past the horizon either way
        value = datetime.min.replace(tzinfo=UTC) if value.year == 1 else datetime.max.replace(tzinfo=UTC)
    return max(value, now - horizon)
