"""A loopback stand-in for the Slack Web API (chat.postMessage, chat.update), for tests and `make demo`.

It answers like Slack: HTTP 200 with ``{"ok": true, "ts": ...}`` or ``{"ok": false, "error": ...}``
(not_authed, invalid_auth, token_revoked, account_inactive, channel_not_found, not_in_channel,
is_archived, msg_too_long, invalid_blocks, message_not_found, thread_not_found), and 429 with
Retry-After when a test queues it. It keeps every channel's messages and threads, so tests can
assert on parents, replies, broadcasts and edits:

    with SlackWebApi() as slack:
        slack.add_token("xoxb-test")
        slack.add_channel("C123")
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        ts = client.chat_postMessage(channel="C123", text="hi")["ts"]
        assert slack.replies("C123", ts) == []

Run it alone with ``python -m loopback.slack_web_api [--port N] [--token T] [--channel C] [--log FILE]``;
it prints one line per call (and a thread view at exit) to show what the demo sent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from loopback.server import LoopbackServer
from loopback.slack_catcher import validate_payload

# chat.postMessage refuses text longer than this with msg_too_long (Slack documents 40,000).
MAX_MESSAGE_TEXT = 40_000
MAX_BODY_BYTES = 2_000_000
METHODS = ("chat.postMessage", "chat.update")
CHANNEL_STATES = ("ok", "not_in_channel", "is_archived")


@dataclass(frozen=True)
class ApiAnswer:
    """A scripted answer to the next call of a method: an error code, or a 429."""

    error: str | None = None
    status: int = 200
    retry_after: int | None = None

    @classmethod
    def fail(cls, error: str) -> ApiAnswer:
        return cls(error=error)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> ApiAnswer:
        return cls(error="ratelimited", status=429, retry_after=retry_after)


@dataclass
class Posted:
    """One message in a channel, as Slack keeps it."""

    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    reply_broadcast: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None


@dataclass(frozen=True)
class Call:
    """One API call received and the error it was answered with (None for ok)."""

    method: str
    token: str | None
    payload: dict[str, Any]
    status: int
    error: str | None


class SlackWebApi(LoopbackServer):
    """Threaded stdlib HTTP server on 127.0.0.1 behaving like slack.com/api for chat.* calls."""

    def __init__(self, port: int = 0, *, log: Callable[[str], None] | None = None) -> None:
        self.calls: list[Call] = []
        self._tokens: dict[str, str] = {}  # token -> ok | token_revoked | account_inactive
        self._channels: dict[str, str] = {}
        self._messages: dict[str, list[Posted]] = {}
        self._scripts: dict[str, deque[ApiAnswer]] = {m: deque() for m in METHODS}
        self._clock = 1_700_000_000
        self._seq = 0
        self._log = log
        self._lock = threading.Lock()
        super().__init__(_make_handler(self), port=port, name="slack-web-api")

    @property
    def base_url(self) -> str:
        """What to pass as slack_sdk's WebClient(base_url=...)."""
        return f"{self.origin}/api/"

    def add_token(self, token: str) -> None:
        with self._lock:
            self._tokens[token] = "ok"

    def revoke_token(self, token: str, reason: str = "token_revoked") -> None:
        """Make every later call with token fail (token_revoked or account_inactive)."""
        with self._lock:
            self._tokens[token] = reason

    def add_channel(self, channel: str, state: str = "ok") -> None:
        """A channel the bot can post to (ok), or one it cannot (not_in_channel, is_archived)."""
        if state not in CHANNEL_STATES:
            raise ValueError(f"state must be one of {CHANNEL_STATES}")
        with self._lock:
            self._channels[channel] = state
            self._messages.setdefault(channel, [])

    def queue(self, method: str, *answers: ApiAnswer) -> None:
        """Answer the next calls of method with these, in order, then behave normally."""
        with self._lock:
            self._scripts[method].extend(answers)

    def messages(self, channel: str) -> list[Posted]:
        """What the channel shows: top-level messages and broadcast replies, oldest first."""
        with self._lock:
            return [m for m in self._messages.get(channel, []) if not m.is_reply or m.reply_broadcast]

    def parents(self, channel: str) -> list[Posted]:
        """Top-level messages only."""
        with self._lock:
            return [m for m in self._messages.get(channel, []) if not m.is_reply]

    def replies(self, channel: str, ts: str) -> list[Posted]:
        """The thread under message ts, oldest first."""
        with self._lock:
            return [m for m in self._messages.get(channel, []) if m.thread_ts == ts]

    def message(self, channel: str, ts: str) -> Posted | None:
        with self._lock:
            return next((m for m in self._messages.get(channel, []) if m.ts == ts), None)

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(method is None or c.method == method for c in self.calls)

    def thread_view(self, channel: str) -> str:
        """A plain-text picture of the channel and its threads (the demo prints it)."""
        lines = [f"#{channel}"]
        for parent in self.parents(channel):
            edited = f" (edited {len(parent.edits)}x)" if parent.edits else ""
            lines.append(f"  [{parent.ts}] {parent.text}{edited}")
            for reply in self.replies(channel, parent.ts):
                flag = " (also sent to the channel)" if reply.reply_broadcast else ""
                lines.append(f"      ↳ [{reply.ts}] {reply.text}{flag}")
        return "\n".join(lines)

    def handle(self, method: str, token: str | None, payload: dict[str, Any]) -> tuple[int, dict[str, Any], int | None]:
        """Answer one call: (HTTP status, JSON body, Retry-After)."""
        with self._lock:
            status, body, retry_after = self._answer(method, token, payload)
            error = None if body.get("ok") else str(body.get("error"))
            self.calls.append(Call(method, token, payload, status, error))
        if self._log is not None:
            self._log(_log_line(method, payload, body))
        return status, body, retry_after

    def _answer(
        self, method: str, token: str | None, payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any], int | None]:
        if method not in METHODS:
            return 200, {"ok": False, "error": "unknown_method"}, None
        script = self._scripts[method]
        if script:
            answer = script.popleft()
            return answer.status, {"ok": False, "error": answer.error}, answer.retry_after
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, None
        token_state = self._tokens.get(token)
        if token_state is None:
            return 200, {"ok": False, "error": "invalid_auth"}, None
        if token_state != "ok":
            return 200, {"ok": False, "error": token_state}, None
        channel = payload.get("channel")
        state = self._channels.get(channel) if isinstance(channel, str) else None
        if state is None:
            return 200, {"ok": False, "error": "channel_not_found"}, None
        if state != "ok":
            return 200, {"ok": False, "error": state}, None
        assert isinstance(channel, str)
        text = payload.get("text") or ""
        blocks = payload.get("blocks") or []
        if isinstance(blocks, str):
            with contextlib.suppress(json.JSONDecodeError):
                blocks = json.loads(blocks)
        if not isinstance(blocks, list):
            return 200, {"ok": False, "error": "invalid_blocks_format"}, None
        if not isinstance(text, str) or len(text) > MAX_MESSAGE_TEXT:
            return 200, {"ok": False, "error": "msg_too_long"}, None
        if blocks and validate_payload(json.dumps({"text": text, "blocks": blocks}).encode()):
            return 200, {"ok": False, "error": "invalid_blocks"}, None
        if not text.strip() and not blocks:
            return 200, {"ok": False, "error": "no_text"}, None
        if method == "chat.update":
            return self._update(channel, payload, text, blocks)
        thread_ts = payload.get("thread_ts")
        if thread_ts is not None:
            parent = next((m for m in self._messages[channel] if m.ts == thread_ts and not m.is_reply), None)
            if parent is None:
                return 200, {"ok": False, "error": "thread_not_found"}, None
        posted = Posted(
            channel,
            self._next_ts(),
            text,
            list(blocks),
            thread_ts=str(thread_ts) if thread_ts is not None else None,
            reply_broadcast=bool(payload.get("reply_broadcast")) and thread_ts is not None,
        )
        self._messages[channel].append(posted)
        message = {"type": "message", "text": text, "ts": posted.ts}
        if posted.thread_ts:
            message["thread_ts"] = posted.thread_ts
        return 200, {"ok": True, "channel": channel, "ts": posted.ts, "message": message}, None

    def _update(
        self, channel: str, payload: dict[str, Any], text: str, blocks: list[Any]
    ) -> tuple[int, dict[str, Any], None]:
        target = next((m for m in self._messages[channel] if m.ts == payload.get("ts")), None)
        if target is None:
            return 200, {"ok": False, "error": "message_not_found"}, None
        target.edits.append({"text": target.text, "blocks": target.blocks})
        target.text, target.blocks = text, list(blocks)
        return 200, {"ok": True, "channel": channel, "ts": target.ts, "text": text}, None

    def _next_ts(self) -> str:
        self._seq += 1
        return f"{self._clock + self._seq // 1_000_000}.{self._seq % 1_000_000:06d}"


