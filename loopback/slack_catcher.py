"""A loopback stand-in for Slack incoming webhooks, for tests, `make demo` and the bench.

It answers like Slack: 200 "ok" for a valid payload, 400 "invalid_payload" for one Slack would
refuse (not JSON, no text or blocks, more than 50 blocks, a section text over 3,000 characters ...),
and whatever a test queued for a path (429 with Retry-After, 404 no_service, 410 channel_is_archived,
500). Accepted payloads are recorded per path.

    with SlackCatcher() as slack:
        slack.queue("/hook", SlackResponse.rate_limited(1), SlackResponse.ok())
        sender.send(slack.url("/hook"), payload)
        assert slack.payloads("/hook") == [payload]

Run it alone with ``python -m loopback.slack_catcher [--port N]`` to see what the demo sends.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback.server import LoopbackServer

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class SlackResponse:
    """A scripted answer: status, body text and headers."""

    status: int = 200
    body: str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def ok(cls) -> SlackResponse:
        return cls()

    @classmethod
    def rate_limited(cls, retry_after: float | int = 1) -> SlackResponse:
        return cls(429, "rate_limited", {"Retry-After": str(retry_after)})

    @classmethod
    def invalid_payload(cls) -> SlackResponse:
        return cls(400, "invalid_payload")

    @classmethod
    def invalid_token(cls) -> SlackResponse:
        return cls(403, "invalid_token")

    @classmethod
    def channel_not_found(cls) -> SlackResponse:
        return cls(404, "channel_not_found")

    @classmethod
    def no_service(cls) -> SlackResponse:
        return cls(404, "no_service")

    @classmethod
    def archived(cls) -> SlackResponse:
        return cls(410, "channel_is_archived")

    @classmethod
    def server_error(cls) -> SlackResponse:
        return cls(500, "internal_error")


@dataclass(frozen=True)
class CaughtRequest:
    """One request the catcher received and what it answered."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    status: int
    answer: str

    def json(self) -> Any:
        return json.loads(self.body)


def validate_payload(body: bytes) -> str | None:
    """Why Slack would refuse this webhook body, or None if it would accept it."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "body is not JSON"
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    text, blocks = payload.get("text"), payload.get("blocks")
    if text is not None and not isinstance(text, str):
        return "text is not a string"
    if blocks is not None and not isinstance(blocks, list):
        return "blocks is not a list"
    if not (text and text.strip()) and not blocks:
        return "no text or blocks"
    if blocks and len(blocks) > MAX_BLOCKS:
        return f"{len(blocks)} blocks > {MAX_BLOCKS}"
    for index, block in enumerate(blocks or []):
        problem = _block_problem(block)
        if problem:
            return f"block {index}: {problem}"
    return None


def _block_problem(block: Any) -> str | None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return "not an object with a type"
    kind = block["type"]
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            return "section without text or fields"
        if text is not None and _text_len(text) is None:
            return "section text is not a text object"
        if text is not None and (_text_len(text) or 0) > MAX_SECTION_TEXT:
            return f"section text {_text_len(text)} chars > {MAX_SECTION_TEXT}"
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
                return "bad section fields"
            for item in fields:
                length = _text_len(item)
                if length is None or length > MAX_FIELD_TEXT:
                    return "bad section field"
    elif kind == "header":
        length = _text_len(block.get("text"))
        if length is None or length > MAX_HEADER_TEXT:
            return "bad header text"
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > 10:
            return "bad context elements"
    return None


def _text_len(obj: Any) -> int | None:
    """Length of a Block Kit text object's text (None if it is not one)."""
    if not isinstance(obj, dict) or obj.get("type") not in ("mrkdwn", "plain_text"):
        return None
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return None
    return len(text)


class SlackCatcher(LoopbackServer):
    """Threaded stdlib HTTP server on 127.0.0.1 behaving like Slack's webhook endpoint."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[CaughtRequest] = []
        self._accepted: dict[str, list[Any]] = defaultdict(list)
        self._scripts: dict[str, deque[SlackResponse]] = defaultdict(deque)
        self._always: dict[str, SlackResponse] = {}
        self._lock = threading.Lock()
        super().__init__(_make_handler(self), port=port, name="slack-catcher")

    def url(self, path: str = "/services/T000/B000/XXXX") -> str:
        """Absolute webhook URL for path on this catcher."""
        return self.origin + path

    def queue(self, path: str, *responses: SlackResponse) -> None:
        """Answer the next requests to path with these responses, in order, then behave normally."""
        with self._lock:
            self._scripts[path].extend(responses)

    def always(self, path: str, response: SlackResponse | None) -> None:
        """Answer every request to path with response (None restores normal behaviour)."""
        with self._lock:
            if response is None:
                self._always.pop(path, None)
            else:
                self._always[path] = response

    def payloads(self, path: str) -> list[Any]:
        """Payloads accepted (answered 2xx) on path, in order."""
        with self._lock:
            return list(self._accepted.get(path, []))

    def requests_for(self, path: str) -> list[CaughtRequest]:
        """Every request to path, accepted or not, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def count(self, path: str | None = None) -> int:
        """How many requests path (or any path) received."""
        with self._lock:
            return len(self.requests) if path is None else sum(r.path == path for r in self.requests)

    def reset(self) -> None:
        """Forget recorded requests, payloads and scripts."""
        with self._lock:
            self.requests.clear()
            self._accepted.clear()
            self._scripts.clear()
            self._always.clear()

    def _handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> SlackResponse:
        with self._lock:
            script = self._scripts.get(path)
            scripted = script.popleft() if script else self._always.get(path)
        if method != "POST":
            response = SlackResponse(405, "invalid_method")
        elif scripted is not None:
            response = scripted
        elif problem := validate_payload(body):
            response = SlackResponse(400, "invalid_payload", {"X-Catcher-Reason": problem})
        else:
            response = SlackResponse.ok()
        with self._lock:
            self.requests.append(CaughtRequest(method, path, headers, body, response.status, response.body))
            if 200 <= response.status < 300:
                self._accepted[path].append(json.loads(body) if not validate_payload(body) else body)
        return response


def _make_handler(catcher: SlackCatcher) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            # A client that hangs up between requests on a kept-alive connection needs no answer.
            with contextlib.suppress(ConnectionError, TimeoutError):
                super().handle()

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self._write(SlackResponse(413, "request_too_large"))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._write(catcher._handle(method, self.path, headers, body))

        def _write(self, response: SlackResponse) -> None:
            data = response.body.encode("utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", "text/html")  # what Slack sends for webhook answers
            self.send_header("Content-Length", str(len(data)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return _Handler


def main(argv: list[str] | None = None) -> None:
    """Serve on 127.0.0.1 and print each accepted payload until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    catcher = SlackCatcher(port=args.port)
    with catcher:
        print(f"slack catcher listening: {catcher.url('/services/T000/B000/XXXX')}", flush=True)
        seen = 0
        try:
            while True:
                threading.Event().wait(0.5)
                with catcher._lock:
                    new = catcher.requests[seen:]
                    seen = len(catcher.requests)
                for request in new:
                    print(f"{request.status} {request.path} {request.body.decode('utf-8', 'replace')}", flush=True)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
