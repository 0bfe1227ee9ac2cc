"""Signed tokens for confirm and one-click unsubscribe links."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.tokens import InvalidToken, sign_token, verify_token

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _reason(key: bytes, token: str, purpose: str, now: datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as raised:
        verify_token(key, token, purpose, now)
    return raised.value.reason


def test_token_round_trips_to_its_subject() -> None:
    token = sign_token(KEY, "unsubscribe", "sub-42", NOW, DAY)

    assert verify_token(KEY, token, "unsubscribe", NOW + timedelta(hours=23)) == "sub-42"


def test_token_is_url_safe_and_compact() -> None:
    token = sign_token(KEY, "confirm", "01HZX3J8Q4V7N2M5K9P0R6S1T2", NOW, timedelta(days=7))

    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert len(token) < 100


def test_token_without_ttl_never_expires() -> None:
    token = sign_token(KEY, "unsubscribe", "sub-1", NOW, None)

    assert verify_token(KEY, token, "unsubscribe", NOW + timedelta(days=3650)) == "sub-1"


def test_token_round_trips_non_ascii_subject() -> None:
    token = sign_token(KEY, "confirm", "購読-1", NOW, DAY)

    assert verify_token(KEY, token, "confirm", NOW) == "購読-1"


def test_token_signed_with_another_key_is_refused() -> None:
    token = sign_token(OTHER_KEY, "unsubscribe", "sub-1", NOW, DAY)

    assert _reason(KEY, token, "unsubscribe") == "bad signature"


def test_forged_signature_is_refused() -> None:
    purpose, subject, expiry, _mac = sign_token(KEY, "unsubscribe", "sub-1", NOW, DAY).split(".")
    forged = ".".join((purpose, subject, expiry, base64.urlsafe_b64encode(b"\0" * 16).rstrip(b"=").decode()))

    assert _reason(KEY, forged, "unsubscribe") == "bad signature"


def test_token_for_another_purpose_is_refused() -> None:
    token = sign_token(KEY, "confirm", "sub-1", NOW, DAY)

    assert _reason(KEY, token, "unsubscribe") == "wrong purpose"


def test_purpose_relabelled_in_the_token_breaks_the_signature() -> None:
    token = sign_token(KEY, "confirm", "sub-1", NOW, DAY)
    relabelled = "unsubscribe" + token[len("confirm") :]

    assert _reason(KEY, relabelled, "unsubscribe") == "bad signature"


def test_expired_token_is_refused() -> None:
    token = sign_token(KEY, "confirm", "sub-1", NOW, DAY)

    assert _reason(KEY, token, "confirm", NOW + DAY) == "expired"


def test_extended_expiry_breaks_the_signature() -> None:
    purpose, subject, expiry, mac = sign_token(KEY, "confirm", "sub-1", NOW, DAY).split(".")
    extended = ".".join((purpose, subject, str(int(expiry) + 86_400 * 365), mac))

    assert _reason(KEY, extended, "confirm", NOW + 2 * DAY) == "bad signature"


def test_token_cannot_be_moved_to_another_subscription() -> None:
    purpose, _subject, expiry, mac = sign_token(KEY, "unsubscribe", "sub-1", NOW, DAY).split(".")
    other = base64.urlsafe_b64encode(b"sub-2").rstrip(b"=").decode()

    assert _reason(KEY, ".".join((purpose, other, expiry, mac)), "unsubscribe") == "bad signature"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "x",
        "a.b.c",
        "a.b.c.d.e",
        "unsubscribe..-.AAAA",
        "unsubscribe.c3ViLTE.-.!!!!",
        "UNSUB.c3ViLTE.-.AA",
        "unsubscribe.c3ViLTE.soon.AAAAAAAAAAAAAAAAAAAAAA",
        "unsubscribe.c3ViLTE.-.AAAA",
        "a" * 5000,
        "unsubscribe.c3ViLTE.-.A",
    ],
)
def test_garbage_is_refused_as_bad_format(garbage: str) -> None:
    assert _reason(KEY, garbage, "unsubscribe") == "bad format"


def test_verify_accepts_a_rotated_key_list() -> None:
    token = sign_token(OTHER_KEY, "unsubscribe", "sub-1", NOW, DAY)

    assert verify_token([KEY, OTHER_KEY], token, "unsubscribe", NOW) == "sub-1"


def test_invalid_token_message_names_the_reason_only() -> None:
    token = sign_token(KEY, "confirm", "secret-subject", NOW, DAY)

    with pytest.raises(InvalidToken) as raised:
        verify_token(KEY, token, "unsubscribe", NOW)

    assert str(raised.value) == "invalid token: wrong purpose"


@pytest.mark.parametrize(
    ("key", "purpose", "subject", "now", "ttl"),
    [
        (b"short", "confirm", "s", NOW, DAY),
        (KEY, "has.dot", "s", NOW, DAY),
        (KEY, "confirm", "", NOW, DAY),
        (KEY, "confirm", "s", NOW.replace(tzinfo=None), DAY),
        (KEY, "confirm", "s", NOW, timedelta(0)),
    ],
)
def test_sign_rejects_misuse(key: bytes, purpose: str, subject: str, now: datetime, ttl: timedelta) -> None:
    with pytest.raises(ValueError):
        sign_token(key, purpose, subject, now, ttl)
