"""Request validation, cursors, run reports and the local event translation; pure, no network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.adapters.aws.sqs import PollMessage, parse_poll_message
from wirewatch.api.cursor import Cursor, decode_cursor, encode_cursor
from wirewatch.api.errors import BadRequest
from wirewatch.api.requests import limit, min_severity, since
from wirewatch.api.serve import to_event
from wirewatch.paging import Position
from wirewatch.usecases import FeedOutcome, PollReport
from wirewatch.usecases.runs import batch_report

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
KEY = b"k" * 32
POSITION = Position("2026-04", "2026-04-30T10:00:00.000000+00:00#abc123")


def test_cursor_round_trips_and_is_bound_to_its_query() -> None:
    cursor = Cursor("items", POSITION, NOW - timedelta(days=30), ("missile", None, None))
    raw = encode_cursor(cursor, key=KEY)
    assert decode_cursor(raw, "items", ("missile", None, None), key=KEY) == cursor
    with pytest.raises(BadRequest, match="another query"):
        decode_cursor(raw, "items", ("sanctions", None, None), key=KEY)
    with pytest.raises(BadRequest, match="another query"):
        decode_cursor(raw, "stories", ("missile", None, None), key=KEY)


def _signed(data: dict[str, object], key: bytes = KEY) -> str:
    payload = json.dumps(data | {"f": [None, None, None]}, separators=(",", ":")).encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return f"{base64.urlsafe_b64encode(payload).decode()}.{base64.urlsafe_b64encode(tag).decode()}"


@pytest.mark.parametrize(
    "data",
    [
        {"v": 2, "k": "items", "b": "2026-04", "s": "2026-03-30T10:00:00.000000+00:00#abc", "t": NOW.isoformat()},
        {"v": 2, "k": "items", "b": "2026-04", "s": "ITEM#abc", "t": NOW.isoformat()},
        {"v": 3, "k": "items", "b": "2026-04", "s": POSITION.sort_key, "t": NOW.isoformat()},
        {"v": 2, "k": "items", "b": "2026-04", "s": POSITION.sort_key, "t": "2026-05-01T08:00:00"},
        {"v": 2, "k": "items", "b": ["2026-04"], "s": POSITION.sort_key, "t": NOW.isoformat()},
        {"v": 2, "k": "items", "b": "2026-04", "s": POSITION.sort_key},
    ],
)
def test_malformed_cursors_are_refused_even_when_signed(data: dict[str, object]) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_cursor(_signed(data), "items", (None, None, None), key=KEY)
    assert caught.value.field == "cursor"


def test_an_edited_cursor_is_refused_before_its_bounds_are_believed() -> None:
    # Given a cursor this API issued, bounded to a 30-day window
    issued = encode_cursor(Cursor("items", POSITION, NOW - timedelta(days=30), (None, None, None)), key=KEY)
    payload = json.loads(base64.urlsafe_b64decode(issued.split(".")[0] + "=="))
    # When its lower bound is moved back two thousand years (about 24k month queries), or its
    # start month far ahead, keeping its tag, re-signing with another key, or dropping the tag
    edits = [
        payload | {"t": "0001-01-01T00:00:00+00:00"},
        payload | {"b": "9999-12", "s": "9999-12" + POSITION.sort_key[7:]},
    ]
    tag = issued.split(".")[1]
    forged = [
        base64.urlsafe_b64encode(json.dumps(e, separators=(",", ":")).encode()).decode().rstrip("=") for e in edits
    ]
    attempts = [f"{f}.{tag}" for f in forged] + [_signed(edits[0], key=b"another key")] + forged
    # Then every one is a 400 naming the cursor
    for raw in attempts:
        with pytest.raises(BadRequest) as caught:
            decode_cursor(raw, "items", (None, None, None), key=KEY)
        assert caught.value.code == "invalid_cursor"


def test_an_unsigned_v1_cursor_is_no_longer_accepted() -> None:
    v1 = {"v": 1, "k": "items", "b": "2026-04", "s": POSITION.sort_key, "t": NOW.isoformat(), "f": [None, None, None]}
    raw = base64.urlsafe_b64encode(json.dumps(v1).encode()).decode()
    with pytest.raises(BadRequest):
        decode_cursor(raw, "items", (None, None, None), key=KEY)


@pytest.mark.parametrize(("raw", "expected"), [(None, 50), ("1", 1), ("200", 200)])
def test_limit_accepts_1_to_200(raw: str | None, expected: int) -> None:
    assert limit({} if raw is None else {"limit": raw}) == expected


@pytest.mark.parametrize("raw", ["0", "201", "-1", "1.5", "", "²", "9" * 20])
def test_limit_refuses_anything_else(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        limit({"limit": raw})
    assert caught.value.field == "limit"


def test_min_severity_keeps_that_severity_and_above() -> None:
    assert min_severity({"severity": "high"}) == ["high", "urgent"]
    assert min_severity({}) is None


def test_since_reads_dates_and_offsets_and_clamps_to_the_horizon() -> None:
    assert since({"since": "2026-04-30"}, NOW, timedelta(days=366)) == datetime(2026, 4, 30, tzinfo=UTC)
    assert since({"since": "2026-04-30T09:00:00+09:00"}, NOW, timedelta(days=366)) == datetime(2026, 4, 30, tzinfo=UTC)
    assert since({"since": "0001-01-01T00:00:00+05:00"}, NOW, timedelta(days=10)) == NOW - timedelta(days=10)
    with pytest.raises(BadRequest):
        since({"since": "last tuesday"}, NOW, timedelta(days=10))


def test_poll_messages() -> None:
    assert parse_poll_message('{"feed_ids": ["a"]}') == PollMessage(["a"])
    assert parse_poll_message('{"feed_ids": ["a"], "run_id": "run-1-ab", "batch": 3}') == PollMessage(
        ["a"], ("run-1-ab", 3)
    )
    for bad in (
        '{"feed_ids": ["a"], "run_id": "run-1", "batch": "3"}',
        '{"feed_ids": ["a"], "run_id": "RUN#x", "batch": 0}',
        '{"feed_ids": ["a"], "run_id": "run-1"}',
        '{"feed_ids": "a"}',
        '{"feed_ids": [1]}',
        "[]",
    ):
        with pytest.raises(ValueError):
            parse_poll_message(bad)


def test_batch_report_counts_only_the_batch_feeds() -> None:
    report = PollReport(
        feeds=3,
        fetched=2,
        not_modified=0,
        failed=1,
        new_items=5,
        relevant_items=2,
        outcomes=(
            FeedOutcome("a", "ok", 200, new_items=3, relevant_items=1),
            FeedOutcome("b", "ok", 200, new_items=2, relevant_items=1),
            FeedOutcome("c", "failed", 500, error="HTTP 500"),
        ),
    )
    counts, errors = batch_report(report, ["a", "c"])
    assert counts == {
        "feeds": 2,
        "fetched": 1,
        "not_modified": 0,
        "failed": 1,
        "new_items": 3,
        "relevant_items": 1,
        "stories": 0,
    }
    assert errors == [{"feed": "c", "status": 500, "error": "HTTP 500"}]


def test_local_requests_become_api_gateway_v2_events() -> None:
    event = to_event(
        "POST",
        "/unsubscribe?token=a&x=1&x=2",
        [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "a=1; b=2")],
        b"List-Unsubscribe=One-Click",
        "127.0.0.1",
    )
    assert event["rawPath"] == "/unsubscribe" and event["requestContext"]["http"]["method"] == "POST"
    assert event["queryStringParameters"] == {"token": "a", "x": "1,2"}
    assert event["cookies"] == ["a=1", "b=2"] and "authorizer" not in event["requestContext"]
    assert event["body"] == "List-Unsubscribe=One-Click" and event["isBase64Encoded"] is False
    binary = to_event("POST", "/feeds", [], b"\xff\xfe", "127.0.0.1")
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\xff\xfe"


def test_since_reads_the_durations_the_cli_takes_and_clamps_them_too() -> None:
    assert since({"since": "24h"}, NOW, timedelta(days=366)) == NOW - timedelta(hours=24)
    assert since({"since": "2w"}, NOW, timedelta(days=366)) == NOW - timedelta(weeks=2)
    assert since({"since": "400d"}, NOW, timedelta(days=30)) == NOW - timedelta(days=30)
    with pytest.raises(BadRequest, match="too long"):
        since({"since": "999999d"}, NOW, timedelta(days=30))
