"""The shared MIME builder and its header checks (pure: no network, no files)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from wirewatch.delivery.mime import (
    build_email,
    check_header_value,
    check_unsubscribe_url,
    fold_subject,
    is_loopback_host,
    list_unsubscribe_headers,
)

SENDER = "Wirewatch <digest@wirewatch.example>"
TO = "analyst@example.org"
UNSUBSCRIBE = "https://api.wirewatch.example/unsubscribe?token=abc"


def _reparse(message: EmailMessage) -> EmailMessage:
    """What a receiver sees: the message serialised as it goes over the wire, parsed back."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_digest_is_text_then_html_alternative_with_one_click_headers() -> None:
    message = _reparse(build_email(SENDER, TO, "DPRK digest", "<p>ICBM</p>", "ICBM\n", UNSUBSCRIBE))

    assert (message["From"], message["To"], message["Subject"]) == (SENDER, TO, "DPRK digest")
    assert message["MIME-Version"] == "1.0"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in message.iter_parts()] == ["utf-8", "utf-8"]


def test_without_unsubscribe_url_there_are_no_list_headers() -> None:
    message = build_email(SENDER, TO, "Confirm your subscription", "<p>c</p>", "c", None)

    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert list_unsubscribe_headers(None) == []


def test_serialised_message_uses_crlf_and_keeps_a_long_unsubscribe_url_on_one_line() -> None:
    url = UNSUBSCRIBE + "x" * 400

    raw = build_email(SENDER, TO, "s", "<p>h</p>", "t", url).as_bytes()

    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_non_ascii_subject_and_body_round_trip() -> None:
    subject = "北朝鮮が弾道ミサイル発射 — Kyodo"
    text = "防衛省によると、日本海に落下。\n"

    message = _reparse(build_email(SENDER, TO, subject, "<p>発射</p>", text, UNSUBSCRIBE))

    assert message["Subject"] == subject
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("DPRK digest:\r\nBcc: evil@example.com", "DPRK digest: Bcc: evil@example.com"),
        ("a\nb\rc", "a b c"),
        ("  tabs\tand   spaces  ", "tabs and spaces"),
        ("line\u2028separator\u2029paragraph\x85next", "line separator paragraph next"),
        ("vertical\x0bform\x0cfeed", "vertical form feed"),
    ],
)
def test_subject_is_folded_to_one_line(raw: str, folded: str) -> None:
    assert fold_subject(raw) == folded

    message = _reparse(build_email(SENDER, TO, raw, "<p>h</p>", "t", None))

    assert message["Subject"] == folded
    assert message["Bcc"] is None


@pytest.mark.parametrize("field", ["sender", "to"])
@pytest.mark.parametrize("value", ["", "a@example.org\r\nBcc: b@example.org", "a@example.org\nX: y"])
def test_addresses_must_be_one_non_empty_line(field: str, value: str) -> None:
    args = {"sender": SENDER, "to": TO} | {field: value}

    with pytest.raises(ValueError):
        build_email(args["sender"], args["to"], "s", "h", "t", None)


def test_message_id_is_checked_and_set_when_given() -> None:
    assert build_email(SENDER, TO, "s", "h", "t", None, message_id="<1@wirewatch.example>")["Message-ID"] == (
        "<1@wirewatch.example>"
    )
    assert build_email(SENDER, TO, "s", "h", "t", None)["Message-ID"] is None
    with pytest.raises(ValueError):
        build_email(SENDER, TO, "s", "h", "t", None, message_id="<1@x>\r\nBcc: e@example.com")


def test_given_date_is_written_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))

    message = build_email(SENDER, TO, "s", "h", "t", None, date=datetime(2025, 3, 1, 17, 0, tzinfo=tokyo))

    written = message["Date"].datetime
    assert written == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert written.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3000/unsubscribe?token=abc",
        "http://localhost:3000/u",
        "http://[::1]:3000/u",
        "http://127.0.0.2/u",
    ],
)
def test_http_unsubscribe_url_is_allowed_on_loopback_only_when_asked(url: str) -> None:
    check_unsubscribe_url(url, allow_http=True)
    headers = list_unsubscribe_headers(url, allow_http=True)
    assert headers[0] == ("List-Unsubscribe", f"<{url}>")

    with pytest.raises(ValueError):
        check_unsubscribe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.wirewatch.example/u",
        "http://localhost.evil.example/u",
        "http://127.0.0.1@evil.example/u",
        "http://127.0.0.1.evil.example/u",
        "ftp://127.0.0.1/u",
        "mailto:unsubscribe@wirewatch.example",
        "https:///no-host",
        "https://a.example/u>, <mailto:x@example.com",
        "https://a b.example/u",
        "https://a.example/u\r\nBcc: e@example.com",
        "https://a.example/u\x00",
        "https://a.example/ü",
        "https://[::1/u",
    ],
)
def test_unsafe_unsubscribe_urls_are_refused_even_in_local_mode(url: str) -> None:
    with pytest.raises(ValueError):
        check_unsubscribe_url(url, allow_http=True)
    with pytest.raises(ValueError):
        build_email(SENDER, TO, "s", "h", "t", url, allow_http_unsubscribe=True)


def test_https_unsubscribe_url_is_always_allowed() -> None:
    check_unsubscribe_url(UNSUBSCRIBE)
    check_unsubscribe_url("https://127.0.0.1:8443/u")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost.example", False),
        ("10.0.0.1", False),
        ("mail.example.org", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_header_value_check_names_the_field() -> None:
    with pytest.raises(ValueError, match="recipient"):
        check_header_value("recipient", "a\nb")
