"""A real SMTP server on loopback (aiosmtpd) that records what it received, plus misbehaving listeners.

The server can refuse recipients, greylist them (451 first, then accept), drop the connection at the
end of DATA, offer STARTTLS or speak implicit TLS with a self-signed certificate made for the test, and
require AUTH. Everything binds 127.0.0.1 on a port the OS picks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with its envelope and how the session was secured."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    user: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """aiosmtpd handler: records accepted messages; refuses, greylists or drops as told."""

    refuse: dict[str, str] = field(default_factory=dict)
    greylist: dict[str, int] = field(default_factory=dict)
    drop_data: int = 0
    received: list[Received] = field(default_factory=list)
    dropped: int = 0
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if self.greylist.get(address, 0) > 0:
            self.greylist[address] -= 1
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.drop_data > 0:
            # The whole message arrived, but the reply never will: the client cannot know.
            self.drop_data -= 1
            self.dropped += 1
            assert server.transport is not None
            server.transport.close()
            return "250 OK"
        content = envelope.original_content or b""
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        # STARTTLS fills session.ssl; an implicit-TLS listener shows only on the transport.
        transport = server.transport
        tls = session.ssl is not None or (transport is not None and transport.get_extra_info("sslcontext") is not None)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, tls, user))
        return "250 OK"


class Authenticator:
    """Accepts one user and password; records every login name tried (never the password)."""

    def __init__(self, recorder: Recorder, user: str, password: str) -> None:
        self._recorder, self._user, self._password = recorder, user.encode(), password.encode()

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self._recorder.logins.append(data.login.decode())
        ok = data == (self._user, self._password)
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _LoopbackController(Controller):
    """Controller on an OS-chosen port: it reads the bound port before its own start-up probe."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    """A running server: its port, what it recorded, and an smtp:// or smtps:// URL to reach it."""

    port: int
    recorder: Recorder
    implicit_tls: bool

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def url(self, credentials: str = "") -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{credentials + '@' if credentials else ''}{HOST}:{self.port}"


@contextmanager
def smtp_server(
    recorder: Recorder | None = None,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    auth: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    """Run an aiosmtpd server on 127.0.0.1 for the `with` block."""
    recorder = recorder or Recorder()
    kwargs: dict[str, Any] = {"hostname": HOST, "port": 0, "server_hostname": "mail.test", "ready_timeout": 10.0}
    if starttls is not None:
        kwargs["tls_context"] = starttls
    if implicit_tls is not None:
        kwargs["ssl_context"] = implicit_tls
    if auth is not None:
        # Implicit TLS counts as TLS for AUTH only when the server knows it; aiosmtpd checks STARTTLS.
        kwargs["authenticator"] = Authenticator(recorder, *auth)
        kwargs["auth_require_tls"] = implicit_tls is None
    controller = _LoopbackController(recorder, **kwargs)
    controller.start()
    try:
        yield SmtpServer(controller.port, recorder, implicit_tls is not None)
    finally:
        controller.stop()


@dataclass(frozen=True)
class TlsPair:
    """A self-signed certificate for the test: the server's context and a client context that trusts it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def self_signed_tls(
    directory: Path, names: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = (HOST,)
) -> TlsPair:
    """Make a throwaway key and certificate for `names` and `ips` (needs the cryptography package)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else ips[0])])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return TlsPair(server, client)


@contextmanager
def misbehaving_listener(*, greet: bool = False, close: bool = True) -> Iterator[int]:
    """A loopback TCP listener that accepts and then closes at once, or (close=False) never says a word."""
    listener = socket.create_server((HOST, 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if greet:
                conn.sendall(b"220 mail.test ESMTP\r\n")
            if close:
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()
