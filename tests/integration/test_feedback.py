"""SES feedback through the feedback handler against moto: bounces and complaints stop mail, once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.aws import FakeLambdaContext, load_event, load_handler
from tests.support.subscriptions import subscribe_slack
from wirewatch import runtime
from wirewatch.models import Subscription

pytestmark = pytest.mark.integration


def email(sub_id: str, address: str, status: str = "active") -> Subscription:
    sub = Subscription(id=sub_id, channel="email", target=address, cadence="daily", status=status)
    runtime.repository().save_subscription(sub)
    return sub


def statuses() -> dict[str, tuple[str, str | None]]:
    return {s.id: (s.status, s.failure_reason) for s in runtime.repository().list_subscriptions()}


def handle(event: dict[str, Any]) -> dict[str, int]:
    return load_handler("feedback").handler(event, FakeLambdaContext())  # type: ignore[no-any-return]


def test_bounces_mark_failing_and_complaints_unsubscribe(delivery_env: dict[str, str]) -> None:
    email("sub-analyst", "ANALYST@example.org")
    email("sub-desk", "desk@example.org")
    email("sub-other", "other@example.org")
    hook = subscribe_slack("https://hooks.slack.com/services/T0/B0/desk")
    event = load_event("ses_feedback_sns.json")

    assert handle(event) == {"subscriptions_changed": 2}
    after = statuses()
    assert after["sub-analyst"] == ("failing", "email permanent bounce (General)")
    assert after["sub-desk"][0] == "unsubscribed"
    assert after["sub-other"] == ("active", None)
    assert after[hook.id] == ("active", None)
    stored = runtime.repository().get_subscription("sub-desk")
    assert stored is not None and stored.next_digest_at is None

    assert handle(event) == {"subscriptions_changed": 0}  # SNS delivers at least once: a replay is harmless
    assert statuses() == after


def test_a_bad_record_is_dropped_and_the_others_applied(delivery_env: dict[str, str]) -> None:
    email("sub-analyst", "analyst@example.org")
    event = load_event("ses_feedback_sns.json")
    broken = copy.deepcopy(event["Records"][0])
    broken["Sns"]["Message"] = "{not json"
    event["Records"].insert(0, broken)
    assert handle(event) == {"subscriptions_changed": 1}
    assert statuses()["sub-analyst"][0] == "failing"


def test_a_complaint_from_a_failing_address_still_unsubscribes(delivery_env: dict[str, str]) -> None:
    email("sub-desk", "desk@example.org", status="failing")
    event = load_event("ses_feedback_sns.json")
    event["Records"] = event["Records"][1:]
    assert handle(event) == {"subscriptions_changed": 1}
    assert statuses()["sub-desk"][0] == "unsubscribed"
