"""Local email: SMTP when WIREWATCH_SMTP_URL is set, otherwise an outbox of `.eml` files in the state dir.

Both build the message with wirewatch.delivery.mime, the same MIME SES sends (HTML + text,
List-Unsubscribe and List-Unsubscribe-Post). Exactly-once is the caller's delivery ledger, as for SES.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import os
import re
import secrets
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wirewatch.delivery.mime import build_email, check_header_value, is_loopback_host
from wirewatch.delivery.result import SendResult, retry_send
from wirewatch.logs import logger

__all__ = [
    "OUTBOX_DIR",
    "OutboxSender",
    "SmtpSender",
    "SmtpUrl",
    "local_email_sender",
    "parse_smtp_url",
]

OUTBOX_DIR = "outbox"
SMTP_PORT = 587  # message submission (RFC 6409), upgraded with STARTTLS
SMTPS_PORT = 465  # submission over implicit TLS (RFC 8314)
_SAFE_KEY = re.compile(r"[^A-Za-z0-9_-]+")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_ENHANCED_STATUS = re.compile(rb"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
# Replies to RCPT/MAIL that say our session lacks auth or TLS: our setup, not the subscriber's address.
_SENDER_SIDE_CODES = frozenset({530, 534, 535, 538})


@dataclass(frozen=True, repr=False)
class SmtpUrl:
    """WIREWATCH_SMTP_URL taken apart; `masked` and repr never show the password."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def masked(self) -> str:
        """The URL for logs and errors, with the password replaced by ***."""
        user = ""
        if self.username is not None:
            user = urllib.parse.quote(self.username, safe="") + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"SmtpUrl({self.masked!r})"


def parse_smtp_url(url: str) -> SmtpUrl:
    """Parse smtp://[user[:password]@]host[:port] or smtps://...; errors show the URL with the password masked."""
    shown = _mask(url)
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        # Not chained: urllib's own message may quote part of the URL, the password with it.
        raise ValueError(f"WIREWATCH_SMTP_URL is not a valid URL: {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError(f"WIREWATCH_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS): {shown}")
    if not parts.hostname:
        raise ValueError(f"WIREWATCH_SMTP_URL names no host: {shown}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"WIREWATCH_SMTP_URL takes no path, query or fragment: {shown}")
    username = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None):
        raise ValueError(f"WIREWATCH_SMTP_URL needs both a user and a password, or neither: {shown}")
    default_port = SMTPS_PORT if scheme == "smtps" else SMTP_PORT
    return SmtpUrl(scheme, parts.hostname, port or default_port, username, password)


