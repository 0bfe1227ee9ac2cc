"""A loopback Standard Webhooks receiver that verifies signatures with the `standardwebhooks` package itself.

Each path is registered with its secret. A request whose webhook-id / webhook-timestamp /
webhook-signature do not verify is answered 401 and not accepted; a verified one is recorded and
answered 204, unless a test queued another answer (a 5xx, a 4xx, or a hang longer than the
sender's timeout):

    with WebhookReceiver() as receiver:
        receiver.register("/hook", secret)
        receiver.queue("/hook", Answer(503), Answer.hang(2.0))
        ...
        assert [e["type"] for e in receiver.events("/hook")] == ["story.alert"]
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from loopback.server import LoopbackServer

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Answer:
    """A scripted answer: an HTTP status, optionally after hanging for `delay` seconds."""

    status: int = 204
    delay: float = 0.0

    @classmethod
    def hang(cls, seconds: float) -> Answer:
        return cls(204, seconds)


@dataclass(frozen=True)
class Received:
    """One request: its headers, body, whether the signature verified, and the status answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver(LoopbackServer):
    """Threaded stdlib HTTP server on 127.0.0.1 standing in for a subscriber's webhook endpoint."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self._secrets: dict[str, str] = {}
        self._scripts: dict[str, deque[Answer]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        super().__init__(_make_handler(self), port=port, name="webhook-receiver", backlog=64)

    def url(self, path: str = "/hook") -> str:
        return self.origin + path

    def register(self, path: str, secret: str) -> None:
        """Accept signed deliveries on path, verified with secret (whsec_...)."""
        with self._lock:
            self._secrets[path] = secret
            self._scripts.setdefault(path, deque())

    def queue(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(answers)

    def events(self, path: str) -> list[Any]:
        """Verified and accepted (2xx) payloads on path, in order."""
        with self._lock:
            return [r.json() for r in self.received if r.path == path and r.verified and 200 <= r.status < 300]

    def requests_for(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def stop(self) -> None:
        """End any scripted hang first, then stop serving."""
        self._stopping.set()
        super().stop()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            secret = self._secrets.get(path)
            script = self._scripts.get(path)
            scripted = script.popleft() if script else None
        verified = False
        if secret is not None:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
            except (WebhookVerificationError, ValueError):
                verified = False
        if secret is None:
            answer = Answer(404)
        elif not verified:
            answer = Answer(401)
        else:
            answer = scripted or Answer()
        if answer.delay:
            # Hang as a slow endpoint would, but let stop() end it.
            self._stopping.wait(answer.delay)
        with self._lock:
            self.received.append(Received(path, headers, body, verified, answer.status))
        return answer


def _make_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.send_response(413)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver.handle(self.path, headers, body)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (its timeout), as it should

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Handler
