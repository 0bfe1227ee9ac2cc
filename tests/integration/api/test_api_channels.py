"""POST /subscriptions for the slack-app and webhook channels; the events match the OpenAPI webhook schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from tests.support.api import Api
from tests.support.living_story import polls
from tests.support.openapi import check_webhook_delivery, webhook_events
from wirewatch.delivery.webhooks import EVENT_TYPES, digest_event, event, story_data

pytestmark = pytest.mark.integration


def test_a_slack_app_subscription_is_active_and_its_token_is_never_shown(api: Api) -> None:
    token = "xoxb-api-test-token-9"
    reply = api.post("/subscriptions", json_body={"channel": "slack-app", "target": "C0APITEST01", "token": token})
    assert reply.status == 201, reply.json()
    assert reply.json()["status"] == "active" and reply.json()["channel"] == "slack-app"
    assert token not in json.dumps(api.get("/subscriptions").json())


def test_a_slack_app_subscription_without_a_bot_token_is_refused(api: Api) -> None:
    reply = api.post("/subscriptions", json_body={"channel": "slack-app", "target": "C0APITEST01"})
    assert reply.status == 400 and reply.json()["error"]["field"] == "token"


def test_a_webhook_subscription_shows_its_signing_secret_once(api: Api) -> None:
    reply = api.post("/subscriptions", json_body={"channel": "webhook", "target": "http://127.0.0.1:9/hook"})
    assert reply.status == 201, reply.json()
    secret = reply.json()["signing_secret"]
    assert secret.startswith("whsec_")
    assert secret not in json.dumps(api.get("/subscriptions").json())
    assert secret not in json.dumps(api.get(f"/subscriptions/{reply.json()['id']}").json())


def test_a_webhook_to_a_private_address_is_refused_at_subscribe_time(api: Api) -> None:
    reply = api.post("/subscriptions", json_body={"channel": "webhook", "target": "https://169.254.169.254/x"})
    assert reply.status == 400 and reply.json()["error"]["field"] == "target"


def test_every_webhook_event_matches_its_versioned_schema() -> None:
    now = datetime(2026, 11, 3, tzinfo=UTC)
    story = polls()[3]
    samples = [
        event("story.alert", {"story": story_data(story)}, now),
        event(
            "story.follow_up",
            {
                "story": story_data(story),
                "changes": [{"kind": "source", "text": "x", "data": {}}],
                "escalated": True,
                "alert_id": "msg_1",
            },
            now,
        ),
        digest_event([story], now, now, now),
    ]
    assert set(webhook_events()) == set(EVENT_TYPES)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "v1,x"}
    for sample in samples:
        check_webhook_delivery(headers, json.loads(json.dumps(sample)))


def test_an_event_that_breaks_its_schema_is_caught() -> None:
    # the check itself must be able to fail: a follow-up without its alert_id, an unknown version,
    # a timestamp that is not a date-time, a missing signature header
    now = datetime(2026, 11, 3, tzinfo=UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "v1,x"}
    story = story_data(polls()[0])
    for broken in (
        event("story.follow_up", {"story": story, "changes": [], "escalated": False}, now),
        {**event("story.alert", {"story": story}, now), "version": 2},
        {**event("story.alert", {"story": story}, now), "timestamp": "yesterday"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            check_webhook_delivery(headers, json.loads(json.dumps(broken)))
    unsigned = {"webhook-id": "1", "webhook-timestamp": "0"}
    with pytest.raises(AssertionError, match="webhook-signature"):
        check_webhook_delivery(unsigned, json.loads(json.dumps(event("story.alert", {"story": story}, now))))
