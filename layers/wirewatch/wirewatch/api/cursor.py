"""Opaque page cursors: base64url JSON of where the last page ended and the query it belongs to.

Signed (HMAC-SHA256, a key derived from the link-signing key): the cursor carries the window's
lower bound and the month the next page starts in, and a page read walks every month between
them, so an edited cursor could turn one request into thousands of month queries past the
date clamp. The MAC covers every field, so only the bounds this API clamped and issued come back.
It is also checked field by field and bound to the kind and the filters of its query, so a
mangled or misplaced cursor is a 400, never a strange page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from wirewatch.api.errors import BadRequest
from wirewatch.paging import Position

_MAX_LENGTH = 600
_VERSION = 2
_KEY_PURPOSE = b"wirewatch page cursor v2"
_TAG_BYTES = 16
_BUCKET = re.compile(r"\d{4}-\d{2}")
_SORT_KEY = re.compile(r"(\d{4}-\d{2})-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00#[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class Cursor:
    kind: str
    position: Position
    since: datetime
    filters: tuple[str | None, ...]


def cursor_key() -> bytes:
    """The cursor MAC key: derived from the link-signing key, so a link token is never a cursor tag."""
    from wirewatch import runtime

    return hmac.new(runtime.token_key(), _KEY_PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(cursor: Cursor, *, key: bytes | None = None) -> str:
    """The opaque string handed to the caller: payload.tag (key: cursor_key() unless given)."""
    data = {
        "v": _VERSION,
        "k": cursor.kind,
        "b": cursor.position.bucket,
        "s": cursor.position.sort_key,
        "t": cursor.since.isoformat(),
        "f": list(cursor.filters),
    }
    payload = json.dumps(data, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_tag(key or cursor_key(), payload))}"


def decode_cursor(raw: str, kind: str, filters: Sequence[str | None], *, key: bytes | None = None) -> Cursor:
    """The cursor of a page of `kind` with these filters; BadRequest when it is anything else."""
    try:
        if len(raw) > _MAX_LENGTH or not raw.isascii():
            raise ValueError("too long")
        encoded, _, tag = raw.partition(".")
        payload = _unb64(encoded)
        # Checked before anything in it is believed: an edited bound is refused, not clamped.
        if not tag or not hmac.compare_digest(_unb64(tag), _tag(key or cursor_key(), payload)):
            raise ValueError("bad tag")
        data = json.loads(payload)
        bucket, sort_key, since = data["b"], data["s"], datetime.fromisoformat(data["t"])
        key_match = _SORT_KEY.fullmatch(sort_key)
        valid = (
            data["v"] == _VERSION
            and isinstance(bucket, str)
            and _BUCKET.fullmatch(bucket)
            and key_match is not None
            and key_match.group(1) == bucket
            and since.tzinfo is not None
            and isinstance(data["f"], list)
        )
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_cursor", "cursor is not one this API issued", "cursor") from exc
    if not valid:
        raise BadRequest("invalid_cursor", "cursor is not one this API issued", "cursor")
    if data["k"] != kind or data["f"] != list(filters):
        raise BadRequest("invalid_cursor", "cursor belongs to another query (keep the same filters)", "cursor")
    return Cursor(kind, Position(bucket, sort_key), since, tuple(data["f"]))
