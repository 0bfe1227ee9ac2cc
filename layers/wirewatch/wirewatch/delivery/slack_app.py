"""Slack app delivery through the Web API (slack_sdk's WebClient): post, reply in a thread, edit.

The bot token is a credential: it lives in the secret store (with the channel id, as one JSON value
named by the subscription's `target`), is sent only in the Authorization header, and is never put
in a log line, a result or an exception.

Slack allows about one message per second per channel, so every call waits for its channel's token
bucket; a 429 is waited out for its Retry-After (up to a cap). The errors that mean the bot cannot
post there again (a deleted, archived or unjoined channel, a revoked token, a deactivated
workspace) are permanent and named, so the subscription shows why it is failing. msg_too_long is
answered by splitting the message into smaller parts, never by dropping it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from wirewatch.delivery.pacing import TokenBucket
from wirewatch.delivery.result import SendResult, backoff_delay
from wirewatch.digest.slack_thread import thread_parent_message, thread_reply_message
from wirewatch.feeds.text import plain_line
from wirewatch.logs import logger
from wirewatch.models import Story, Subscription

SLACK_API = "https://slack.com/api/"
# Errors after which posting to this channel with this token cannot work until someone acts.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "not_authed",
        "missing_scope",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_MAX_SPLITS = 4


class InvalidSlackAppTarget(ValueError):
    """A channel id or bot token that cannot be right (neither is quoted)."""


@dataclass(frozen=True)
class SlackAppTarget:
    """Where a slack-app subscription posts: the channel id and the bot token (the secret's value)."""

    channel: str
    token: str

    def to_secret(self) -> str:
        return json.dumps({"channel": self.channel, "token": self.token})

    @classmethod
    def from_secret(cls, value: str) -> SlackAppTarget:
        try:
            data = json.loads(value)
            return cls(str(data["channel"]), str(data["token"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidSlackAppTarget("slack-app secret is not a channel and token") from None


def validate_slack_app_target(channel: str, token: str) -> None:
    """Raise InvalidSlackAppTarget unless channel looks like a Slack channel id and token like a bot token."""
    if not (channel[:1] in ("C", "G", "D") and channel.isalnum() and channel.isupper() and 8 <= len(channel) <= 24):
        raise InvalidSlackAppTarget("channel must be a Slack channel id such as C0123456789 (not a #name)")
    if not token.startswith("xoxb-") or len(token) < 15 or any(c.isspace() for c in token):
        raise InvalidSlackAppTarget("token must be a bot token (xoxb-...)")


class SlackAppSender:
    """chat.postMessage / chat.update with per-channel pacing, Retry-After, backoff and named permanent errors."""

    def __init__(
        self,
        *,
        base_url: str = SLACK_API,
        rate: float = 1.0,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        timeout: int = 10,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
        self._rate = rate
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._timeout = timeout
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def post(
        self,
        target: SlackAppTarget,
        payload: dict[str, Any],
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> SendResult:
        """Post a message (a reply when thread_ts is given); provider_id is the ts of its first part."""
        extra: dict[str, Any] = {}
        if thread_ts:
            extra["thread_ts"] = thread_ts
            if reply_broadcast:
                extra["reply_broadcast"] = True
        result = self._call("chat.postMessage", target, payload, extra)
        if result.detail != "msg_too_long" or result.ok:
            return result
        return self._post_split(target, payload, thread_ts, reply_broadcast)

    def update(self, target: SlackAppTarget, ts: str, payload: dict[str, Any]) -> SendResult:
        """Edit message ts; if it is too long, the edit carries the first part and the rest goes in its thread."""
        result = self._call("chat.update", target, payload, {"ts": ts})
        if result.ok or result.detail != "msg_too_long":
            return result
        first, *rest = split_message(payload)
        result = self._call("chat.update", target, first, {"ts": ts})
        for part in rest:
            if not result.ok:
                break
            result = self.post(target, part, thread_ts=ts)
        return result

    def _post_split(
        self, target: SlackAppTarget, payload: dict[str, Any], thread_ts: str | None, reply_broadcast: bool
    ) -> SendResult:
        parts = [payload]
        for _ in range(_MAX_SPLITS):
            parts = [p for part in parts for p in split_message(part)]
            first: SendResult | None = None
            anchor = thread_ts
            attempts = 0
            for number, part in enumerate(parts):
                extra: dict[str, Any] = {}
                if anchor:
                    extra["thread_ts"] = anchor
                    if reply_broadcast and number == 0:
                        extra["reply_broadcast"] = True
                result = self._call("chat.postMessage", target, part, extra)
                attempts += result.attempts
                if result.detail == "msg_too_long" and number == 0:
                    break  # split further
                if not result.ok:
                    return result
                if first is None:
                    first = result
                    # A split parent continues in its own thread, so the story still reads as one message.
                    anchor = anchor or result.provider_id
            else:
                assert first is not None
                return SendResult(
                    "sent", attempts=attempts, detail=f"split into {len(parts)} parts", provider_id=first.provider_id
                )
        return SendResult(
            "failed", attempts=0, detail="msg_too_long even after splitting", permanent=True, sender_side=True
        )

    def _bucket(self, channel: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(channel)
            if bucket is None:
                bucket = self._buckets[channel] = TokenBucket(self._rate, clock=self._clock, sleep=self._sleep)
            return bucket

    def _client(self, token: str) -> WebClient:
        # No retry handlers: a connection error retried inside the SDK could post twice; we retry ourselves.
        # An HTTPS_PROXY from the environment is used, as by any urllib client (a desk behind a corporate
        # proxy); the Web API host is configuration, never user input, and the token stays inside TLS.
        return WebClient(token=token, base_url=self._base_url, timeout=self._timeout, retry_handlers=[])

    def _call(self, method: str, target: SlackAppTarget, payload: dict[str, Any], extra: dict[str, Any]) -> SendResult:
        client = self._client(target.token)
        detail = ""
        retry_after: float | None = None
        for attempt in range(1, self._max_attempts + 1):
            self._bucket(target.channel).acquire()
            retry_after = None
            try:
                kwargs = {"channel": target.channel, "text": payload.get("text", ""), **extra}
                if payload.get("blocks"):
                    kwargs["blocks"] = payload["blocks"]
                if method == "chat.update":
                    response = client.chat_update(**kwargs)
                else:
                    response = client.chat_postMessage(**kwargs)
                return SendResult("sent", attempts=attempt, detail="ok", provider_id=str(response.get("ts") or ""))
            except SlackApiError as exc:
                status = exc.response.status_code
                error = _error_code(exc.response)
                if status == 429 or error == "ratelimited":
                    retry_after = _seconds(
                        exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                    )
                    detail = "rate limited (429)"
                    if retry_after is not None and retry_after > self._max_retry_after:
                        return SendResult("retry", attempts=attempt, detail=detail, retry_after=retry_after)
                    wait = retry_after if retry_after is not None else backoff_delay(attempt, self._backoff_base)
                elif error in PERMANENT_ERRORS:
                    logger.warning("slack app permanent failure", extra={"method": method, "reason": error})
                    return SendResult("failed", attempts=attempt, detail=error, permanent=True)
                elif error == "msg_too_long":
                    return SendResult("failed", attempts=attempt, detail=error, permanent=True, sender_side=True)
                elif status >= 500 or error in TRANSIENT_ERRORS:
                    detail = f"{error or 'http ' + str(status)}"
                    wait = backoff_delay(attempt, self._backoff_base)
                else:
                    # invalid_blocks, invalid_arguments, message_not_found ...: our message, not the subscriber's setup.
                    logger.warning("slack app refused message", extra={"method": method, "reason": error})
                    return SendResult(
                        "failed", attempts=attempt, detail=error or f"http {status}", permanent=True, sender_side=True
                    )
            except (SlackClientError, urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                detail = f"transport error: {type(exc).__name__}"
                wait = backoff_delay(attempt, self._backoff_base)
            if attempt < self._max_attempts:
                logger.info("slack app retry", extra={"attempt": attempt, "wait": round(wait, 3), "why": detail})
                self._sleep(wait)
        return SendResult("retry", attempts=self._max_attempts, detail=detail, retry_after=retry_after)


def _error_code(response: Any) -> str:
    data = response.data if isinstance(response.data, dict) else {}
    return plain_line(str(data.get("error") or ""))[:80]


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def split_message(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Two smaller messages carrying everything `payload` did: blocks halved, or one long text cut in two."""
    blocks = list(payload.get("blocks") or [])
    text = str(payload.get("text") or "")
    if len(blocks) > 1:
        middle = len(blocks) // 2
        return [
            {"text": _half(text, 0), "blocks": blocks[:middle]},
            {"text": _half(text, 1), "blocks": blocks[middle:]},
        ]
    if blocks:
        block = blocks[0]
        inner = block.get("text", {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        if inner and len(inner) > 1:
            first, second = _cut(inner)
            return [
                {"text": _half(text, 0), "blocks": [{**block, "text": {**block["text"], "text": first}}]},
                {"text": _half(text, 1), "blocks": [{**block, "text": {**block["text"], "text": second}}]},
            ]
    first, second = _cut(text)
    return [{"text": first}, {"text": second}]


def _half(text: str, which: int) -> str:
    if len(text) <= 4000:
        return text if which == 0 else f"{text[:200]} (continued)"
    return _cut(text)[which]


def _cut(text: str) -> tuple[str, str]:
    """Text in two at a line or word break near the middle (never inside an &escape; or <link>)."""
    middle = len(text) // 2
    for sep in ("\n", " "):
        at = text.rfind(sep, 0, middle + 1)
        if at > len(text) // 4 and _safe_cut(text, at):
            return text[:at], text[at + 1 :]
    at = middle
    while at > 1 and not _safe_cut(text, at):
        at -= 1
    return text[:at], text[at:]


def _safe_cut(text: str, at: int) -> bool:
    before = text[:at]
    return before.rfind("<") <= before.rfind(">") and before.rfind("&") <= before.rfind(";")


class SlackAppThread:
    """The thread channel for a Slack app: the alert as parent, follow-ups in its thread, the parent kept current."""

    def __init__(self, sender: SlackAppSender, target_for: Callable[[Subscription], SlackAppTarget]) -> None:
        self._sender = sender
        self._target_for = target_for

    def post_parent(self, sub: Subscription, story: Story) -> SendResult:
        target = self._target(sub)
        if isinstance(target, SendResult):
            return target
        return self._sender.post(target, thread_parent_message(story, sub.timezone))

    def post_follow_up(self, sub: Subscription, story: Story, parent_id: str, follow_up: Any) -> SendResult:
        target = self._target(sub)
        if isinstance(target, SendResult):
            return target
        message = thread_reply_message(story, follow_up.changes, sub.timezone)
        return self._sender.post(target, message, thread_ts=parent_id, reply_broadcast=follow_up.broadcast)

    def update_parent(self, sub: Subscription, story: Story, parent_id: str) -> SendResult | None:
        target = self._target(sub)
        if isinstance(target, SendResult):
            return target
        return self._sender.update(target, parent_id, thread_parent_message(story, sub.timezone))

    def send(self, sub: Subscription, payload: dict[str, Any]) -> SendResult:
        """A plain post to the channel (digests go through the Postman with this)."""
        target = self._target(sub)
        if isinstance(target, SendResult):
            return target
        return self._sender.post(target, payload)

    def _target(self, sub: Subscription) -> SlackAppTarget | SendResult:
        try:
            return self._target_for(sub)
        except (InvalidSlackAppTarget, LookupError) as exc:
            return SendResult(
                "failed", attempts=0, detail=f"slack-app secret unusable: {type(exc).__name__}", permanent=True
            )
