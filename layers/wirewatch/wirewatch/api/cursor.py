"""Opaque page cursors: base64url JSON of where the last page ended and the query it belongs to.

Not signed: every caller of a paginated route may read the whole index anyway, so a crafted cursor
can only skip records it could have read. It is still checked field by field, and bound to the
kind, the filters and the window of its query, so a mangled or misplaced cursor is a 400, never a
strange page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from wirewatch.api.errors import BadRequest
from wirewatch.paging import Position

_MAX_LENGTH = 600
_BUCKET = re.compile(r"\d{4}-\d{2}")
_SORT_KEY = re.compile(r"(\d{4}-\d{2})-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00#[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class Cursor:
    kind: str
    position: Position
    since: datetime
    filters: tuple[str | None, ...]


def encode_cursor(cursor: Cursor) -> str:
    """The opaque string handed to the caller."""
    data = {
        "v": 1,
        "k": cursor.kind,
        "b": cursor.position.bucket,
        "s": cursor.position.sort_key,
        "t": cursor.since.isoformat(),
        "f": list(cursor.filters),
    }
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def decode_cursor(raw: str, kind: str, filters: Sequence[str | None]) -> Cursor:
    """The cursor of a page of `kind` with these filters; BadRequest when it is anything else."""
    try:
        if len(raw) > _MAX_LENGTH or not raw.isascii():
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        bucket, sort_key, since = data["b"], data["s"], datetime.fromisoformat(data["t"])
        key = _SORT_KEY.fullmatch(sort_key)
        valid = (
            data["v"] == 1
            and isinstance(bucket, str)
            and _BUCKET.fullmatch(bucket)
            and key is not None
            and key.group(1) == bucket
            and since.tzinfo is not None
            and isinstance(data["f"], list)
        )
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_cursor", "cursor is not one this API issued", "cursor") from exc
    if not valid:
        raise BadRequest("invalid_cursor", "cursor is not one this API issued", "cursor")
    if data["k"] != kind or data["f"] != list(filters):
        raise BadRequest("invalid_cursor", "cursor belongs to another query (keep the same filters)", "cursor")
    return Cursor(kind, Position(bucket, sort_key), since, tuple(data["f"]))
