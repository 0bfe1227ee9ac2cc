"""Lambda handlers invoked with the sample events in events/, against moto over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from tests.support.aws import FakeLambdaContext, load_event, load_handler
from tests.support.rss import LAUNCH, SANCTIONS, WEATHER, rss
from wirewatch import runtime
from wirewatch.adapters.aws import clients as aws
from wirewatch.feedlist import default_feeds
from wirewatch.feeds.urls import item_id
from wirewatch.models import Feed

pytestmark = pytest.mark.integration


@pytest.fixture()
def poll_queue(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = aws.client("sqs").create_queue(QueueName=aws_env["WIREWATCH_TABLE"] + "-poll")["QueueUrl"]
    monkeypatch.setenv("WIREWATCH_POLL_QUEUE_URL", url)
    runtime.reset()
    return str(url)


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = aws.client("sqs")
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in got)
        for m in got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_dispatch_seeds_initial_feeds_and_enqueues_them_in_batches(
    poll_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREWATCH_FEEDS_PER_MESSAGE", "3")
    runtime.reset()
    result = load_handler("dispatch").handler(load_event("dispatch_schedule.json"), FakeLambdaContext())
    expected = {f.id for f in default_feeds()}
    assert result["seeded"] == len(expected) and result["due"] == len(expected)
    messages = drain(poll_queue)
    assert len(messages) == result["messages"] == -(-len(expected) // 3)
    assert {fid for m in messages for fid in m["feed_ids"]} == expected


def test_dispatch_skips_feeds_that_are_backing_off(poll_queue: str) -> None:
    repo = runtime.repository()
    repo.add_feed(Feed(id="ready", url="https://example.com/a.xml", name="A"))
    repo.add_feed(
        Feed(
            id="waiting",
            url="https://example.com/b.xml",
            name="B",
            next_attempt=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    repo.add_feed(Feed(id="off", url="https://example.com/c.xml", name="C", enabled=False))
    load_handler("dispatch").handler(load_event("dispatch_schedule.json"), FakeLambdaContext())
    assert [m["feed_ids"] for m in drain(poll_queue)] == [["ready"]]


def test_poll_handler_polls_sqs_batch_and_reports_bad_messages(aws_env: dict[str, str]) -> None:
    event = load_event("poll_sqs.json")
    with FeedServer() as server:
        server.route("/a.xml", body=rss([LAUNCH, WEATHER]))
        server.route("/b.xml", body=rss([SANCTIONS]))
        repo = runtime.repository()
        for fid, path in (("kyodo-en", "/a.xml"), ("reuters-world", "/b.xml"), ("yonhap-nk", "/a.xml")):
            repo.add_feed(Feed(id=fid, url=server.url(path), name=fid))
        event["Records"].append({**event["Records"][0], "messageId": "poison", "body": "{not json"})
        result = load_handler("poll").handler(event, FakeLambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    stored = repo.existing_item_ids(item_id(s.guid, None) for s in (LAUNCH, WEATHER, SANCTIONS))
    assert len(stored) == 3


def test_poll_handler_direct_invocation_returns_the_report(aws_env: dict[str, str]) -> None:
    with FeedServer() as server:
        server.route("/a.xml", body=rss([LAUNCH]))
        runtime.repository().add_feed(Feed(id="kyodo-en", url=server.url("/a.xml"), name="Kyodo"))
        result = load_handler("poll").handler(load_event("poll_direct.json"), FakeLambdaContext())
    assert result["feeds"] == 1 and result["new_items"] == 1 and result["relevant_items"] == 1


def test_alert_handler_alerts_slack_for_a_stream_record(delivery_env: dict[str, str]) -> None:
    from loopback.slack_catcher import SlackCatcher
    from wirewatch.models import Story, StorySource, Subscription

    now = datetime.now(UTC)
    repo = runtime.repository()
    story = Story(
        id="st-example",
        headline="North Korea fires ICBM over Japan",
        topics=("missile",),
        severity="urgent",
        severity_reason="missile over Japan",
        first_seen=now,
        last_seen=now,
        sources=(StorySource("i1", "Test Wire", "North Korea fires ICBM over Japan", "https://news.example/1", now),),
    )
    repo.save_story(story, None)
    with SlackCatcher() as slack:
        runtime.secret_store().put("/test/slack/alert", slack.url("/hook"))
        repo.save_subscription(
            Subscription(
                id="sub-alert", channel="slack", target="/test/slack/alert", cadence="immediate", status="active"
            )
        )
        result = load_handler("alert").handler(load_event("alert_stream.json"), FakeLambdaContext())
        assert result == {"batchItemFailures": []}
        assert len(slack.payloads("/hook")) == 1


def test_alert_handler_reports_a_record_with_pending_sends_as_a_batch_item_failure(
    delivery_env: dict[str, str],
) -> None:
    from loopback.slack_catcher import SlackCatcher, SlackResponse
    from wirewatch.models import Story, StorySource, Subscription

    now = datetime.now(UTC)
    repo = runtime.repository()
    source = StorySource("i1", "Test Wire", "North Korea fires ICBM over Japan", "https://news.example/1", now)
    repo.save_story(
        Story("st-example", "North Korea fires ICBM over Japan", ("missile",), "urgent", "test", now, now, (source,)),
        None,
    )
    with SlackCatcher() as slack:
        slack.always("/hook", SlackResponse(status=503, body="busy"))
        runtime.secret_store().put("/test/slack/alert", slack.url("/hook"))
        repo.save_subscription(
            Subscription(
                id="sub-alert", channel="slack", target="/test/slack/alert", cadence="immediate", status="active"
            )
        )
        result = load_handler("alert").handler(load_event("alert_stream.json"), FakeLambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": "111100000000000000000001"}]


def test_digest_handler_reports_what_it_sent(delivery_env: dict[str, str]) -> None:
    result = load_handler("digest").handler(load_event("digest_schedule.json"), FakeLambdaContext())
    assert result == {"due": 0, "sent": 0, "empty": 0, "deferred": 0, "failed": 0, "pending": []}
