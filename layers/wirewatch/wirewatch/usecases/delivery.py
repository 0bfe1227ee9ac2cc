"""Exactly-once sending: claim in the ledger, send through the channel's sender, record the outcome."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from wirewatch.delivery.result import SendResult
from wirewatch.errors import SecretNotFound
from wirewatch.models import Subscription

# Longer than any send with its retries takes; a claim older than this belongs to a run that died.
CLAIM_LEASE = timedelta(minutes=5)


class Ledger(Protocol):
    def claim_delivery(self, sub_id: str, key: str, channel: str, now: datetime, lease: timedelta) -> bool: ...
    def record_delivery(
        self, sub_id: str, key: str, *, status: str, attempts: int, detail: str, provider_id: str | None, now: datetime
    ) -> None: ...
    def set_status(self, sub_id: str, status: str, reason: str | None = None) -> Subscription | None: ...


class EmailSender(Protocol):
    def send_email(
        self, to: str, subject: str, html: str, text: str, *, unsubscribe_url: str | None, idempotency_key: str
    ) -> SendResult: ...


class WebhookSender(Protocol):
    def send(self, webhook_url: str, payload: dict[str, Any]) -> SendResult: ...


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    html: str
    text: str
    unsubscribe_url: str | None


@dataclass(frozen=True)
class SlackMessages:
    payloads: Sequence[dict[str, Any]]


@dataclass(frozen=True)
class ChannelMessages:
    """Payloads for a channel with its own sender (slack-app, webhook), sent in order."""

    payloads: Sequence[dict[str, Any]]


class ChannelSender(Protocol):
    def send(self, sub: Subscription, payload: dict[str, Any]) -> SendResult: ...


Message = EmailMessage | SlackMessages | ChannelMessages


def send_once(
    ledger: Ledger,
    sub: Subscription,
    key: str,
    send: Callable[[], SendResult],
    now: datetime,
    *,
    on_failure: Callable[[Subscription, str], None],
    sent_detail: str | None = None,
) -> SendResult | None:
    """The exactly-once step: claim `key`, send, record how it ended, mark a permanent failure.

    None when the message was sent already or another run holds its claim. `sent_detail` replaces
    the result's detail in the ledger when the send succeeded (the thread keeps its state there).
    """
    if not ledger.claim_delivery(sub.id, key, sub.channel, now, CLAIM_LEASE):
        return None
    result = send()
    ledger.record_delivery(
        sub.id,
        key,
        status=result.status,
        attempts=result.attempts,
        detail=sent_detail if result.ok and sent_detail is not None else result.detail,
        provider_id=result.provider_id,
        now=now,
    )
    if result.status == "failed":
        mark_failed(ledger, sub, result, on_failure)
    return result


def _parts(
    key: str, payloads: Sequence[dict[str, Any]], send: Callable[[dict[str, Any]], Callable[[], SendResult]]
) -> list[tuple[str, Callable[[], SendResult]]]:
    """One ledger key per payload: the message's own key when it has one part, else key#partN."""
    if len(payloads) == 1:
        return [(key, send(payloads[0]))]
    return [(f"{key}#part{n}", send(payload)) for n, payload in enumerate(payloads, start=1)]


def mark_failed(
    ledger: Ledger, sub: Subscription, result: SendResult, on_failure: Callable[[Subscription, str], None]
) -> None:
    """A permanent failure marks the subscription failing, unless it is about our own sending setup."""
    reason = f"{sub.channel} delivery failed permanently: {result.detail}"
    # Errors about our own sending setup are the operator's to fix, not the subscriber's.
    if not result.sender_side:
        ledger.set_status(sub.id, "failing", reason)
    on_failure(sub, reason)


@dataclass(frozen=True)
class Delivery:
    """What happened to one logical message (all its parts)."""

    status: str  # sent | skipped (already sent or in flight) | retry | failed
    detail: str = ""
    parts_sent: int = 0


class Postman:
    """Sends messages to subscriptions at most once per ledger key, and marks permanent failures."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        email: Callable[[], EmailSender],
        slack: Callable[[], WebhookSender],
        webhook_url: Callable[[Subscription], str],
        on_failure: Callable[[Subscription, str], None] = lambda sub, reason: None,
        channels: Mapping[str, Callable[[], ChannelSender]] | None = None,
    ) -> None:
        # Senders are built on first use: a run that only sends Slack never touches SES.
        self._ledger = ledger
        self._email = email
        self._slack = slack
        self._webhook_url = webhook_url
        self._on_failure = on_failure
        self._channels = channels or {}

    def deliver(self, sub: Subscription, key: str, message: Message, now: datetime) -> Delivery:
        """Send `message` to `sub` once for `key` (Slack digests: once per part)."""
        if isinstance(message, EmailMessage):
            parts: list[tuple[str, Callable[[], SendResult]]] = [(key, lambda: self._send_email(sub, key, message))]
        elif isinstance(message, ChannelMessages):
            sender = self._channels[sub.channel]()

            parts = _parts(key, message.payloads, lambda payload: lambda: sender.send(sub, payload))
        else:
            try:
                url = self._webhook_url(sub)
            except SecretNotFound:
                result = SendResult("failed", attempts=0, detail="webhook secret missing", permanent=True)
                self._fail(sub, result)
                return Delivery("failed", result.detail)
            slack = self._slack()

            parts = _parts(key, message.payloads, lambda payload: lambda: slack.send(url, payload))
        sent = 0
        for part_key, send in parts:
            outcome = send_once(
                self._ledger, sub, part_key, functools.partial(self._attempt, send), now, on_failure=self._on_failure
            )
            if outcome is None:
                continue
            if outcome.status == "failed":
                return Delivery("failed", outcome.detail, sent)
            if outcome.status == "retry":
                if outcome.sender_side:
                    self._on_failure(sub, f"{sub.channel} delivery held: {outcome.detail}")
                return Delivery("retry", outcome.detail, sent)
            sent += 1
        return Delivery("sent" if sent else "skipped", parts_sent=sent)

    @staticmethod
    def _attempt(send: Callable[[], SendResult]) -> SendResult:
        try:
            return send()
        except ValueError as exc:
            # A message its sender will not build (an http link base for real mail, a header it cannot
            # carry) is our setup's fault, not the subscriber's: it stays pending and is retried.
            return SendResult("retry", attempts=0, detail=f"message refused by the sender: {exc}", sender_side=True)

    def _send_email(self, sub: Subscription, key: str, message: EmailMessage) -> SendResult:
        return self._email().send_email(
            sub.target,
            message.subject,
            message.html,
            message.text,
            unsubscribe_url=message.unsubscribe_url,
            idempotency_key=f"{sub.id}:{key}",
        )

    def _fail(self, sub: Subscription, result: SendResult) -> None:
        mark_failed(self._ledger, sub, result, self._on_failure)
