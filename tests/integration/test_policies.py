"""Least privilege, checked against behaviour: each handler's AWS calls, recorded against moto, equal its grants."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_catcher import SlackCatcher, SlackResponse
from tests.support.aws import FakeLambdaContext, load_event, load_handler
from tests.support.rss import LAUNCH, Story, rss
from tests.support.template import granted_actions
from wirewatch import runtime
from wirewatch.adapters.aws import clients as aws
from wirewatch.models import Feed, Subscription

pytestmark = pytest.mark.integration

# IAM checks these on our behalf without the code calling them: reading the link key through SSM's
# /aws/reference/secretsmanager/ path needs secretsmanager:GetSecretValue too (moto stores it as a plain parameter).
IMPLICIT = {"secretsmanager:GetSecretValue"}
_IAM_PREFIX = {"sesv2": "ses"}
_IAM_ACTION = {"SendMessageBatch": "SendMessage"}

ICBM = Story(
    "icbm", "North Korea fires ICBM over Japan, J-Alert issued", "It fell into the Pacific.", timedelta(minutes=3)
)


@pytest.fixture()
def recorded(delivery_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Every IAM action the code under test performs through wirewatch.aws clients."""
    calls: set[str] = set()
    create = aws.client
    hooked: set[int] = set()

    def recording_client(service: str) -> Any:
        client = create(service)
        if id(client) not in hooked:
            hooked.add(id(client))
            prefix = _IAM_PREFIX.get(service, service)
            client.meta.events.register(
                "before-parameter-build.*.*",
                lambda model, **_: calls.add(f"{prefix}:{_IAM_ACTION.get(model.name, model.name)}"),
            )
        return client

    recording_client.cache_clear = create.cache_clear  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "client", recording_client)
    monkeypatch.delenv("WIREWATCH_SES_MAX_SEND_RATE")  # deployed functions read the account's send rate
    runtime.reset()
    yield calls


def seed_story_and_subscriptions(slack: SlackCatcher, cadence: str) -> None:
    """Feeds polled into an urgent story, and subscriptions on both channels, one of them broken."""
    with FeedServer() as server:
        server.route("/wire.xml", body=rss([ICBM, LAUNCH]))
        runtime.repository().add_feed(Feed(id="wire", url=server.url("/wire.xml"), name="Wire"))
        runtime.run_poll(runtime.repository().list_feeds())
    now = datetime.now(UTC)
    secrets = runtime.secret_store()
    slack.always("/dead", SlackResponse.archived())
    for name, path in (("ok", "/hook"), ("dead", "/dead")):
        secrets.put(f"/test/policies/{name}", slack.url(path))
        runtime.repository().save_subscription(
            Subscription(
                id=f"sub-{name}",
                channel="slack",
                target=f"/test/policies/{name}",
                cadence=cadence,
                status="active",
                last_digest_at=now - timedelta(hours=2),
                next_digest_at=now,
            )
        )
    runtime.repository().save_subscription(
        Subscription(
            id="sub-mail",
            channel="email",
            target="analyst@example.org",
            cadence=cadence,
            status="active",
            last_digest_at=now - timedelta(hours=2),
            next_digest_at=now,
        )
    )


