"""Signed, expiring, purpose-bound tokens for links in emails (confirm, one-click unsubscribe); pure.

A token is ``<purpose>.<subject, base64url>.<expiry epoch seconds or ->.<HMAC-SHA256, 128 bits>``.
The MAC covers the purpose, the subject and the expiry, so a token cannot be moved to another
subscription or another purpose. Replaying a valid token is allowed: the actions are idempotent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

_VERSION = b"wirewatch-token-v1"
_MAC_BYTES = 16
_MAX_TOKEN_LENGTH = 1024
_MIN_KEY_BYTES = 16
_NO_EXPIRY = "-"
_PURPOSE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_B64 = re.compile(r"[A-Za-z0-9_-]*")


class InvalidToken(ValueError):
    """A token that must not be acted on; `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid token: {reason}")
        self.reason = reason


def sign_token(key: bytes, purpose: str, subject: str, now: datetime, ttl: timedelta | None) -> str:
    """A URL-safe token binding subject to purpose, valid for ttl from now (None: no expiry)."""
    _check_key(key)
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"token purpose must match {_PURPOSE.pattern}: {purpose!r}")
    if not subject:
        raise ValueError("token subject must not be empty")
    if ttl is not None and ttl <= timedelta(0):
        raise ValueError("token ttl must be positive")
    expiry = _NO_EXPIRY if ttl is None else str(int((_aware(now) + ttl).timestamp()))
    encoded_subject = _b64encode(subject.encode("utf-8"))
    mac = _mac(key, purpose, encoded_subject, expiry)
    return f"{purpose}.{encoded_subject}.{expiry}.{_b64encode(mac)}"


def verify_token(key: bytes | Sequence[bytes], token: str, purpose: str, now: datetime) -> str:
    """The subject of a genuine, unexpired token for purpose; raises InvalidToken otherwise.

    `key` may be several keys (newest first) so the signing key can be rotated.
    """
    keys = [key] if isinstance(key, bytes) else list(key)
    for k in keys:
        _check_key(k)
    token_purpose, encoded_subject, expiry, mac = _split(token)
    expected = [_mac(k, token_purpose, encoded_subject, expiry) for k in keys]
    # Compare against every key (no early exit) so timing says nothing about which one matched.
    matches = [hmac.compare_digest(mac, candidate) for candidate in expected]
    if not any(matches):
        raise InvalidToken("bad signature")
    if not hmac.compare_digest(token_purpose, purpose):
        raise InvalidToken("wrong purpose")
    if expiry != _NO_EXPIRY and _aware(now).timestamp() >= int(expiry):
        raise InvalidToken("expired")
    try:
        return _b64decode(encoded_subject).decode("utf-8")
    except UnicodeDecodeError as exc:  # only reachable with the real key, i.e. a bug in the signer
        raise InvalidToken("bad format") from exc


def _split(token: str) -> tuple[str, str, str, bytes]:
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidToken("bad format")
    parts = token.split(".")
    if len(parts) != 4:
        raise InvalidToken("bad format")
    purpose, encoded_subject, expiry, encoded_mac = parts
    if (
        not _PURPOSE.fullmatch(purpose)
        or not encoded_subject
        or not _B64.fullmatch(encoded_subject)
        or not (expiry == _NO_EXPIRY or (expiry.isascii() and expiry.isdigit()))
        or not _B64.fullmatch(encoded_mac)
    ):
        raise InvalidToken("bad format")
    try:
        mac = _b64decode(encoded_mac)
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("bad format") from exc
    if len(mac) != _MAC_BYTES:
        raise InvalidToken("bad format")
    return purpose, encoded_subject, expiry, mac


def _mac(key: bytes, purpose: str, encoded_subject: str, expiry: str) -> bytes:
    message = b"\x00".join((_VERSION, purpose.encode(), encoded_subject.encode(), expiry.encode()))
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"token signing key must be at least {_MIN_KEY_BYTES} bytes")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
