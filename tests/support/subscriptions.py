"""Subscribing through the real use case with the process's adapters (tests that run against moto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wirewatch import runtime
from wirewatch.models import Subscription
from wirewatch.usecases.subscriptions import SubscriptionRequest, subscribe


def subscribe_slack(target: str, *, now: datetime | None = None, **preferences: Any) -> Subscription:
    """An active Slack subscription to target (loopback catcher URLs allowed)."""
    config = runtime.settings()
    return subscribe(
        SubscriptionRequest(channel="slack", target=target, **preferences),
        store=runtime.repository(),
        secret_store=runtime.secret_store(),
        postman=runtime.postman(),
        composer=runtime.composer(),
        slack_secret_prefix=config.slack_secret_prefix,
        allow_loopback_webhooks=True,
        now=now or datetime.now(UTC),
    )
