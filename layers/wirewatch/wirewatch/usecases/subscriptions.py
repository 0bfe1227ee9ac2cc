"""Subscribing (double opt-in for email), confirming and unsubscribing."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wirewatch.delivery.slack import InvalidWebhookUrl, validate_webhook_url
from wirewatch.delivery.slack_app import InvalidSlackAppTarget, SlackAppTarget, validate_slack_app_target
from wirewatch.delivery.webhooks import InvalidWebhookTarget, WebhookTarget, check_webhook_url
from wirewatch.digest.selection import next_digest_due
from wirewatch.errors import NotFound, SecretError, ValidationError
from wirewatch.models import CADENCES, PREFERENCE_FIELDS, SEVERITIES, TOPICS, Preferences, Subscription
from wirewatch.policy import parse_clock
from wirewatch.tokens import InvalidToken, verify_token

if TYPE_CHECKING:  # rendering (jinja2) is not loaded by the callers that never subscribe anyone
    from wirewatch.usecases.delivery import Postman
    from wirewatch.usecases.messages import Composer

# A link to a subscription that was deleted is as good as a forged one.
_GONE = "the subscription no longer exists"
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


class SubscriptionStorePort(Protocol):
    def save_subscription(self, sub: Subscription) -> None: ...
    def get_subscription(self, sub_id: str) -> Subscription | None: ...
    def update_subscription(
        self, sub_id: str, change: Callable[[Subscription], Subscription]
    ) -> tuple[Subscription, Subscription] | None: ...


class SecretPort(Protocol):
    def put(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class SubscribeStore(SubscriptionStorePort, Protocol):
    def list_subscriptions(self) -> list[Subscription]: ...


class SubscribeSecrets(SecretPort, Protocol):
    def get(self, name: str) -> str: ...


@dataclass(frozen=True, kw_only=True)
class SubscriptionRequest(Preferences):
    """A new subscription: where to (target: an email address, or a Slack webhook URL) and its preferences."""

    channel: str
    target: str  # a Slack webhook URL is stored as a secret, never in the table
    # slack-app: the bot token (target is the channel id); webhook: its whsec_ signing secret (target is the URL).
    secret: str | None = None


CHANNELS = ("email", "slack", "slack-app", "webhook")
# Channels whose target (and secret) is kept in the secret store; the table holds only the secret's name.
SECRET_CHANNELS = ("slack", "slack-app", "webhook")


def validate(request: SubscriptionRequest, *, allow_loopback_webhooks: bool, check_target: bool = True) -> None:
    """Raise ValidationError naming the first bad field (check_target=False: only the preferences)."""
    if request.channel not in CHANNELS:
        raise ValidationError("channel", f"must be one of {', '.join(CHANNELS)}")
    if check_target and request.channel == "email" and not _EMAIL.match(request.target):
        raise ValidationError("target", "not an email address")
    if check_target and request.channel == "slack":
        try:
            validate_webhook_url(request.target, allow_loopback=allow_loopback_webhooks)
        except InvalidWebhookUrl as exc:
            raise ValidationError("target", str(exc)) from exc
    if check_target and request.channel == "slack-app":
        try:
            validate_slack_app_target(request.target, request.secret or "")
        except InvalidSlackAppTarget as exc:
            raise ValidationError("token" if "token" in str(exc) else "target", str(exc)) from exc
    if check_target and request.channel == "webhook":
        try:
            check_webhook_url(request.target, allow_loopback=allow_loopback_webhooks)
        except InvalidWebhookTarget as exc:
            raise ValidationError("target", str(exc)) from exc
        if not (request.secret or "").startswith("whsec_"):
            raise ValidationError("secret", "a webhook needs a whsec_ signing secret")
    unknown = [t for t in request.topics if t not in TOPICS]
    if unknown or not request.topics:
        raise ValidationError("topics", f"choose from {', '.join(TOPICS)}")
    if request.min_severity not in SEVERITIES[1:]:
        raise ValidationError("min_severity", f"choose from {', '.join(SEVERITIES[1:])}")
    if request.cadence not in CADENCES:
        raise ValidationError("cadence", f"choose from {', '.join(CADENCES)}")
    for name, value in (("daily_at", request.daily_at), *(("quiet_hours", v) for v in request.quiet_hours or ())):
        try:
            parse_clock(value)
        except ValueError as exc:
            raise ValidationError(name, str(exc)) from exc
    try:
        ZoneInfo(request.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("timezone", f"unknown time zone {request.timezone!r}") from exc


def subscribe(
    request: SubscriptionRequest,
    *,
    store: SubscribeStore,
    secret_store: SubscribeSecrets,
    postman: Postman,
    composer: Composer,
    slack_secret_prefix: str,
    allow_loopback_webhooks: bool,
    now: datetime,
) -> Subscription:
    """Create a subscription: Slack ones start active, email ones pending until confirmed.

    Subscribing a target that already has a live subscription on the same channel returns that one.
    """
    validate(request, allow_loopback_webhooks=allow_loopback_webhooks)
    existing = _existing(request, store, secret_store)
    if existing is not None:
        return existing
    sub_id = "sub-" + secrets.token_hex(8)
    target = request.target
    if request.channel in SECRET_CHANNELS:
        target = f"{slack_secret_prefix}{sub_id}"
        secret_store.put(target, _secret_value(request))
    sub = Subscription(
        id=sub_id,
        channel=request.channel,
        target=target,
        **{name: getattr(request, name) for name in PREFERENCE_FIELDS}
        | {"topics": tuple(dict.fromkeys(request.topics))},
        status="pending",
        created_at=now,
    )
    if request.channel in SECRET_CHANNELS:
        # Whoever holds a webhook URL or a bot token may post to its channel: that is the consent.
        sub = activate(sub, now)
        store.save_subscription(sub)
        return sub
    store.save_subscription(sub)
    postman.deliver(sub, "CONFIRM", composer.confirmation(sub, now), now)
    return sub


def _existing(request: SubscriptionRequest, store: SubscribeStore, secrets: SubscribeSecrets) -> Subscription | None:
    """A live (not unsubscribed) subscription of the same channel and target, if there is one."""
    for sub in store.list_subscriptions():
        if sub.channel != request.channel or sub.status == "unsubscribed":
            continue
        if request.channel == "email" and sub.target.lower() == request.target.lower():
            return sub
        if request.channel == "slack":
            try:
                if secrets.get(sub.target) == request.target:
                    return sub
            except SecretError:
                continue  # a subscription whose secret is gone is no duplicate
    return None


def _secret_value(request: SubscriptionRequest) -> str:
    """What the secret store keeps for a channel: the webhook URL, or the target with its token or signing secret."""
    if request.channel == "slack-app":
        return SlackAppTarget(request.target, request.secret or "").to_secret()
    if request.channel == "webhook":
        return WebhookTarget(request.target, request.secret or "").to_secret()
    return request.target


def activate(sub: Subscription, now: datetime) -> Subscription:
    """The subscription made active, its first digest window starting now."""
    return replace(
        sub, status="active", failure_reason=None, last_digest_at=now, next_digest_at=next_digest_due(sub, now)
    )


def confirm(token: str, *, token_key: bytes, store: SubscriptionStorePort, now: datetime) -> Subscription:
    """Follow a confirmation link: a pending subscription becomes active (again: no change)."""
    sub_id = verify_token(token_key, token, "confirm", now)  # raises InvalidToken
    changed = store.update_subscription(sub_id, lambda s: activate(s, now) if s.status == "pending" else s)
    if changed is None:
        raise InvalidToken(_GONE)
    return changed[1]


def update_preferences(
    sub_id: str, changes: Mapping[str, Any], *, store: SubscriptionStorePort, now: datetime
) -> Subscription:
    """Change a subscription's preferences; a new schedule of an active one moves its next digest.

    Written conditionally on the status and digest window, redone over the fresh record on a lost
    race, so a digest sent meanwhile is not undone.
    """
    unknown = sorted(set(changes) - set(PREFERENCE_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "is not a subscription preference")

    def apply(sub: Subscription) -> Subscription:
        merged = {name: changes.get(name, getattr(sub, name)) for name in PREFERENCE_FIELDS}
        # The channel and target do not change (a Slack target is a secret name by now): check the preferences.
        validate(
            SubscriptionRequest(channel=sub.channel, target=sub.target, **merged),
            allow_loopback_webhooks=False,
            check_target=False,
        )
        updated = replace(sub, **merged)
        schedule = (updated.cadence, updated.daily_at, updated.timezone)
        if updated.status == "active" and schedule != (sub.cadence, sub.daily_at, sub.timezone):
            updated = replace(updated, next_digest_at=next_digest_due(updated, now))
        return updated

    changed = store.update_subscription(sub_id, apply)
    if changed is None:
        raise NotFound(sub_id)
    return changed[1]


def unsubscribe_by_token(
    token: str, *, token_key: bytes, store: SubscriptionStorePort, secret_store: SecretPort, now: datetime
) -> Subscription:
    """One-click unsubscribe; replaying the link changes nothing more."""
    sub_id = verify_token(token_key, token, "unsubscribe", now)  # raises InvalidToken
    try:
        return unsubscribe(sub_id, store=store, secret_store=secret_store)
    except NotFound:
        raise InvalidToken(_GONE) from None


def unsubscribe(sub_id: str, *, store: SubscriptionStorePort, secret_store: SecretPort) -> Subscription:
    """Stop all messages to a subscription; its record stays for the ledger's sake, a webhook secret goes."""
    changed = store.update_subscription(sub_id, lambda s: replace(s, status="unsubscribed", next_digest_at=None))
    if changed is None:
        raise NotFound(sub_id)
    before, sub = changed
    if before.status != "unsubscribed" and sub.channel in SECRET_CHANNELS:
        secret_store.delete(sub.target)
    return sub
