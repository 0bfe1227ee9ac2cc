"""Local email: SmtpSender against a real SMTP server on loopback (aiosmtpd), OutboxSender on a temp dir."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.support.smtp import HOST, Recorder, TlsPair, misbehaving_listener, self_signed_tls, smtp_server
from wirewatch.adapters.aws.ses import SesSender
from wirewatch.adapters.local.mail import (
    OutboxSender,
    SmtpSender,
    local_email_sender,
    parse_smtp_url,
)
from wirewatch.delivery.result import SendResult

pytestmark = pytest.mark.integration

SENDER = "Wirewatch <digest@wirewatch.example>"
TO = "analyst@example.org"
LOCAL_UNSUBSCRIBE = "http://127.0.0.1:3000/unsubscribe?token=unsubscribe.c3ViLTE.-.AAAA"
HTTPS_UNSUBSCRIBE = "https://api.wirewatch.example/unsubscribe?token=unsubscribe.c3ViLTE.-.AAAA"
HTML = "<html><body><h1>DPRK launches ICBM</h1><p>Kyodo &amp; Reuters</p></body></html>"
TEXT = "DPRK launches ICBM\nKyodo & Reuters\n"
HOSTILE_SUBJECT = "DPRK digest:\r\nBcc: evil@example.com\nX-Injected: yes"
PASSWORD = "s3cret:/@pw"
CREDENTIALS = "wire:s3cret%3A%2F%40pw"  # PASSWORD, percent-encoded as a URL needs it


class Sleeps:
    """An injectable sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def tls(tmp_path: Path) -> TlsPair:
    pytest.importorskip("cryptography")
    return self_signed_tls(tmp_path, names=("localhost", "mail.wirewatch.test"))


def _smtp(url: str, sleeps: Sleeps, **kwargs: Any) -> SmtpSender:
    return SmtpSender(url, sender=SENDER, sleep=sleeps, timeout=5.0, local_hostname="client.test", **kwargs)


def _send(sender: SmtpSender | OutboxSender, **kwargs: Any) -> SendResult:
    args: dict[str, Any] = {
        "to": TO,
        "subject": "DPRK digest",
        "html": HTML,
        "text": TEXT,
        "unsubscribe_url": LOCAL_UNSUBSCRIBE,
        "idempotency_key": "SUB#1:2025-03-01T08",
    } | kwargs
    return sender.send_email(args.pop("to"), args.pop("subject"), args.pop("html"), args.pop("text"), **args)


def _assert_digest_mime(message: EmailMessage, unsubscribe: str) -> None:
    assert message["From"] == SENDER
    assert message["To"] == TO
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().strip() == HTML


def _shape(message: EmailMessage) -> dict[str, Any]:
    """The structure two builders must agree on: headers (minus per-message ones), parts, decoded bodies."""
    varying = {"Date", "Message-ID"}
    return {
        # The multipart boundary is random per message; the content type itself must match.
        "headers": [
            (k, message.get_content_type() if k == "Content-Type" else str(v))
            for k, v in message.items()
            if k not in varying
        ],
        "parts": [
            (part.get_content_type(), part.get_content_charset(), part["Content-Transfer-Encoding"], part.get_content())
            for part in message.iter_parts()
        ],
    }


