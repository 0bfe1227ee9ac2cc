"""Stories → alerts and digests → Slack catcher and SES (moto), exactly once, through the real use cases."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_catcher import SlackCatcher, SlackResponse
from tests.support.rss import LAUNCH, SANCTIONS, Story, rss
from tests.support.subscriptions import subscribe_slack
from wirewatch import runtime
from wirewatch.models import Feed, Subscription
from wirewatch.tokens import InvalidToken
from wirewatch.usecases.alerts import alert_story
from wirewatch.usecases.digests import run_due_digests
from wirewatch.usecases.subscriptions import (
    SubscriptionRequest,
    ValidationError,
    confirm,
    subscribe,
    unsubscribe_by_token,
)

pytestmark = pytest.mark.integration

ICBM = Story(
    "icbm-over-japan",
    "North Korea fires ICBM over Japan, J-Alert issued",
    "The missile flew over Hokkaido and fell into the Pacific, Japan's defense ministry said.",
    age=timedelta(minutes=5),
)
# Entity-escaped in the feed's HTML title. Ingest strips what looks like markup (<!channel>, <https://…|…>);
# what survives as text (<@U123>, &) must reach Slack as literal characters.
HOSTILE = Story(
    "hostile-title",
    "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; North Korea fires ICBM over Japan",
    "North Korea launched an intercontinental ballistic missile over Japan; J-Alert sounded.",
    age=timedelta(minutes=4),
)


@pytest.fixture()
def slack() -> Iterator[SlackCatcher]:
    with SlackCatcher() as catcher:
        yield catcher


def poll_stories(*stories: Story) -> list[Any]:
    with FeedServer() as server:
        server.route("/wire.xml", body=rss(list(stories)))
        runtime.repository().add_feed(Feed(id="wire", url=server.url("/wire.xml"), name="Test Wire"))
        report = runtime.run_poll(runtime.repository().list_feeds())
    return list(report.stories)


def alert(story_id: str, now: datetime | None = None) -> Any:
    now = now or datetime.now(UTC)
    composer = runtime.composer()
    return alert_story(
        story_id,
        store=runtime.repository(),
        postman=runtime.postman(),
        compose=lambda sub, story: composer.alert(sub, story, now),
        now=now,
    )


def digests(now: datetime) -> Any:
    return run_due_digests(
        store=runtime.repository(), postman=runtime.postman(), composer=runtime.composer(), send_empty=False, now=now
    )


def sent_emails(endpoint: str, to: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:
        state = json.load(response)
    return [m for m in state["ses"]["Message"] + state["ses"]["RawMessage"] if to in json.dumps(m)]


def test_urgent_story_alerts_each_slack_subscription_once_even_when_retried(
    delivery_env: dict[str, str], slack: SlackCatcher
) -> None:
    sub = subscribe_slack(slack.url("/hook/a"), cadence="daily")
    [story] = poll_stories(ICBM)
    assert story.severity == "urgent"

    first = alert(story.id)
    # a retried invocation (stream retry, redrive) finds the ledger and the alerted flag
    runtime.repository()._update(f"STORY#{story.id}", "STORY", {"alerted": False})
    second = alert(story.id)

    assert (first.sent, second.sent, second.skipped) == (1, 0, 1)
    [payload] = slack.payloads("/hook/a")
    assert "ICBM" in payload["text"]
    assert runtime.repository().deliveries(sub.id)[0]["status"] == "sent"
    assert runtime.repository().get_story(story.id).alerted  # type: ignore[union-attr]


def test_hostile_title_arrives_in_slack_as_literal_text(delivery_env: dict[str, str], slack: SlackCatcher) -> None:
    subscribe_slack(slack.url("/hook/h"), cadence="immediate")
    [story] = poll_stories(HOSTILE)
    assert story.headline.startswith("<@U123> & North Korea")
    alert(story.id)
    [payload] = slack.payloads("/hook/h")
    text = json.dumps(payload)
    assert "<!channel>" not in text and "<@U123>" not in text and "evil.example" not in text
    assert "&lt;@U123&gt; &amp; North Korea" in text


def test_rate_limited_slack_is_retried_after_retry_after(delivery_env: dict[str, str], slack: SlackCatcher) -> None:
    slack.queue("/hook/busy", SlackResponse.rate_limited(0), SlackResponse.ok())
    subscribe_slack(slack.url("/hook/busy"), cadence="immediate")
    [story] = poll_stories(ICBM)
    report = alert(story.id)
    assert report.sent == 1
    assert slack.count("/hook/busy") == 2 and len(slack.payloads("/hook/busy")) == 1


@pytest.mark.parametrize(
    "answer", [SlackResponse.archived(), SlackResponse.no_service(), SlackResponse.invalid_payload()]
)
def test_permanent_slack_failure_marks_the_subscription_failing(
    delivery_env: dict[str, str], slack: SlackCatcher, answer: SlackResponse
) -> None:
    slack.always("/hook/dead", answer)
    sub = subscribe_slack(slack.url("/hook/dead"), cadence="immediate")
    [story] = poll_stories(ICBM)
    report = alert(story.id)
    failing = runtime.repository().get_subscription(sub.id)
    assert report.failed == 1
    assert failing is not None and failing.status == "failing"
    assert failing.failure_reason and answer.body.split()[0] in failing.failure_reason
    assert runtime.repository().deliveries(sub.id)[0]["status"] == "failed"


def test_quiet_hours_hold_urgent_alerts_only_when_the_bypass_is_off(
    delivery_env: dict[str, str], slack: SlackCatcher
) -> None:
    now = datetime.now(UTC)
    all_day = (now.strftime("%H:%M"), (now - timedelta(minutes=1)).strftime("%H:%M"))  # quiet right now
    subscribe_slack(slack.url("/hook/bypass"), cadence="daily", quiet_hours=all_day)
    subscribe_slack(slack.url("/hook/hold"), cadence="daily", quiet_hours=all_day, urgent_in_quiet_hours=False)
    [story] = poll_stories(ICBM)
    alert(story.id, now)
    assert len(slack.payloads("/hook/bypass")) == 1
    assert slack.payloads("/hook/hold") == []


def test_hourly_digest_is_sent_once_per_window_and_split_within_slack_limits(
    delivery_env: dict[str, str], slack: SlackCatcher
) -> None:
    sub = subscribe_slack(slack.url("/hook/digest"), cadence="hourly")
    [template] = poll_stories(ICBM)
    repo = runtime.repository()
    for n in range(40):  # forty distinct stories, more than one Slack message holds
        seen = template.last_seen - timedelta(minutes=n)
        repo.save_story(replace(template, id=f"st-many-{n}", headline=f"Story {n}", last_seen=seen), None)
    due = runtime.repository().get_subscription(sub.id)
    assert due is not None and due.next_digest_at is not None
    at = due.next_digest_at + timedelta(seconds=5)
    # the stories were seen before the window closed: move the window start back to include them
    runtime.repository().save_subscription(replace(due, last_digest_at=due.last_digest_at - timedelta(hours=1)))  # type: ignore[operator]

    first = digests(at)
    second = digests(at)  # a retried invocation

    payloads = slack.payloads("/hook/digest")
    assert first.sent == 1 and second.due == 0
    assert len(payloads) >= 2 and slack.count("/hook/digest") == len(payloads)  # every part accepted once
    assert all(len(p["blocks"]) <= 50 for p in payloads)
    moved = runtime.repository().get_subscription(sub.id)
    assert moved is not None and moved.last_digest_at == due.next_digest_at


def test_email_needs_confirmation_and_unsubscribes_with_one_click(delivery_env: dict[str, str]) -> None:
    address = f"analyst-{uuid.uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    sub = subscribe(
        SubscriptionRequest(channel="email", target=address, cadence="hourly"),
        store=runtime.repository(),
        secret_store=runtime.secret_store(),
        postman=runtime.postman(),
        composer=runtime.composer(),
        slack_secret_prefix="/x/",
        allow_loopback_webhooks=False,
        now=now,
    )
    assert sub.status == "pending"
    [confirmation] = sent_emails(delivery_env["AWS_ENDPOINT_URL"], address)
    link = runtime.composer().confirm_url(sub, now)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert token in json.dumps(confirmation)

    # nothing but the confirmation goes out while pending
    poll_stories(ICBM)
    assert runtime.repository().active_subscriptions() == []

    key = runtime.token_key()
    ours = {"token_key": key, "store": runtime.repository(), "secret_store": runtime.secret_store(), "now": now}
    active = confirm(token, token_key=key, store=runtime.repository(), now=now)
    assert active.status == "active" and active.next_digest_at is not None

    unsub = parse_qs(urlsplit(runtime.composer().unsubscribe_url(sub, now)).query)["token"][0]
    assert unsubscribe_by_token(unsub, **ours).status == "unsubscribed"
    assert unsubscribe_by_token(unsub, **ours).status == "unsubscribed"

    forged = unsub[:-4] + ("AAAA" if not unsub.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken):
        unsubscribe_by_token(forged, **ours)
    with pytest.raises(InvalidToken):  # an unsubscribe token cannot confirm
        confirm(unsub, token_key=key, store=runtime.repository(), now=now)


def test_email_digest_goes_out_through_ses_with_one_click_unsubscribe(delivery_env: dict[str, str]) -> None:
    address = f"desk-{uuid.uuid4().hex[:6]}@example.org"
    now = datetime.now(UTC)
    sub = Subscription(
        id=f"sub-{uuid.uuid4().hex[:8]}",
        channel="email",
        target=address,
        cadence="hourly",
        status="active",
        last_digest_at=now - timedelta(hours=1),
        next_digest_at=now + timedelta(minutes=1),
        created_at=now - timedelta(hours=2),
    )
    runtime.repository().save_subscription(sub)
    poll_stories(LAUNCH, SANCTIONS)
    report = digests(now + timedelta(minutes=1, seconds=1))
    assert report.sent == 1
    [message] = sent_emails(delivery_env["AWS_ENDPOINT_URL"], address)
    assert LAUNCH.title.split()[0] in json.dumps(message)
    ledger = runtime.repository().deliveries(sub.id)
    assert ledger[0]["status"] == "sent" and ledger[0]["provider_id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topics": ("weather",)}, "topics"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"cadence": "weekly"}, "cadence"),
        ({"daily_at": "25:99"}, "daily_at"),
        ({"target": "https://evil.example/hook"}, "target"),
    ],
)
def test_bad_subscription_requests_name_the_field(
    delivery_env: dict[str, str], slack: SlackCatcher, changes: dict[str, Any], field: str
) -> None:
    request = {"target": slack.url("/hook/x")} | changes
    with pytest.raises(ValidationError) as caught:
        subscribe_slack(**request)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert slack.count() == 0