def run_dispatch(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = aws.client("sqs").create_queue(QueueName="policies-poll")["QueueUrl"]
    monkeypatch.setenv("WIREWATCH_POLL_QUEUE_URL", url)
    runtime.reset()
    recorded.clear()
    load_handler("dispatch").handler(load_event("dispatch_schedule.json"), FakeLambdaContext())


def run_poll(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedServer() as server:
        server.route("/a.xml", body=rss([ICBM, LAUNCH]))
        for fid in ("kyodo-en", "reuters-world", "yonhap-nk"):
            runtime.repository().add_feed(Feed(id=fid, url=server.url("/a.xml"), name=fid))
        # one of the messages belongs to a run started by POST /poll, which the poll records
        runtime.repository().create_run("run-policies", ["yonhap-nk"], 1, datetime.now(UTC))
        event = load_event("poll_sqs.json")
        event["Records"][1]["body"] = '{"feed_ids": ["yonhap-nk"], "run_id": "run-policies", "batch": 0}'
        recorded.clear()
        load_handler("poll").handler(event, FakeLambdaContext())
        assert runtime.repository().get_run("run-policies", datetime.now(UTC))["status"] == "done"  # type: ignore[index]


def run_alert(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with SlackCatcher() as slack:
        seed_story_and_subscriptions(slack, "immediate")
        stories = runtime.repository().stories_seen_between(datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC))
        [story] = [s for s in stories if s.severity == "urgent"]
        event = load_event("alert_stream.json")
        event["Records"][0]["dynamodb"]["NewImage"]["id"]["S"] = story.id
        runtime.reset()
        recorded.clear()
        load_handler("alert").handler(event, FakeLambdaContext())
        assert slack.payloads("/hook")


def run_digest(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with SlackCatcher() as slack:
        seed_story_and_subscriptions(slack, "hourly")
        runtime.reset()
        recorded.clear()
        result = load_handler("digest").handler(load_event("digest_schedule.json"), FakeLambdaContext())
        assert result["sent"] == 2 and result["failed"] == 1


def run_api(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.api import Api

    url = aws.client("sqs").create_queue(QueueName="policies-api-poll")["QueueUrl"]
    monkeypatch.setenv("WIREWATCH_POLL_QUEUE_URL", url)
    with SlackCatcher() as slack:
        seed_story_and_subscriptions(slack, "daily")
        runtime.reset()
        recorded.clear()
        api = Api()
        assert api.post("/poll").status == 202
        assert api.get("/items", query={"topic": "missile"}).status == 200
        assert api.get("/stories").status == 200
        assert api.get("/feeds").status == 200
        assert api.post("/feeds", json_body={"url": "http://127.0.0.1:9/rss.xml"}).status == 201
        assert api.delete("/feeds/wire").status in (200, 204)
        created = api.post("/subscriptions", json_body={"channel": "email", "target": "desk@example.org"})
        assert created.status == 201
        hook = api.post("/subscriptions", json_body={"channel": "slack", "target": slack.url("/api-hook")})
        assert hook.status == 201
        assert api.patch(f"/subscriptions/{hook.json()['id']}", json_body={"min_severity": "high"}).status == 200
        assert api.post("/subscriptions/sub-ok/digest").status == 200
        assert api.delete(f"/subscriptions/{hook.json()['id']}").status == 200


def run_feedback(recorded: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for sub_id, address in (("sub-bounced", "Analyst@example.org"), ("sub-complained", "desk@example.org")):
        runtime.repository().save_subscription(
            Subscription(id=sub_id, channel="email", target=address, cadence="daily", status="active")
        )
    runtime.reset()
    recorded.clear()
    result = load_handler("feedback").handler(load_event("ses_feedback_sns.json"), FakeLambdaContext())
    assert result == {"subscriptions_changed": 2}


SCENARIOS: dict[str, Callable[[set[str], pytest.MonkeyPatch], None]] = {
    "ApiFunction": run_api,
    "DispatchFunction": run_dispatch,
    "PollFunction": run_poll,
    "AlertFunction": run_alert,
    "DigestFunction": run_digest,
    "FeedbackFunction": run_feedback,
}


@pytest.mark.parametrize("function", sorted(SCENARIOS))
def test_function_policy_grants_exactly_what_its_code_calls(
    function: str, recorded: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    SCENARIOS[function](recorded, monkeypatch)
    granted = granted_actions(function)
    assert recorded <= granted, f"{function} calls what it may not: {sorted(recorded - granted)}"
    assert granted - IMPLICIT <= recorded, (
        f"{function} is granted what it never calls: {sorted(granted - recorded - IMPLICIT)}"
    )
