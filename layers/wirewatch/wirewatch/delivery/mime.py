"""The one MIME builder for outgoing email (SES raw messages, SMTP, the local outbox), with its header checks.

Recipients, senders and subjects reach headers from subscriptions and feed headlines, so nothing here
lets a CR or LF through: addresses must be one line, subjects are folded to one line, and the
RFC 8058 unsubscribe URL is checked before it is put between angle brackets.
"""

from __future__ import annotations

import email.policy
import email.utils
import urllib.parse
from datetime import UTC, datetime
from email.message import EmailMessage

from wirewatch.feeds.ssrf import is_loopback_host

__all__ = [
    "MIME_POLICY",
    "ONE_CLICK",
    "build_email",
    "check_header_value",
    "check_unsubscribe_url",
    "fold_subject",
    "is_loopback_host",
    "list_unsubscribe_headers",
]

ONE_CLICK = "List-Unsubscribe=One-Click"
# RFC 5322 allows 998 characters; not folding at 78 keeps the long unsubscribe URL on one line.
MIME_POLICY = email.policy.SMTP.clone(max_line_length=998)
_URL_UNSAFE = frozenset("<> \t\r\n\x0b\x0c\x7f")


def check_header_value(what: str, value: str) -> None:
    """Raise ValueError unless `value` is a non-empty single line (no header injection)."""
    if not value or "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be a non-empty single line")


def fold_subject(subject: str) -> str:
    """The subject on one line: every run of whitespace, line breaks included, becomes one space."""
    # str.split() also splits on the Unicode line separators that some mail readers honour.
    return " ".join(subject.split())


def check_unsubscribe_url(url: str, *, allow_http: bool = False) -> None:
    """Raise ValueError unless `url` is an https URL (or, if allowed, http on loopback) safe inside <...>."""
    # Non-ASCII would be RFC 2047-encoded inside the header and break the URL.
    if any(c in _URL_UNSAFE or ord(c) < 0x20 or not c.isascii() for c in url):
        raise ValueError("unsubscribe_url must be an ASCII URL without spaces, controls or angle brackets")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        raise ValueError("unsubscribe_url is not a valid URL") from exc
    if not host:
        raise ValueError("unsubscribe_url must name a host")
    if parts.scheme == "https":
        return
    # RFC 8058 wants https; local mode links to its own loopback API, which has no certificate.
    if parts.scheme == "http" and allow_http and is_loopback_host(host):
        return
    raise ValueError("unsubscribe_url must be an https URL (http only on a loopback host in local mode)")


def list_unsubscribe_headers(unsubscribe_url: str | None, *, allow_http: bool = False) -> list[tuple[str, str]]:
    """The RFC 2369 / RFC 8058 one-click unsubscribe headers, or none without a URL."""
    if unsubscribe_url is None:
        return []
    check_unsubscribe_url(unsubscribe_url, allow_http=allow_http)
    return [("List-Unsubscribe", f"<{unsubscribe_url}>"), ("List-Unsubscribe-Post", ONE_CLICK)]


def build_email(
    sender: str,
    to: str,
    subject: str,
    html: str,
    text: str,
    unsubscribe_url: str | None,
    *,
    allow_http_unsubscribe: bool = False,
    message_id: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with one-click unsubscribe headers when given a URL."""
    check_header_value("sender", sender)
    check_header_value("recipient", to)
    headers = list_unsubscribe_headers(unsubscribe_url, allow_http=allow_http_unsubscribe)
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = fold_subject(subject)
    if date is None:
        message["Date"] = email.utils.formatdate(usegmt=True)
    else:
        message["Date"] = email.utils.format_datetime(date.astimezone(UTC), usegmt=True)
    if message_id is not None:
        check_header_value("message_id", message_id)
        message["Message-ID"] = message_id
    message["MIME-Version"] = "1.0"
    for name, value in headers:
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
