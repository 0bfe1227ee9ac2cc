"""Signed webhooks (the Standard Webhooks convention) for every tool that is not Slack.

Each event is a JSON POST with webhook-id, webhook-timestamp and webhook-signature headers, the
signature made by `standardwebhooks.Webhook(secret).sign` (HMAC-SHA256 over id.timestamp.body)
with the subscription's own secret. The id is stable across retries, so a receiver can drop
repeats; the timestamp (and so the signature) is fresh on every attempt, so a receiver's replay
window does not reject a retry.

The URL is checked against the SSRF rules when subscribing and again before every send, and the
connection is pinned to the checked address (no DNS rebinding between check and connect). 5xx,
408, 429 and timeouts are retried with backoff; any other 4xx, or a redirect, is permanent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from wirewatch.delivery.result import SendResult, backoff_delay
from wirewatch.feeds.pinning import refusal
from wirewatch.feeds.ssrf import Resolver, UnsafeUrlError, check_url, resolve_host
from wirewatch.logs import logger
from wirewatch.models import Story, Subscription

SCHEMA_VERSION = 1
EVENT_TYPES = ("story.alert", "story.follow_up", "digest.ready")
_RETRYABLE_4XX = frozenset({408, 425, 429})
_DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class InvalidWebhookTarget(ValueError):
    """A webhook URL this service will not post to (the reason names the host, never the path)."""


@dataclass(frozen=True)
class WebhookTarget:
    """Where a webhook subscription posts and the secret it signs with (kept together as one secret value)."""

    url: str
    secret: str

    def to_secret(self) -> str:
        return json.dumps({"url": self.url, "secret": self.secret})

    @classmethod
    def from_secret(cls, value: str) -> WebhookTarget:
        try:
            data = json.loads(value)
            return cls(str(data["url"]), str(data["secret"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhookTarget("webhook secret is not a url and signing secret") from None


def new_signing_secret() -> str:
    """A fresh Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_webhook_url(url: str, *, allow_loopback: bool, resolve: Resolver = resolve_host) -> None:
    """Raise InvalidWebhookTarget unless url is http(s) without credentials and every address is public
    (https only, except loopback http when allowed)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise InvalidWebhookTarget("webhook url is not a valid URL") from None
    if parsed.scheme != "https" and not (allow_loopback and parsed.scheme == "http"):
        raise InvalidWebhookTarget("webhook url must be https")
    if parsed.fragment:
        raise InvalidWebhookTarget("webhook url must not carry a fragment")
    try:
        check_url(url, allow_loopback=allow_loopback, resolve=resolve)
    except UnsafeUrlError as exc:
        raise InvalidWebhookTarget(f"webhook url refused: {exc}") from None


def message_id(*parts: str) -> str:
    """A deterministic webhook-id: the same event keeps its id across retries and reruns."""
    return "msg_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def story_data(story: Story) -> dict[str, Any]:
    """A story as the webhook schema's Story object (raw text: escaping is the receiver's job)."""
    return {
        "id": story.id,
        "headline": story.headline,
        "severity": story.severity,
        "severity_reason": story.severity_reason,
        "topics": list(story.topics),
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "facts": json.loads(json.dumps(dict(story.facts), default=str)),
        "sources": [
            {
                "item_id": s.item_id,
                "source": s.source,
                "title": s.title,
                "link": s.link,
                "published": s.published.isoformat(),
                "language": s.language,
            }
            for s in sorted(story.sources, key=lambda s: (s.published, s.item_id))
        ],
    }


def event(kind: str, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The envelope every event shares: type, version, timestamp, data."""
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {kind!r}")
    return {"type": kind, "version": SCHEMA_VERSION, "timestamp": now.isoformat(), "data": dict(data)}