class SmtpSender:
    """Sends each email over its own SMTP connection; transient failures are retried with backoff.

    TLS rule: smtps:// speaks TLS from the first byte. smtp:// upgrades with STARTTLS and refuses to
    send if the server does not offer it, with one exception: a loopback host (localhost,
    127.0.0.0/8, ::1) given no user and password is spoken to in plain text, without trying
    STARTTLS, so a local MTA (with its self-signed certificate) and the tests work; that hop never
    leaves the machine. Credentials are never sent without TLS, on
    loopback either. Certificates are verified against the system trust store unless `tls_context`
    says otherwise. Default ports: 587 for smtp://, 465 for smtps://.
    """

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        timeout: float = 15.0,
        max_attempts: int = 3,
        backoff_base: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        allow_http_unsubscribe: bool = True,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        check_header_value("sender", sender)
        self._url = parse_smtp_url(url)
        self._sender = sender
        self._envelope_from = _address(sender, "sender")
        self._msgid_domain = _domain(self._envelope_from)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._tls_context = tls_context
        self._local_hostname = local_hostname
        # Local mode links to its loopback API over http; any other http link is still refused.
        self._allow_http_unsubscribe = allow_http_unsubscribe
        self._plain_allowed = self._url.username is None and is_loopback_host(self._url.host)

    def __repr__(self) -> str:
        return f"SmtpSender({self._url.masked!r})"

    @property
    def url(self) -> SmtpUrl:
        """The parsed server URL (its repr masks the password)."""
        return self._url

    def send_email(
        self,
        to: str,
        subject: str,
        html: str,
        text: str,
        *,
        unsubscribe_url: str | None,
        idempotency_key: str,
    ) -> SendResult:
        """Send one HTML + text email to `to`; 5xx refusals are permanent, 4xx and dropped connections retried."""
        message_id = email.utils.make_msgid(domain=self._msgid_domain)
        message = build_email(
            self._sender,
            to,
            subject,
            html,
            text,
            unsubscribe_url,
            allow_http_unsubscribe=self._allow_http_unsubscribe,
            message_id=message_id,
        )
        data = message.as_bytes()
        recipient = _address(to, "recipient")
        where = {"host": self._url.host, "port": self._url.port, "key": idempotency_key}

        def once(attempt: int) -> SendResult:
            try:
                self._deliver(recipient, data)
            except (smtplib.SMTPException, OSError) as exc:
                permanent, detail, sender_side = _classify(exc)
                if not permanent:
                    return SendResult("retry", attempts=attempt, detail=detail)
                logger.warning("smtp permanent failure", extra={**where, "why": detail})
                return SendResult("failed", attempts=attempt, detail=detail, permanent=True, sender_side=sender_side)
            logger.info("smtp sent", extra={**where, "message_id": message_id, "attempt": attempt})
            return SendResult("sent", attempts=attempt, detail="sent", provider_id=message_id)

        # A connection dropped after the final dot may still have delivered: the retry can duplicate,
        # which the shared Message-ID lets mail clients spot; losing the digest would be worse.
        return retry_send(
            once,
            max_attempts=self._max_attempts,
            backoff_base=self._backoff_base,
            sleep=self._sleep,
            name="smtp",
            context=where,
        )

    def _deliver(self, recipient: str, data: bytes) -> None:
        url = self._url
        client: smtplib.SMTP
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                url.host, url.port, local_hostname=self._local_hostname, timeout=self._timeout, context=self._tls()
            )
        else:
            client = smtplib.SMTP(url.host, url.port, local_hostname=self._local_hostname, timeout=self._timeout)
        # Never set_debuglevel here: smtplib would print the AUTH exchange, password included.
        try:
            client.ehlo()
            if url.scheme == "smtp" and not self._plain_allowed:
                if not client.has_extn("starttls"):
                    raise _TlsUnavailable("smtp server offers no STARTTLS; refusing to send in clear")
                client.starttls(context=self._tls())
                client.ehlo()
            if url.username is not None and url.password is not None:
                client.login(url.username, url.password)
            client.sendmail(self._envelope_from, [recipient], data)
        finally:
            _close(client)

    def _tls(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context


class OutboxSender:
    """Writes each email as one `.eml` file (0600) into `directory` (0700), for a machine without SMTP."""

    def __init__(
        self,
        directory: Path | str,
        *,
        sender: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        allow_http_unsubscribe: bool = True,
    ) -> None:
        check_header_value("sender", sender)
        self._dir = Path(directory)
        self._sender = sender
        self._msgid_domain = _domain(_address(sender, "sender"))
        self._now = now
        self._allow_http_unsubscribe = allow_http_unsubscribe
        self._dir_ready = False

    @property
    def directory(self) -> Path:
        """Where the `.eml` files go."""
        return self._dir

    def send_email(
        self,
        to: str,
        subject: str,
        html: str,
        text: str,
        *,
        unsubscribe_url: str | None,
        idempotency_key: str,
    ) -> SendResult:
        """Write the message to the outbox; the file name (timestamp + key) is the provider id."""
        when = self._now().astimezone(UTC)
        message = build_email(
            self._sender,
            to,
            subject,
            html,
            text,
            unsubscribe_url,
            allow_http_unsubscribe=self._allow_http_unsubscribe,
            message_id=email.utils.make_msgid(domain=self._msgid_domain),
            date=when,
        )
        name = f"{when:%Y%m%dT%H%M%S.%fZ}-{_file_key(idempotency_key)}.eml"
        try:
            self._ensure_dir()
            _write_private(self._dir / name, message.as_bytes())
        except OSError as exc:
            # A full disk or a read-only state dir: nothing was written, so a later run may try again.
            why = f"outbox write failed: {exc.strerror or type(exc).__name__}"
            logger.warning("outbox write failed", extra={"dir": str(self._dir), "key": idempotency_key, "why": why})
            return SendResult("retry", attempts=1, detail=why)
        logger.info("outbox wrote", extra={"file": name, "key": idempotency_key})
        return SendResult("sent", attempts=1, detail="written to outbox", provider_id=name)

    def _ensure_dir(self) -> None:
        if not self._dir_ready:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            # The messages carry unsubscribe tokens: the user only, even if the folder existed before.
            os.chmod(self._dir, 0o700)
            self._dir_ready = True


def local_email_sender(state_dir: Path | str, smtp_url: str | None, sender: str) -> SmtpSender | OutboxSender:
    """The SMTP sender when `smtp_url` is set, else the outbox in `state_dir`/outbox."""
    if smtp_url:
        return SmtpSender(smtp_url, sender=sender)
    return OutboxSender(Path(state_dir) / OUTBOX_DIR, sender=sender)


class _TlsUnavailable(smtplib.SMTPException):
    """The server cannot give us the TLS our rule requires."""


def _classify(exc: BaseException) -> tuple[bool, str, bool]:
    """(permanent, detail, sender_side) for a failed attempt; detail holds reply codes, never server text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return code >= 500, _reply("recipient refused", code, reply), code in _SENDER_SIDE_CODES
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return True, _reply("smtp authentication failed", exc.smtp_code, exc.smtp_error), True
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return exc.smtp_code >= 500, _reply("sender refused", exc.smtp_code, exc.smtp_error), True
    if isinstance(exc, smtplib.SMTPDataError):
        sender_side = exc.smtp_code in _SENDER_SIDE_CODES
        return exc.smtp_code >= 500, _reply("message refused", exc.smtp_code, exc.smtp_error), sender_side
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a read timeout as a disconnect; the timeout is its context.
        if isinstance(exc.__context__, TimeoutError):
            return False, "smtp timed out", False
        return False, "smtp connection closed by the server", False
    if isinstance(exc, smtplib.SMTPResponseException):
        # Greeting, HELO or STARTTLS refused: about our server setup, not the recipient.
        return exc.smtp_code >= 500, _reply("smtp server refused", exc.smtp_code, exc.smtp_error), True
    if isinstance(exc, _TlsUnavailable):
        return True, str(exc), True
    if isinstance(exc, smtplib.SMTPException):
        # No usable AUTH mechanism, STARTTLS not supported ...: the operator must change the setup.
        return True, f"smtp setup: {type(exc).__name__}", True
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True, f"smtp tls certificate not trusted: {exc.verify_message}", True
    if isinstance(exc, ssl.SSLError):
        return False, f"smtp tls error: {exc.reason or type(exc).__name__}", False
    if isinstance(exc, TimeoutError):
        return False, "smtp timed out", False
    return False, f"smtp connection failed: {type(exc).__name__}", False


def _reply(what: str, code: int, reply: bytes | str) -> str:
    raw = reply.encode("utf-8", "replace") if isinstance(reply, str) else reply
    enhanced = _ENHANCED_STATUS.match(raw)
    return f"{what}: {code}" + (f" {enhanced.group(1).decode()}" if enhanced else "")


def _close(client: smtplib.SMTP) -> None:
    # After a successful DATA a failed QUIT must not turn the send into a failure.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _address(value: str, what: str) -> str:
    address = email.utils.parseaddr(value)[1]
    if "@" not in address:
        raise ValueError(f"{what} must be an email address")
    return address


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    return domain if _DOMAIN.fullmatch(domain) else "wirewatch.invalid"


def _file_key(key: str) -> str:
    # Readable part for people listing the folder; the hash keeps distinct keys distinct after cleaning.
    readable = _SAFE_KEY.sub("_", key).strip("_")[:80] or "message"
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, the file 0600 from its creation (never briefly world-readable)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk (POSIX; not possible on Windows).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _mask(url: str) -> str:
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return "(not a URL)"
    userinfo, at, hostpart = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{userinfo}{at}{hostpart}"