def _log_line(method: str, payload: dict[str, Any], body: dict[str, Any]) -> str:
    outcome = f"ts={body.get('ts')}" if body.get("ok") else f"error={body.get('error')}"
    where = f"channel={payload.get('channel')}"
    if payload.get("thread_ts"):
        where += f" thread_ts={payload['thread_ts']}"
    if payload.get("reply_broadcast"):
        where += " reply_broadcast"
    if method == "chat.update" and not body.get("ok"):
        where += f" ts={payload.get('ts')}"
    text = str(payload.get("text") or "").replace("\n", " ")[:160]
    return f"{method} {where} {outcome} text={text!r}"


def _make_handler(api: SlackWebApi) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(413, {"ok": False, "error": "request_too_large"}, None)
                return
            raw = self.rfile.read(length)
            payload = _decode(raw, self.headers.get("Content-Type") or "")
            auth = self.headers.get("Authorization") or ""
            token = auth[7:] if auth.startswith("Bearer ") else payload.pop("token", None)
            method = self.path.split("?", 1)[0].removeprefix("/api/")
            status, body, retry_after = api.handle(method, token or None, payload)
            self._reply(status, body, retry_after)

        def _reply(self, status: int, body: dict[str, Any], retry_after: int | None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Handler


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            value = json.loads(raw or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8", "replace")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback Slack Web API (chat.postMessage, chat.update)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="xoxb-demo")
    parser.add_argument("--channel", action="append", default=[])
    parser.add_argument("--log", help="append one line per call to this file")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)
        if args.log:
            with open(args.log, "a", encoding="utf-8") as out:
                out.write(line + "\n")

    api = SlackWebApi(args.port, log=log)
    api.add_token(args.token)
    for channel in args.channel or ["CDEMO"]:
        api.add_channel(channel)
    with api:
        print(f"slack web api on {api.base_url} (token {args.token[:5]}…)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        for channel in args.channel or ["CDEMO"]:
            print(api.thread_view(channel))


if __name__ == "__main__":
    main()
