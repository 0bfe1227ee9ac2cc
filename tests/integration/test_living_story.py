"""The living story end to end: a flash becomes a parent, later polls become one threaded reply each.

Runs on both stores (the ledger keeps the thread), against the loopback Slack Web API and the
loopback Standard Webhooks receiver (which verifies signatures with the standardwebhooks package).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopback.slack_web_api import SlackWebApi
from loopback.webhook_receiver import Answer, WebhookReceiver
from tests.support.living_story import grow, polls, source
from tests.support.openapi import check_webhook_delivery
from wirewatch.adapters.aws.dynamodb import Repository
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.delivery.slack_app import SlackAppSender, SlackAppTarget, SlackAppThread
from wirewatch.delivery.webhooks import WebhookPoster, WebhookTarget, WebhookThread, new_signing_secret
from wirewatch.models import Story, Subscription
from wirewatch.usecases.threads import StoryThreads, follow_stories

pytestmark = pytest.mark.integration

TOKEN = "xoxb-test-token-1234"
CHANNEL = "C0DESK00001"
T0 = datetime(2026, 11, 3, 0, 6, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "dynamodb":
        client = request.getfixturevalue("dynamodb")
        yield Repository(client, os.environ["WIREWATCH_TABLE"])
        return
    sqlite = SqliteStore(tmp_path / "wirewatch.db", clock=lambda: T0.timestamp())
    yield sqlite
    sqlite.close()


@pytest.fixture()
def slack() -> Iterator[SlackWebApi]:
    with SlackWebApi() as api:
        api.add_token(TOKEN)
        api.add_channel(CHANNEL)
        yield api


def _subscribe(store: Any, channel: str, sub_id: str) -> Subscription:
    sub = Subscription(
        id=sub_id,
        channel=channel,
        target=f"/wirewatch/{channel}/{sub_id}",
        cadence="immediate",
        min_severity="high",
        status="active",
        created_at=T0,
    )
    store.save_subscription(sub)
    return sub


def _slack_threads(store: Any, slack: SlackWebApi, sleeps: list[float]) -> StoryThreads:
    clock = [0.0]

    def sleep(seconds: float) -> None:  # virtual time: pacing and Retry-After are recorded, not waited
        sleeps.append(seconds)
        clock[0] += seconds

    sender = SlackAppSender(base_url=slack.base_url, sleep=sleep, clock=lambda: clock[0])
    channel = SlackAppThread(sender, lambda sub: SlackAppTarget(CHANNEL, TOKEN))
    return StoryThreads(store, {"slack-app": lambda: channel})


def _run(story: Story, store: Any, threads: StoryThreads, sub_id: str, minute: int) -> Any:
    sub = store.get_subscription(sub_id)
    now = T0 + timedelta(minutes=minute)
    return follow_stories([story], [sub], threads=threads, should_alert=lambda s, st: st.severity == "urgent", now=now)


def test_a_story_threads_its_follow_ups_under_one_parent_and_broadcasts_the_escalation(
    store: Any, slack: SlackWebApi
) -> None:
    # Given a desk channel subscribed through the Slack app
    sub = _subscribe(store, "slack-app", "sub-desk")
    threads = _slack_threads(store, slack, [])
    fourth = polls()[3]

    # When the flash arrives, then three follow-up polls each add a source or a fact
    reports = [_run(story, store, threads, sub.id, minute) for minute, story in enumerate(polls(), start=1)]

    # Then the flash is the one parent, and each later poll is one reply in its thread
    assert [r.parents for r in reports] == [1, 0, 0, 0]
    assert [r.replies for r in reports] == [0, 1, 1, 1]
    [parent] = slack.parents(CHANNEL)
    replies = slack.replies(CHANNEL, parent.ts)
    assert len(replies) == 3
    assert "Reuters" in replies[0].blocks[0]["text"]["text"]
    assert "inside Japan" in replies[1].blocks[0]["text"]["text"]
    # the escalation to urgent (class revised, over Japan, a third source) is one reply, broadcast
    last = replies[2].blocks[0]["text"]["text"]
    assert "NHK" in last and "ICBM" in last and "over Japan" in last and "urgent" in last
    assert [r.reply_broadcast for r in replies] == [False, False, True]
    # and the parent was kept current: its source count and latest facts
    assert len(parent.edits) == 3
    assert "3 sources" in parent.blocks[-1]["elements"][0]["text"]
    assert "ICBM" in parent.blocks[-1]["elements"][0]["text"]
    # the parent's ts is the ledger's provider id
    ledger = {d["key"]: d for d in store.deliveries(sub.id)}
    assert ledger["THREAD#story-launch#parent"]["provider_id"] == parent.ts

    # When the same poll runs again (a duplicate or a retry)
    calls = slack.count()
    again = _run(fourth, store, threads, sub.id, 9)

    # Then nothing is posted or edited
    assert (again.parents, again.replies) == (0, 0)
    assert slack.count() == calls


def test_a_sanctions_response_joining_the_story_is_a_reply(store: Any, slack: SlackWebApi) -> None:
    sub = _subscribe(store, "slack-app", "sub-un")
    threads = _slack_threads(store, slack, [])
    first = polls()[3]
    _run(first, store, threads, sub.id, 1)
    joined = grow(
        first,
        minutes=60,
        topics=("missile", "sanctions"),
        body="UN Security Council",
        action="meeting",
        add=source(4, "UN News", "Security Council to meet on DPRK launch", minutes=59),
    )
    report = _run(joined, store, threads, sub.id, 2)
    assert report.replies == 1
    [parent] = slack.parents(CHANNEL)
    [reply] = slack.replies(CHANNEL, parent.ts)
    assert "UN Security Council" in reply.blocks[0]["text"]["text"]
    assert not reply.reply_broadcast  # already urgent: not an escalation


def test_a_token_revoked_mid_story_marks_the_subscription_failing_with_the_reason(
    store: Any, slack: SlackWebApi
) -> None:
    sub = _subscribe(store, "slack-app", "sub-revoked")
    threads = _slack_threads(store, slack, [])
    first, second, third, _ = polls()
    _run(first, store, threads, sub.id, 1)

    slack.revoke_token(TOKEN)
    report = _run(second, store, threads, sub.id, 2)

    assert report.failed == 1
    failing = store.get_subscription(sub.id)
    assert failing.status == "failing"
    assert "token_revoked" in (failing.failure_reason or "")
    # a failing subscription is not posted to again
    assert _run(third, store, threads, sub.id, 3).failed == 0
    assert len(slack.parents(CHANNEL)) == 1 and slack.replies(CHANNEL, slack.parents(CHANNEL)[0].ts) == []


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive"]
)
def test_each_permanent_slack_error_marks_the_subscription_failing(store: Any, slack: SlackWebApi, error: str) -> None:
    from loopback.slack_web_api import ApiAnswer

    sub = _subscribe(store, "slack-app", f"sub-{error.replace('_', '-')}")
    slack.queue("chat.postMessage", ApiAnswer.fail(error))
    report = _run(polls()[0], store, _slack_threads(store, slack, []), sub.id, 1)
    assert report.failed == 1
    assert error in (store.get_subscription(sub.id).failure_reason or "")


def test_a_rate_limited_reply_waits_for_retry_after_and_is_posted_once(store: Any, slack: SlackWebApi) -> None:
    from loopback.slack_web_api import ApiAnswer

    sub = _subscribe(store, "slack-app", "sub-429")
    sleeps: list[float] = []
    threads = _slack_threads(store, slack, sleeps)
    first, second, *_ = polls()
    _run(first, store, threads, sub.id, 1)
    slack.queue("chat.postMessage", ApiAnswer.rate_limited(2))
    assert _run(second, store, threads, sub.id, 2).replies == 1
    assert 2.0 in sleeps
    assert len(slack.replies(CHANNEL, slack.parents(CHANNEL)[0].ts)) == 1


# The same flow on the webhook channel


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _webhook_threads(store: Any, receiver: WebhookReceiver, secret: str, timeout: float = 5.0) -> StoryThreads:
    client = httpx.Client(trust_env=False, follow_redirects=False)
    poster = WebhookPoster(client, allow_loopback=True, sleep=lambda s: None, timeout=timeout, max_attempts=3)
    channel = WebhookThread(poster, lambda sub: WebhookTarget(receiver.url("/desk"), secret))
    return StoryThreads(store, {"webhook": lambda: channel})


def test_the_webhook_channel_gets_a_signed_alert_and_one_follow_up_per_poll(
    store: Any, receiver: WebhookReceiver
) -> None:
    secret = new_signing_secret()
    receiver.register("/desk", secret)
    sub = _subscribe(store, "webhook", "sub-tool")
    threads = _webhook_threads(store, receiver, secret)

    for minute, story in enumerate(polls(), start=1):
        _run(story, store, threads, sub.id, minute)
    _run(polls()[3], store, threads, sub.id, 9)  # the duplicate poll

    events = receiver.events("/desk")
    assert [e["type"] for e in events] == ["story.alert", "story.follow_up", "story.follow_up", "story.follow_up"]
    assert all(r.verified for r in receiver.requests_for("/desk"))
    for request in receiver.requests_for("/desk"):  # each as the OpenAPI `webhooks` section documents it
        check_webhook_delivery(request.headers, request.json())
    assert [e["data"]["escalated"] for e in events[1:]] == [False, False, True]
    alert_id = receiver.requests_for("/desk")[0].headers["webhook-id"]
    assert {e["data"]["alert_id"] for e in events[1:]} == {alert_id}
    assert events[-1]["data"]["story"]["severity"] == "urgent"
    assert {e["version"] for e in events} == {1}


def test_a_webhook_receiver_that_fails_then_recovers_gets_the_event_once_with_one_id(
    store: Any, receiver: WebhookReceiver
) -> None:
    secret = new_signing_secret()
    receiver.register("/desk", secret)
    receiver.queue("/desk", Answer(503), Answer(502))
    sub = _subscribe(store, "webhook", "sub-flaky")
    _run(polls()[0], store, _webhook_threads(store, receiver, secret), sub.id, 1)
    requests = receiver.requests_for("/desk")
    assert [r.status for r in requests] == [503, 502, 204]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert len(receiver.events("/desk")) == 1


def test_a_hanging_webhook_receiver_is_retried_later_not_waited_on_forever(
    store: Any, receiver: WebhookReceiver
) -> None:
    secret = new_signing_secret()
    receiver.register("/desk", secret)
    receiver.queue("/desk", Answer.hang(3), Answer.hang(3), Answer.hang(3))
    sub = _subscribe(store, "webhook", "sub-hang")
    threads = _webhook_threads(store, receiver, secret, timeout=0.3)

    report = _run(polls()[0], store, threads, sub.id, 1)

    assert report.pending == (f"{sub.id}/story-launch",)
    assert store.get_subscription(sub.id).status == "active"
    # the next run delivers it
    assert _run(polls()[0], store, threads, sub.id, 10).parents == 1


def test_a_permanent_4xx_marks_the_webhook_subscription_failing(store: Any, receiver: WebhookReceiver) -> None:
    secret = new_signing_secret()
    receiver.register("/desk", secret)
    receiver.queue("/desk", Answer(410))
    sub = _subscribe(store, "webhook", "sub-gone")
    assert _run(polls()[0], store, _webhook_threads(store, receiver, secret), sub.id, 1).failed == 1
    assert "http 410" in (store.get_subscription(sub.id).failure_reason or "")


def test_replace_keeps_the_story_frozen() -> None:
    story = polls()[0]
    assert replace(story) == story
