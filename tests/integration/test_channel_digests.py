"""Digests on the threading channels go through the Postman and the ledger: once per window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopback.slack_web_api import SlackWebApi
from loopback.webhook_receiver import WebhookReceiver
from tests.support.living_story import polls
from tests.support.openapi import check_webhook_delivery
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.delivery.slack_app import SlackAppSender, SlackAppTarget, SlackAppThread
from wirewatch.delivery.webhooks import WebhookPoster, WebhookTarget, WebhookThread, new_signing_secret
from wirewatch.models import Subscription
from wirewatch.usecases.delivery import Postman
from wirewatch.usecases.messages import Composer

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    db = SqliteStore(tmp_path / "w.db", clock=lambda: NOW.timestamp())
    yield db
    db.close()


def test_a_digest_reaches_a_webhook_and_a_slack_app_channel_once(store: SqliteStore) -> None:
    secret = new_signing_secret()
    with WebhookReceiver() as receiver, SlackWebApi() as slack:
        receiver.register("/d", secret)
        slack.add_token("xoxb-digest-token-1")
        slack.add_channel("C0DIGEST001")
        hook = WebhookThread(
            WebhookPoster(httpx.Client(trust_env=False), allow_loopback=True, sleep=lambda s: None),
            lambda sub: WebhookTarget(receiver.url("/d"), secret),
        )
        clock = [0.0]
        app = SlackAppThread(
            SlackAppSender(
                base_url=slack.base_url, sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0]
            ),
            lambda sub: SlackAppTarget("C0DIGEST001", "xoxb-digest-token-1"),
        )
        unused: Any = None  # this test sends neither email nor incoming-webhook messages
        postman = Postman(
            store,
            email=lambda: unused,
            slack=lambda: unused,
            webhook_url=lambda sub: "",
            channels={"webhook": lambda: hook, "slack-app": lambda: app},
        )
        composer = Composer(token_key=b"k" * 32, public_url="https://wirewatch.example")
        window = (NOW - timedelta(days=1), NOW)
        for channel in ("webhook", "slack-app"):
            sub = Subscription(id=f"sub-{channel}", channel=channel, target="secret", status="active")
            store.save_subscription(sub)
            message = composer.digest(sub, polls()[3:], window, NOW)
            assert postman.deliver(sub, f"DIGEST#{NOW.isoformat()}", message, NOW).status == "sent"
            assert postman.deliver(sub, f"DIGEST#{NOW.isoformat()}", message, NOW).status == "skipped"
        events = receiver.events("/d")
        for request in receiver.requests_for("/d"):
            check_webhook_delivery(request.headers, request.json())
        posted = slack.parents("C0DIGEST001")

    assert [e["type"] for e in events] == ["digest.ready"]
    assert events[0]["data"]["stories"][0]["id"] == "story-launch"
    assert len(posted) == 1 and "digest" in posted[0].text