class RawSes:
    """A sesv2 client double that keeps the raw MIME SesSender hands it."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.raw.append(request["Content"]["Raw"]["Data"])
        return {"MessageId": f"ses-{len(self.raw)}"}


def _ses_mime(subject: str) -> EmailMessage:
    client = RawSes()
    SesSender(client, sender=SENDER, raw_mime=True, max_send_rate=1000).send_email(
        TO, subject, HTML, TEXT, unsubscribe_url=HTTPS_UNSUBSCRIBE, idempotency_key="k"
    )
    parsed = email.message_from_bytes(client.raw[0], policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- SMTP -------------------------------------------------------------------------------------------


def test_smtp_delivers_text_and_html_with_one_click_unsubscribe(sleeps: Sleeps) -> None:
    with smtp_server() as server:
        result = _send(_smtp(server.url(), sleeps), subject=HOSTILE_SUBJECT)

    assert (result.status, result.attempts, result.permanent) == ("sent", 1, False)
    [received] = server.received
    assert (received.mail_from, received.rcpt_tos, received.tls) == ("digest@wirewatch.example", [TO], False)
    message = received.message
    _assert_digest_mime(message, LOCAL_UNSUBSCRIBE)
    assert message["Subject"] == "DPRK digest: Bcc: evil@example.com X-Injected: yes"
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["Message-ID"] == result.provider_id
    assert result.provider_id and result.provider_id.endswith("@wirewatch.example>")


def test_smtp_sends_the_same_mime_as_ses(sleeps: Sleeps) -> None:
    with smtp_server() as server:
        _send(_smtp(server.url(), sleeps), unsubscribe_url=HTTPS_UNSUBSCRIBE)

    assert _shape(server.received[0].message) == _shape(_ses_mime("DPRK digest"))


def test_refused_recipient_is_a_permanent_failure(sleeps: Sleeps) -> None:
    recorder = Recorder(refuse={"gone@example.org": "550 5.1.1 no such mailbox here"})
    with smtp_server(recorder) as server:
        result = _send(_smtp(server.url(), sleeps), to="gone@example.org")

    assert (result.status, result.permanent, result.sender_side, result.attempts) == ("failed", True, False, 1)
    assert result.detail == "recipient refused: 550 5.1.1"
    assert server.received == [] and sleeps.waits == []


def test_greylisted_recipient_is_retried_with_backoff_then_delivered(sleeps: Sleeps) -> None:
    with smtp_server(Recorder(greylist={TO: 1})) as server:
        result = _send(_smtp(server.url(), sleeps, backoff_base=2.0))

    assert (result.status, result.attempts) == ("sent", 2)
    assert len(server.received) == 1
    [wait] = sleeps.waits
    assert 1.0 <= wait <= 2.0  # backoff_delay(1, 2.0) is in [d/2, d]


def test_recipient_still_greylisted_after_the_last_attempt_is_left_for_a_later_run(sleeps: Sleeps) -> None:
    with smtp_server(Recorder(greylist={TO: 10})) as server:
        result = _send(_smtp(server.url(), sleeps, max_attempts=3))

    assert (result.status, result.attempts, result.permanent) == ("retry", 3, False)
    assert result.detail == "recipient refused: 451 4.7.1"
    assert len(sleeps.waits) == 2 and server.received == []


def test_connection_dropped_at_the_end_of_data_is_retried(sleeps: Sleeps) -> None:
    recorder = Recorder(drop_data=1)
    with smtp_server(recorder) as server:
        result = _send(_smtp(server.url(), sleeps))

    assert (result.status, result.attempts) == ("sent", 2)
    assert recorder.dropped == 1 and len(server.received) == 1
    assert server.received[0].message["Message-ID"] == result.provider_id


def test_connection_dropped_on_every_attempt_is_a_retry_result(sleeps: Sleeps) -> None:
    recorder = Recorder(drop_data=10)
    with smtp_server(recorder) as server:
        result = _send(_smtp(server.url(), sleeps, max_attempts=2))

    assert (result.status, result.attempts, result.permanent) == ("retry", 2, False)
    assert result.detail == "smtp connection closed by the server"
    assert recorder.dropped == 2 and server.received == []


@pytest.mark.parametrize("greet", [False, True], ids=["before-greeting", "after-greeting"])
def test_listener_that_accepts_and_closes_is_a_retry(sleeps: Sleeps, greet: bool) -> None:
    with misbehaving_listener(greet=greet) as port:
        result = _send(_smtp(f"smtp://{HOST}:{port}", sleeps, max_attempts=2))

    assert (result.status, result.attempts, result.permanent) == ("retry", 2, False)
    assert result.detail == "smtp connection closed by the server"


def test_server_that_never_answers_times_out_into_a_retry(sleeps: Sleeps) -> None:
    with misbehaving_listener(close=False) as port:
        sender = SmtpSender(f"smtp://{HOST}:{port}", sender=SENDER, sleep=sleeps, timeout=0.2, max_attempts=1)
        result = _send(sender)

    assert (result.status, result.detail) == ("retry", "smtp timed out")


def test_nothing_listening_is_a_retry(sleeps: Sleeps) -> None:
    with socket.create_server((HOST, 0)) as probe:
        port = probe.getsockname()[1]  # closed again before the send: nothing listens there

    result = _send(_smtp(f"smtp://{HOST}:{port}", sleeps, max_attempts=1))

    assert (result.status, result.detail) == ("retry", "smtp connection failed: ConnectionRefusedError")


def test_starttls_and_auth_deliver_over_tls(tls: TlsPair, sleeps: Sleeps) -> None:
    with smtp_server(starttls=tls.server, auth=("wire", PASSWORD)) as server:
        result = _send(_smtp(server.url(CREDENTIALS), sleeps, tls_context=tls.client))

    assert result.status == "sent"
    [received] = server.received
    assert (received.tls, received.user) == (True, "wire")
    _assert_digest_mime(received.message, LOCAL_UNSUBSCRIBE)


def test_wrong_password_is_a_sender_side_failure_that_never_shows_the_password(
    tls: TlsPair, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    with smtp_server(starttls=tls.server, auth=("wire", "other-password")) as server:
        sender = _smtp(server.url(CREDENTIALS), sleeps, tls_context=tls.client)
        result = _send(sender)

    assert (result.status, result.permanent, result.sender_side, result.attempts) == ("failed", True, True, 1)
    assert result.detail.startswith("smtp authentication failed: 535")
    # smtplib tries each offered mechanism (PLAIN, LOGIN) before giving up.
    assert set(server.recorder.logins) == {"wire"} and server.received == []
    assert "smtp permanent failure" in caplog.messages
    logged = [str(vars(record)) for record in caplog.records]  # messages with their structured extras
    shown = [result.detail, repr(sender), repr(sender.url), sender.url.masked, *logged]
    assert not any(PASSWORD in text or "s3cret" in text for text in shown)
    assert sender.url.masked == f"smtp://wire:***@{HOST}:{server.port}"


def test_credentials_are_never_sent_to_a_server_without_starttls(sleeps: Sleeps) -> None:
    with smtp_server(auth=("wire", PASSWORD)) as server:
        result = _send(_smtp(server.url(CREDENTIALS), sleeps))

    assert (result.status, result.permanent, result.sender_side) == ("failed", True, True)
    assert "STARTTLS" in result.detail
    assert server.recorder.logins == [] and server.received == []


def test_untrusted_certificate_is_a_sender_side_failure(tls: TlsPair, sleeps: Sleeps) -> None:
    with smtp_server(starttls=tls.server, auth=("wire", PASSWORD)) as server:
        # The system trust store does not know the test's self-signed certificate.
        result = _send(_smtp(server.url(CREDENTIALS), sleeps))

    assert (result.status, result.permanent, result.sender_side) == ("failed", True, True)
    assert result.detail.startswith("smtp tls certificate not trusted")
    assert server.recorder.logins == [] and server.received == []


def test_smtps_speaks_tls_from_the_first_byte(tls: TlsPair, sleeps: Sleeps) -> None:
    with smtp_server(implicit_tls=tls.server, auth=("wire", PASSWORD)) as server:
        result = _send(_smtp(server.url(CREDENTIALS), sleeps, tls_context=tls.client))

    assert result.status == "sent"
    [received] = server.received
    assert (received.tls, received.user) == (True, "wire")


@pytest.fixture()
def remote_name(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A non-loopback host name that smtplib's connections reach on 127.0.0.1 (nothing leaves the machine)."""
    name = "mail.wirewatch.test"
    real = socket.create_connection

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        if host != name:
            raise ConnectionRefusedError(f"test allows only {name}")
        return real((HOST, port), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    yield name


def test_remote_server_without_starttls_gets_nothing_in_clear(remote_name: str, sleeps: Sleeps) -> None:
    with smtp_server() as server:
        result = _send(_smtp(f"smtp://{remote_name}:{server.port}", sleeps))

    assert (result.status, result.permanent, result.sender_side) == ("failed", True, True)
    assert result.detail == "smtp server offers no STARTTLS; refusing to send in clear"
    assert server.received == []


def test_remote_server_is_reached_over_starttls_with_its_name_verified(
    remote_name: str, tls: TlsPair, sleeps: Sleeps
) -> None:
    with smtp_server(starttls=tls.server) as server:
        result = _send(_smtp(f"smtp://{remote_name}:{server.port}", sleeps, tls_context=tls.client))

    assert result.status == "sent"
    assert server.received[0].tls is True


def test_http_unsubscribe_link_to_a_non_loopback_host_is_refused(sleeps: Sleeps) -> None:
    sender = _smtp(f"smtp://{HOST}:1", sleeps)

    with pytest.raises(ValueError):
        _send(sender, unsubscribe_url="http://wirewatch.example/unsubscribe?t=1")


# --- SMTP URL -------------------------------------------------------------------------------------


def test_smtp_url_defaults_to_the_submission_ports_and_decodes_credentials() -> None:
    assert (parse_smtp_url("smtp://mail.example.org").port, parse_smtp_url("smtps://mail.example.org").port) == (
        587,
        465,
    )
    url = parse_smtp_url(f"smtp://{CREDENTIALS}@[::1]:2525")
    assert (url.host, url.port, url.username, url.password) == ("::1", 2525, "wire", PASSWORD)
    assert url.masked == "smtp://wire:***@[::1]:2525"


@pytest.mark.parametrize(
    "url",
    [
        "http://wire:hunter2@mail.example.org",
        "smtp://wire:hunter2@",
        "smtp://wire:hunter2@mail.example.org:notaport",
        "smtp://wire:hunter2@mail.example.org/path",
        "smtp://wire@mail.example.org",
        "hunter2",
    ],
)
def test_bad_smtp_url_is_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_smtp_url(url)

    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None


# --- outbox ---------------------------------------------------------------------------------------


class Ticks:
    """A clock for the outbox that moves one second per message."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _outbox_files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def _read(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_outbox_writes_each_message_to_its_own_private_file(tmp_path: Path) -> None:
    outbox = tmp_path / "state" / "outbox"
    sender = OutboxSender(outbox, sender=SENDER, now=Ticks())

    first = _send(sender, idempotency_key="SUB#1:2025-03-01T08")
    second = _send(sender, idempotency_key="SUB#2:2025-03-01T08")

    assert (first.status, second.status) == ("sent", "sent")
    files = _outbox_files(outbox)
    assert [f.name for f in files] == [first.provider_id, second.provider_id]  # sorted by time
    assert files[0].name.startswith("20250301T080001.000000Z-SUB_1_2025-03-01T08-")
    assert all(f.suffix == ".eml" and stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    _assert_digest_mime(_read(files[0]), LOCAL_UNSUBSCRIBE)
    assert _read(files[0])["Date"].datetime == datetime(2025, 3, 1, 8, 0, 1, tzinfo=UTC)


def test_outbox_holds_the_same_mime_as_ses(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path, sender=SENDER)

    result = _send(sender, subject=HOSTILE_SUBJECT, unsubscribe_url=HTTPS_UNSUBSCRIBE)

    assert result.provider_id
    assert _shape(_read(tmp_path / result.provider_id)) == _shape(_ses_mime(HOSTILE_SUBJECT))


def test_outbox_hostile_subject_cannot_add_headers(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path, sender=SENDER)

    result = _send(sender, subject=HOSTILE_SUBJECT + "\u2028Cc: also@example.com")

    assert result.provider_id
    message = _read(tmp_path / result.provider_id)
    assert message["Subject"] == "DPRK digest: Bcc: evil@example.com X-Injected: yes Cc: also@example.com"
    assert (message["Bcc"], message["Cc"], message["X-Injected"]) == (None, None, None)


def test_outbox_hostile_recipient_is_refused_and_nothing_written(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path / "outbox", sender=SENDER)

    with pytest.raises(ValueError):
        _send(sender, to="a@example.org\r\nBcc: evil@example.com")

    assert not (tmp_path / "outbox").exists()


def test_outbox_file_is_private_even_under_an_open_umask(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir(mode=0o755)
    old = os.umask(0)
    try:
        result = _send(OutboxSender(outbox, sender=SENDER))
    finally:
        os.umask(old)

    assert result.provider_id
    assert stat.S_IMODE((outbox / result.provider_id).stat().st_mode) == 0o600
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700  # an existing open folder is tightened
    assert [p.name for p in outbox.iterdir()] == [result.provider_id]  # no temp file left behind


def test_outbox_that_cannot_be_written_is_a_retry_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a directory")

    result = _send(OutboxSender(blocker, sender=SENDER))

    assert (result.status, result.permanent) == ("retry", False)
    assert result.detail.startswith("outbox write failed: ")
    assert blocker.read_text() == "not a directory"


# --- factory --------------------------------------------------------------------------------------


def test_without_smtp_url_the_factory_writes_to_the_outbox_in_the_state_dir(tmp_path: Path) -> None:
    sender = local_email_sender(tmp_path, None, SENDER)

    assert isinstance(sender, OutboxSender)
    result = _send(sender)
    assert result.provider_id and (tmp_path / "outbox" / result.provider_id).is_file()


def test_with_smtp_url_the_factory_sends_through_that_server(tmp_path: Path) -> None:
    with smtp_server() as server:
        sender = local_email_sender(tmp_path, server.url(), SENDER)
        result = _send(sender)

    assert isinstance(sender, SmtpSender)
    assert result.status == "sent" and len(server.received) == 1
    assert not (tmp_path / "outbox").exists()