def digest_event(stories: Sequence[Story], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """A digest.ready event: the window and its stories."""
    return event(
        "digest.ready",
        {"window": {"start": start.isoformat(), "end": end.isoformat()}, "stories": [story_data(s) for s in stories]},
        now,
    )


class WebhookPoster:
    """Signs and POSTs events, retrying transient failures; never raises for receiver or network failures."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        allow_loopback: bool = False,
        resolve: Resolver = resolve_host,
        max_attempts: int = 4,
        timeout: httpx.Timeout | float = _DEFAULT_TIMEOUT,
        backoff_base: float = 0.5,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._allow_loopback = allow_loopback
        self._resolve = resolve
        self._max_attempts = max_attempts
        self._timeout = timeout
        self._backoff_base = backoff_base
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock

    def send(self, target: WebhookTarget, msg_id: str, payload: Mapping[str, Any]) -> SendResult:
        """POST payload signed for target; provider_id is the webhook-id."""
        try:
            check_webhook_url(target.url, allow_loopback=self._allow_loopback, resolve=self._resolve)
        except InvalidWebhookTarget as exc:
            return SendResult("failed", attempts=0, detail=str(exc), permanent=True)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        signer = Webhook(target.secret)
        detail = ""
        retry_after: float | None = None
        for attempt in range(1, self._max_attempts + 1):
            retry_after = None
            stamp = self._clock().astimezone(UTC).replace(microsecond=0)
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": signer.sign(msg_id, stamp, body),
                "user-agent": "wirewatch-webhooks/1",
            }
            try:
                response = self._client.post(target.url, content=body.encode(), headers=headers, timeout=self._timeout)
            except httpx.TransportError as exc:
                refused = refusal(exc)
                if refused is not None:
                    return SendResult("failed", attempts=attempt, detail=f"unsafe address: {refused}", permanent=True)
                detail = (
                    "timed out" if isinstance(exc, httpx.TimeoutException) else f"transport error: {type(exc).__name__}"
                )
                wait = backoff_delay(attempt, self._backoff_base)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return SendResult("sent", attempts=attempt, detail=f"http {status}", provider_id=msg_id)
                if status >= 500 or status in _RETRYABLE_4XX:
                    detail = f"http {status}"
                    retry_after = _seconds(response.headers.get("retry-after")) if status == 429 else None
                    if retry_after is not None and retry_after > self._max_retry_after:
                        return SendResult("retry", attempts=attempt, detail=detail, retry_after=retry_after)
                    wait = retry_after if retry_after is not None else backoff_delay(attempt, self._backoff_base)
                else:
                    detail = f"http {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
                    logger.warning("webhook permanent failure", extra={"status": status})
                    return SendResult("failed", attempts=attempt, detail=detail, permanent=True)
            if attempt < self._max_attempts:
                logger.info("webhook retry", extra={"attempt": attempt, "wait": round(wait, 3), "why": detail})
                self._sleep(wait)
        return SendResult("retry", attempts=self._max_attempts, detail=detail, retry_after=retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class WebhookThread:
    """The thread channel for webhooks: story.alert as the parent, story.follow_up events after it."""

    def __init__(
        self,
        poster: WebhookPoster,
        target_for: Callable[[Subscription], WebhookTarget],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._poster = poster
        self._target_for = target_for
        self._clock = clock

    def post_parent(self, sub: Subscription, story: Story) -> SendResult:
        msg_id = message_id(sub.id, story.id, "alert")
        return self._send(sub, msg_id, event("story.alert", {"story": story_data(story)}, self._clock()))

    def post_follow_up(self, sub: Subscription, story: Story, parent_id: str, follow_up: Any) -> SendResult:
        changes = [{"kind": c.kind, "text": c.text, "data": dict(c.data)} for c in follow_up.changes]
        msg_id = message_id(sub.id, story.id, "follow_up", json.dumps(changes, sort_keys=True, default=str))
        data = {"story": story_data(story), "changes": changes, "escalated": follow_up.broadcast, "alert_id": parent_id}
        return self._send(sub, msg_id, event("story.follow_up", data, self._clock()))

    def update_parent(self, sub: Subscription, story: Story, parent_id: str) -> SendResult | None:
        return None  # a posted webhook cannot be edited: the follow-up carries the whole story

    def send(self, sub: Subscription, payload: dict[str, Any]) -> SendResult:
        """One event through the Postman (digests); its id is derived from the subscription and the data."""
        data = json.dumps([payload.get("type"), payload.get("data")], sort_keys=True, default=str)
        return self._send(sub, message_id(sub.id, data), payload)

    def _send(self, sub: Subscription, msg_id: str, payload: dict[str, Any]) -> SendResult:
        try:
            target = self._target_for(sub)
        except (InvalidWebhookTarget, LookupError) as exc:
            return SendResult(
                "failed", attempts=0, detail=f"webhook secret unusable: {type(exc).__name__}", permanent=True
            )
        return self._poster.send(target, msg_id, payload)
