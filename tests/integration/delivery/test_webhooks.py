"""The webhook poster: signatures a Standard Webhooks receiver verifies, SSRF checks, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

from loopback.webhook_receiver import Answer, WebhookReceiver
from tests.support.living_story import flash
from wirewatch.delivery.webhooks import (
    InvalidWebhookTarget,
    WebhookPoster,
    WebhookTarget,
    check_webhook_url,
    digest_event,
    event,
    new_signing_secret,
    story_data,
)

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _poster(*, allow_loopback: bool = True, **kwargs: object) -> WebhookPoster:
    client = httpx.Client(trust_env=False, follow_redirects=False)
    return WebhookPoster(client, allow_loopback=allow_loopback, sleep=lambda s: None, **kwargs)  # type: ignore[arg-type]


def test_an_event_is_signed_so_the_standardwebhooks_package_verifies_it(receiver: WebhookReceiver) -> None:
    secret = new_signing_secret()
    receiver.register("/in", secret)
    payload = event("story.alert", {"story": story_data(flash())}, NOW)
    result = _poster().send(WebhookTarget(receiver.url("/in"), secret), "msg_1", payload)
    assert result.ok and result.provider_id == "msg_1"
    [request] = receiver.requests_for("/in")
    assert request.verified
    assert Webhook(secret).verify(request.body, request.headers) == payload


def test_a_wrong_secret_is_rejected_by_the_receiver_and_is_permanent(receiver: WebhookReceiver) -> None:
    receiver.register("/in", new_signing_secret())
    result = _poster().send(WebhookTarget(receiver.url("/in"), new_signing_secret()), "msg_2", {"type": "x"})
    assert (result.status, result.detail) == ("failed", "http 401")


def test_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(InvalidWebhookTarget):
        check_webhook_url("http://127.0.0.1:9/in", allow_loopback=False)
    with pytest.raises(InvalidWebhookTarget):
        check_webhook_url("https://metadata.google.internal/x", allow_loopback=False)
    check_webhook_url("http://127.0.0.1:9/in", allow_loopback=True)


def test_the_url_is_checked_again_at_send_time_so_a_rebound_name_is_refused(receiver: WebhookReceiver) -> None:
    secret = new_signing_secret()
    receiver.register("/in", secret)
    # a public name at subscribe time that now resolves to a private address
    poster = _poster(allow_loopback=False, resolve=lambda host, port: ["10.0.0.7"])
    result = poster.send(WebhookTarget("https://hooks.partner.example/in", secret), "msg_3", {"type": "x"})
    assert result.status == "failed" and "refused" in result.detail
    assert receiver.requests_for("/in") == []


def test_a_hanging_receiver_times_out_and_is_retried_with_the_same_id(receiver: WebhookReceiver) -> None:
    secret = new_signing_secret()
    receiver.register("/in", secret)
    receiver.queue("/in", Answer.hang(2))
    result = _poster(timeout=0.3).send(WebhookTarget(receiver.url("/in"), secret), "msg_4", {"type": "x"})
    assert result.ok and result.attempts == 2


def test_the_digest_event_lists_its_window_and_stories() -> None:
    payload = digest_event([flash()], NOW, NOW, NOW)
    assert payload["type"] == "digest.ready" and payload["version"] == 1
    assert payload["data"]["stories"][0]["id"] == "story-launch"
