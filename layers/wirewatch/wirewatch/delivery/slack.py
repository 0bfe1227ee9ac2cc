"""Slack incoming webhooks: POST a Block Kit payload, retry what Slack says is transient.

The webhook URL is a credential (anyone holding it can post to the channel), so it is never
logged and never put in a result or an exception; only the host is ever named.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from wirewatch.delivery.result import SendResult, backoff_delay
from wirewatch.feeds.pinning import PinnedTransport, refusal
from wirewatch.feeds.ssrf import Resolver, resolve_host
from wirewatch.feeds.text import plain_line
from wirewatch.logs import logger

__all__ = ["InvalidWebhookUrl", "SendResult", "SlackSender", "validate_webhook_url", "webhook_client"]

SLACK_HOST = "hooks.slack.com"
# Every other non-2xx answer (400 invalid_payload, 403 invalid_token, 404 no_service,
# 410 channel_is_archived, an unexpected redirect ...) is permanent: retrying cannot change it.
_RETRYABLE_4XX = frozenset({408, 425, 429})
_DETAIL_LIMIT = 200
_DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_SLACK_URL = re.compile(r"https?://hooks\.slack\.com(?::\d+)?/[^\s\"'<>]*")


class InvalidWebhookUrl(ValueError):
    """The URL is not a Slack incoming webhook this sender may post to (the URL itself is not quoted)."""


def validate_webhook_url(url: str, *, allow_loopback: bool = False) -> None:
    """Raise InvalidWebhookUrl unless url is https://hooks.slack.com/... (or loopback http when allowed)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        # Not chained: the parser's message may quote the URL.
        raise InvalidWebhookUrl("webhook url is not a valid URL") from None
    if parsed.userinfo or parsed.fragment:
        raise InvalidWebhookUrl("webhook url must not carry credentials or a fragment")
    if parsed.scheme == "https" and parsed.host == SLACK_HOST and parsed.port in (None, 443):
        if parsed.path in ("", "/"):
            raise InvalidWebhookUrl("webhook url has no path")
        return
    if allow_loopback and parsed.scheme == "http" and parsed.host == "127.0.0.1" and parsed.port:
        return
    allowed = f"https://{SLACK_HOST}/..." + (" or http://127.0.0.1:<port>/..." if allow_loopback else "")
    raise InvalidWebhookUrl(f"webhook url must be {allowed} (got {parsed.scheme}://{parsed.host or '?'})")


def webhook_client(*, allow_loopback: bool = False, resolve: Resolver = resolve_host) -> httpx.Client:
    """The client for webhook posts: connects only to checked public addresses (pinned), no proxies.

    hooks.slack.com is named by us, but its answer comes from DNS: a poisoned or rebinding resolver
    must not turn a post carrying a digest into a request to loopback or the metadata service.
    """
    return httpx.Client(
        transport=PinnedTransport(allow_loopback=allow_loopback, resolve=resolve),
        trust_env=False,
        follow_redirects=False,
    )


class SlackSender:
    """Posts JSON payloads to Slack incoming webhooks with Retry-After, backoff and permanent failures."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        allow_loopback: bool = False,
        timeout: httpx.Timeout | float = _DEFAULT_TIMEOUT,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._allow_loopback = allow_loopback
        self._timeout = timeout
        _install_redaction()

    def send(self, webhook_url: str, payload: dict[str, Any]) -> SendResult:
        """Post payload to the webhook; never raises for Slack or network failures."""
        try:
            validate_webhook_url(webhook_url, allow_loopback=self._allow_loopback)
        except InvalidWebhookUrl as exc:
            return SendResult("failed", attempts=0, detail=str(exc), permanent=True)

        if self._allow_loopback:
            _REDACTION.remember(httpx.URL(webhook_url).path)
        detail = ""
        retry_after: float | None = None
        for attempt in range(1, self._max_attempts + 1):
            retry_after = None
            try:
                response = self._client.post(webhook_url, json=payload, timeout=self._timeout)
            except httpx.TransportError as exc:
                refused = refusal(exc)
                if refused is not None:
                    # Names the host and address, never the path (the secret part of the URL).
                    logger.warning("slack address refused", extra={"reason": str(refused)})
                    return SendResult("retry", attempts=attempt, detail=f"unsafe address: {refused}")
                # The exception text can contain the URL; its type is enough to act on.
                detail = f"transport error: {type(exc).__name__}"
                wait = backoff_delay(attempt, self._backoff_base)
            else:
                status = response.status_code
                body = _safe_text(response.text, webhook_url)
                if 200 <= status < 300:
                    return SendResult("sent", attempts=attempt, detail=body or "ok")
                if status == 429:
                    retry_after = _retry_after(response.headers.get("retry-after"))
                    detail = f"rate limited (429){': ' + body if body else ''}"
                    if retry_after is not None and retry_after > self._max_retry_after:
                        logger.warning("slack rate limited beyond cap", extra={"retry_after": retry_after})
                        return SendResult("retry", attempts=attempt, detail=detail, retry_after=retry_after)
                    wait = retry_after if retry_after is not None else backoff_delay(attempt, self._backoff_base)
                elif status >= 500 or status in _RETRYABLE_4XX:
                    detail = f"http {status}{': ' + body if body else ''}"
                    wait = backoff_delay(attempt, self._backoff_base)
                else:
                    detail = f"{body} (http {status})" if body else f"http {status}"
                    logger.warning("slack permanent failure", extra={"status": status, "reason": detail})
                    return SendResult("failed", attempts=attempt, detail=detail, permanent=True)
            if attempt < self._max_attempts:
                logger.info("slack send retry", extra={"attempt": attempt, "wait": round(wait, 3), "why": detail})
                self._sleep(wait)
        return SendResult("retry", attempts=self._max_attempts, detail=detail, retry_after=retry_after)


class _RedactWebhooks(logging.Filter):
    """Removes webhook URLs from httpx's own request log lines (it logs every URL at INFO)."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, path: str) -> None:
        if len(path) > 1:
            with self._lock:
                self._paths.add(path)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SLACK_URL.sub("https://hooks.slack.com/<redacted>", message)
        with self._lock:
            paths = [p for p in self._paths if p in redacted]
        for path in paths:
            redacted = redacted.replace(path, "/<redacted>")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTION = _RedactWebhooks()


def _install_redaction() -> None:
    httpx_logger = logging.getLogger("httpx")
    if _REDACTION not in httpx_logger.filters:
        httpx_logger.addFilter(_REDACTION)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _safe_text(text: str, webhook_url: str) -> str:
    """Slack's short error code, one line, bounded, and scrubbed of the URL should it ever echo it."""
    cleaned = plain_line(text)
    path = httpx.URL(webhook_url).path
    for secret in (webhook_url, path if len(path) > 1 else None):
        if secret:
            cleaned = cleaned.replace(secret, "<webhook>")
    return cleaned[:_DETAIL_LIMIT]
