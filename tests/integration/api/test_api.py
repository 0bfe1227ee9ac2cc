"""Each API route through the Lambda handler, with API Gateway v2 events, against moto."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_catcher import SlackCatcher
from tests.support.api import Api, Reply
from tests.support.aws import FakeLambdaContext, load_event, load_handler
from tests.support.rss import LAUNCH, SANCTIONS, WEATHER, rss
from wirewatch import runtime
from wirewatch.adapters.aws import clients as aws
from wirewatch.adapters.aws.dynamodb import Repository
from wirewatch.api.routes import route_table
from wirewatch.models import Classification, Feed, Item, Story, StorySource, Subscription
from wirewatch.tokens import sign_token

pytestmark = pytest.mark.integration


def wait_for_run(api: Api, run_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/runs/{run_id}").json()
        if run["status"] in ("done", "failed") or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.05)


def add_wire(server: FeedServer, feed_id: str = "wire") -> Feed:
    feed = Feed(id=feed_id, url=server.url(f"/{feed_id}.xml"), name=f"Wire {feed_id}")
    runtime.repository().add_feed(feed)
    return feed


def relevant_item(n: int, published: datetime, topic: str = "missile", severity: str = "high") -> Item:
    return Item(
        id=f"item{n:03d}",
        feed_id="wire",
        source="Test Wire",
        title=f"Item {n}",
        link=f"https://news.example.com/{n}",
        summary="",
        published=published,
        first_seen=published,
        language="en",
        classification=Classification(topics=(topic,), severity=severity, severity_reason="test"),
    )


def story(n: int, last_seen: datetime, topic: str = "missile", severity: str = "high") -> Story:
    source = StorySource(f"item{n:03d}", "Test Wire", f"Story {n}", f"https://news.example.com/{n}", last_seen)
    return Story(
        id=f"story{n:03d}",
        headline=f"Story {n}",
        topics=(topic,),
        severity=severity,
        severity_reason="test",
        first_seen=last_seen,
        last_seen=last_seen,
        sources=(source,),
    )


def all_pages(api: Api, path: str, key: str, query: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        reply = api.get(path, query=query | ({"cursor": cursor} if cursor else {}))
        assert reply.status == 200, reply.body
        body = reply.json()
        pages.append([r["id"] for r in body[key]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def assert_error(reply: Reply, status: int, code: str, field: str | None = None) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.error["code"] == code, reply.error
    if field is not None:
        assert reply.error.get("field") == field, reply.error


# auth, routing, errors


def test_health_is_public(api: Api) -> None:
    reply = api.get("/health", auth=None)
    assert reply.status == 200 and reply.json() == {"status": "ok"}


def test_every_management_route_refuses_requests_without_an_authorizer(api: Api) -> None:
    management = [(method, rule) for method, rule, public in route_table() if not public]
    assert len(management) == 14
    for method, rule in management:
        reply = api.call(method, re.sub(r"<\w+>", "x1", rule), auth=None)
        assert reply.status == 403 and reply.error["code"] == "forbidden", (method, rule, reply.body)


def test_management_routes_accept_iam_or_jwt_and_local_mode_needs_none(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.get("/feeds", auth="iam").status == 200
    assert api.get("/feeds", auth="jwt").status == 200
    monkeypatch.setenv("WIREWATCH_API_AUTH", "none")
    runtime.settings.cache_clear()
    assert api.get("/feeds", auth=None).status == 200


def test_a_malformed_auth_mode_is_an_internal_error_not_an_open_door(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_API_AUTH", "off")
    runtime.settings.cache_clear()
    assert_error(api.get("/feeds", auth=None), 500, "internal_error")


def test_unknown_route_is_404_json_and_wrong_method_is_405_with_allow(api: Api) -> None:
    assert_error(api.get("/nope"), 404, "not_found")
    reply = api.call("PUT", "/feeds")
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "GET, POST"


def test_internal_error_is_500_with_request_id_and_no_trace(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Repository) -> Any:
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(Repository, "list_feeds", broken)
    reply = api.get("/feeds")
    assert_error(reply, 500, "internal_error")
    assert reply.error["request_id"]
    assert "hunter2" not in reply.body and "Traceback" not in reply.body


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/items", {"limit": "201"}, "limit"),
        ("/items", {"limit": "0"}, "limit"),
        ("/items", {"limit": "ten"}, "limit"),
        ("/items", {"topic": "weather"}, "topic"),
        ("/items", {"severity": "extreme"}, "severity"),
        ("/stories", {"since": "yesterday"}, "since"),
        ("/stories", {"sort": "asc"}, "sort"),
        ("/feeds", {"verbose": "1"}, "verbose"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(
    api: Api, path: str, query: dict[str, str], field: str
) -> None:
    reply = api.get(path, query=query)
    assert reply.status == 400 and reply.error["field"] == field, reply.body


# poll and runs


def test_poll_runs_locally_without_a_queue_and_the_run_reports_what_it_did(api: Api, feed_server: FeedServer) -> None:
    feed_server.route("/wire.xml", body=rss([LAUNCH, SANCTIONS, WEATHER]))
    add_wire(feed_server)
    reply = api.post("/poll")
    assert reply.status == 202
    run_id = reply.json()["run_id"]
    assert reply.headers["location"] == f"/runs/{run_id}"
    run = wait_for_run(api, run_id)
    assert run["status"] == "done" and run["feed_ids"] == ["wire"]
    assert run["report"] | {"errors": []} == {
        "feeds": 1,
        "fetched": 1,
        "not_modified": 0,
        "failed": 0,
        "new_items": 3,
        "relevant_items": 2,
        "stories": 2,
        "errors": [],
    }


def test_poll_named_feeds_reports_feed_errors(api: Api, feed_server: FeedServer) -> None:
    feed_server.route("/good.xml", body=rss([LAUNCH]))
    feed_server.route("/bad.xml", status=500, body=b"oops")
    add_wire(feed_server, "good")
    add_wire(feed_server, "bad")
    add_wire(feed_server, "other")
    reply = api.post("/poll", json_body={"feed_ids": ["good", "bad"]})
    run = wait_for_run(api, reply.json()["run_id"])
    assert run["status"] == "done" and sorted(run["feed_ids"]) == ["bad", "good"]
    assert run["report"]["failed"] == 1 and run["report"]["errors"][0]["feed"] == "bad"
    assert run["report"]["errors"][0]["status"] == 500


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ('{"feed_ids": ["nope"]}', "unknown_feed", "feed_ids"),
        ('{"feed_ids": []}', "invalid_field", "feed_ids"),
        ('{"feed_ids": "wire"}', "invalid_field", "feed_ids"),
        ('{"feeds": ["wire"]}', "unknown_field", "feeds"),
        ("{not json", "invalid_json", None),
        ("[1, 2]", "invalid_json", None),
    ],
)
def test_poll_refuses_bad_bodies(api: Api, body: str, code: str, field: str | None) -> None:
    assert_error(api.post("/poll", body=body), 400, code, field)


def test_poll_through_the_queue_records_each_batch_once(
    api: Api, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_url = aws.client("sqs").create_queue(QueueName=runtime.settings().table_name + "-poll")["QueueUrl"]
    monkeypatch.setenv("WIREWATCH_POLL_QUEUE_URL", queue_url)
    monkeypatch.setenv("WIREWATCH_FEEDS_PER_MESSAGE", "1")
    runtime.reset()
    feed_server.route("/a.xml", body=rss([LAUNCH]))
    feed_server.route("/b.xml", body=rss([SANCTIONS]))
    add_wire(feed_server, "a")
    add_wire(feed_server, "b")

    run_id = api.post("/poll").json()["run_id"]
    assert api.get(f"/runs/{run_id}").json()["status"] == "queued"
    messages = aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["batch"])
    assert bodies == [
        {"feed_ids": [bodies[0]["feed_ids"][0]], "run_id": run_id, "batch": 0},
        {"feed_ids": [bodies[1]["feed_ids"][0]], "run_id": run_id, "batch": 1},
    ]

    event = load_event("poll_sqs.json")
    template = event["Records"][0]
    poll = load_handler("poll").handler
    first = {**template, "messageId": "m0", "body": messages[0]["Body"]}
    poll({"Records": [first]}, FakeLambdaContext())
    assert api.get(f"/runs/{run_id}").json()["status"] == "running"
    second = {**template, "messageId": "m1", "body": messages[1]["Body"]}
    poll({"Records": [first, second]}, FakeLambdaContext())  # the first one redelivered
    run = api.get(f"/runs/{run_id}").json()
    assert run["status"] == "done" and run["batches_done"] == 2
    assert run["report"]["feeds"] == 2 and run["report"]["relevant_items"] == 2


def test_unknown_run_is_404(api: Api) -> None:
    assert_error(api.get("/runs/run-20260101000000-abcdef"), 404, "not_found")


# items and stories


def test_items_page_newest_first_across_months_with_an_opaque_cursor(api: Api) -> None:
    repo, now = runtime.repository(), datetime.now(UTC)
    expiry = now + timedelta(days=30)
    times = [now - timedelta(hours=h) for h in (1, 2, 3)] + [now - timedelta(days=d) for d in (35, 36)]
    for n, published in enumerate(times):
        repo.put_item_if_new(relevant_item(n, published), expiry)
    pages = all_pages(api, "/items", "items", {"limit": "2", "since": (now - timedelta(days=60)).isoformat()})
    assert pages == [["item000", "item001"], ["item002", "item003"], ["item004"]]
    # The default window is 30 days.
    assert [i["id"] for i in api.get("/items").json()["items"]] == ["item000", "item001", "item002"]


def test_items_filter_by_topic_and_minimum_severity(api: Api) -> None:
    repo, now = runtime.repository(), datetime.now(UTC)
    expiry = now + timedelta(days=30)
    kinds = [("missile", "urgent"), ("sanctions", "high"), ("missile", "normal"), ("missile", "high")]
    for n, (topic, severity) in enumerate(kinds):
        repo.put_item_if_new(relevant_item(n, now - timedelta(minutes=n + 1), topic, severity), expiry)
    pages = all_pages(api, "/items", "items", {"topic": "missile", "severity": "high", "limit": "1"})
    assert pages == [["item000"], ["item003"]]
    item = api.get("/items", query={"topic": "sanctions"}).json()["items"][0]
    assert item["topics"] == ["sanctions"] and item["severity"] == "high" and item["link"].startswith("https://")


def test_a_bad_or_misplaced_cursor_is_400(api: Api) -> None:
    repo, now = runtime.repository(), datetime.now(UTC)
    for n in range(3):
        repo.put_item_if_new(relevant_item(n, now - timedelta(minutes=n + 1)), now + timedelta(days=1))
    cursor = api.get("/items", query={"limit": "1"}).json()["next_cursor"]
    assert cursor
    for bad in ("garbage", cursor[:-3], cursor + "x" * 600, "eyJ2IjoxfQ"):
        assert_error(api.get("/items", query={"limit": "1", "cursor": bad}), 400, "invalid_cursor", "cursor")
    assert_error(api.get("/items", query={"cursor": cursor, "topic": "missile"}), 400, "invalid_cursor")
    assert_error(api.get("/stories", query={"cursor": cursor}), 400, "invalid_cursor")


def test_stories_list_and_one_story(api: Api) -> None:
    repo, now = runtime.repository(), datetime.now(UTC)
    for n in range(3):
        repo.save_story(story(n, now - timedelta(hours=n)), None)
    assert all_pages(api, "/stories", "stories", {"limit": "2"}) == [["story000", "story001"], ["story002"]]
    one = api.get("/stories/story001").json()
    assert one["headline"] == "Story 1" and one["sources"][0]["item_id"] == "item001"
    assert_error(api.get("/stories/story999"), 404, "not_found")
    assert_error(api.get("/stories/%2E%2E%2Fetc"), 400, "invalid_parameter", "story_id")


# feeds


def test_feeds_show_health_and_items_in_the_last_24_hours(api: Api, feed_server: FeedServer) -> None:
    feed_server.route("/wire.xml", body=rss([LAUNCH, WEATHER]))
    feed_server.route("/down.xml", status=503, body=b"")
    add_wire(feed_server)
    add_wire(feed_server, "down")
    runtime.run_poll(runtime.repository().list_feeds())
    feeds = {f["id"]: f for f in api.get("/feeds").json()["feeds"]}
    ok, down = feeds["wire"]["health"], feeds["down"]["health"]
    assert ok["status"] == "ok" and ok["last_status"] == 200 and ok["last_success"]
    assert (ok["items_24h"], ok["relevant_items_24h"]) == (2, 1)
    assert down["status"] == "failing" and down["consecutive_failures"] == 1 and down["last_status"] == 503
    assert down["next_attempt"] and down["items_24h"] == 0


def test_add_and_delete_a_feed(api: Api, feed_server: FeedServer) -> None:
    url = feed_server.url("/new.xml")
    reply = api.post("/feeds", json_body={"url": url, "name": "New wire", "language": "ja"})
    assert reply.status == 201, reply.body
    feed = reply.json()
    assert feed["url"] == url and feed["language"] == "ja" and feed["health"]["status"] == "never_polled"
    assert reply.headers["location"] == f"/feeds/{feed['id']}"
    assert_error(api.post("/feeds", json_body={"url": url}), 409, "conflict", "id")
    assert api.delete(f"/feeds/{feed['id']}").status == 204
    assert_error(api.delete(f"/feeds/{feed['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"url": "http://10.0.0.7/feed.xml"}, "unsafe_url", "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "unsafe_url", "url"),
        ({"url": "ftp://127.0.0.1/feed.xml"}, "unsafe_url", "url"),
        ({"url": "not a url"}, "unsafe_url", "url"),
        ({"url": 42}, "invalid_field", "url"),
        ({"url": "http://127.0.0.1:9/x", "id": "Bad Id"}, "invalid_field", "id"),
        ({"url": "http://127.0.0.1:9/x", "language": "english!"}, "invalid_field", "language"),
        ({"url": "http://127.0.0.1:9/x", "interval": 5}, "unknown_field", "interval"),
        ({"name": "no url"}, "missing_field", "url"),
    ],
)
def test_add_feed_refuses_bad_and_unsafe_urls(api: Api, body: dict[str, Any], code: str, field: str) -> None:
    assert_error(api.post("/feeds", json_body=body), 400, code, field)


def test_loopback_feeds_are_refused_unless_the_deployment_allows_them(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREWATCH_ALLOW_LOOPBACK", "0")
    runtime.reset()
    assert_error(api.post("/feeds", json_body={"url": "http://127.0.0.1:8080/feed.xml"}), 400, "unsafe_url", "url")


# subscriptions


def create_slack(api: Api, slack: SlackCatcher, **settings: Any) -> dict[str, Any]:
    reply = api.post("/subscriptions", json_body={"channel": "slack", "target": slack.url("/hook/desk"), **settings})
    assert reply.status == 201, reply.body
    return dict(reply.json())


def test_slack_subscription_is_active_at_once_and_its_webhook_is_not_shown(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack, topics=["missile"], cadence="hourly")
    assert sub["status"] == "active" and sub["topics"] == ["missile"] and sub["next_digest_at"]
    assert "127.0.0.1" not in json.dumps(api.get("/subscriptions").json())
    assert [s["id"] for s in api.get("/subscriptions").json()["subscriptions"]] == [sub["id"]]


def test_email_subscription_is_pending_and_its_confirmation_is_in_the_ledger(api: Api) -> None:
    reply = api.post(
        "/subscriptions",
        json_body={"channel": "email", "target": "analyst@example.com", "cadence": "daily", "timezone": "Asia/Tokyo"},
    )
    assert reply.status == 201, reply.body
    sub = reply.json()
    assert sub["status"] == "pending" and sub["timezone"] == "Asia/Tokyo"
    detail = api.get(f"/subscriptions/{sub['id']}").json()
    assert [(d["key"], d["status"]) for d in detail["deliveries"]] == [("CONFIRM", "sent")]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"channel": "email", "target": "not-an-address"}, "invalid_field", "target"),
        ({"channel": "pager", "target": "x"}, "invalid_field", "channel"),
        ({"channel": "slack", "target": "https://evil.example.com/hook"}, "invalid_field", "target"),
        ({"channel": "email", "target": "a@example.com", "topics": ["weather"]}, "invalid_field", "topics"),
        ({"channel": "email", "target": "a@example.com", "timezone": "Mars/Olympus"}, "invalid_field", "timezone"),
        ({"channel": "email", "target": "a@example.com", "daily_at": "25:00"}, "invalid_field", "daily_at"),
        ({"channel": "email", "target": "a@example.com", "colour": "red"}, "unknown_field", "colour"),
        ({"channel": "email"}, "missing_field", "target"),
    ],
)
def test_create_subscription_refuses_bad_fields(api: Api, body: dict[str, Any], code: str, field: str) -> None:
    assert_error(api.post("/subscriptions", json_body=body), 400, code, field)


def test_patch_subscription_changes_settings_and_reschedules(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack, cadence="hourly")
    reply = api.patch(
        f"/subscriptions/{sub['id']}",
        json_body={
            "cadence": "daily",
            "daily_at": "07:30",
            "timezone": "Asia/Tokyo",
            "quiet_hours": ["22:00", "06:00"],
        },
    )
    assert reply.status == 200, reply.body
    updated = reply.json()
    assert (updated["cadence"], updated["daily_at"], updated["quiet_hours"]) == ("daily", "07:30", ["22:00", "06:00"])
    due = datetime.fromisoformat(updated["next_digest_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (due.hour, due.minute) == (7, 30)
    assert api.get(f"/subscriptions/{sub['id']}").json()["cadence"] == "daily"
    cleared = api.patch(f"/subscriptions/{sub['id']}", json_body={"quiet_hours": None}).json()
    assert cleared["quiet_hours"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"timezone": "Nowhere/City"}, "invalid_field", "timezone"),
        ({"topics": ["missile", "weather"]}, "invalid_field", "topics"),
        ({"min_severity": "none"}, "invalid_field", "min_severity"),
        ({"quiet_hours": ["22:00"]}, "invalid_field", "quiet_hours"),
        ({"quiet_hours": ["22:00", "٠٦:00"]}, "invalid_field", "quiet_hours"),
        ({"daily_at": "7h30"}, "invalid_field", "daily_at"),
        ({"target": "someone@example.com"}, "unknown_field", "target"),
        ({}, "missing_field", None),
    ],
)
def test_patch_subscription_refuses_bad_settings(api: Api, body: dict[str, Any], code: str, field: str | None) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
    assert_error(api.patch(f"/subscriptions/{sub['id']}", json_body=body), 400, code, field)


def test_delete_subscription_unsubscribes_and_unknown_ids_are_404(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
    reply = api.delete(f"/subscriptions/{sub['id']}")
    assert reply.status == 200 and reply.json()["status"] == "unsubscribed"
    for method in ("GET", "PATCH", "DELETE"):
        assert_error(api.call(method, "/subscriptions/sub-missing", json_body={"cadence": "daily"}), 404, "not_found")


def test_digest_preview_renders_email_and_slack_without_sending(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
        # The digest due now covers what was seen since the subscription's last one (here: its start).
        runtime.repository().save_story(story(1, datetime.now(UTC), severity="urgent"), None)
        reply = api.post(f"/subscriptions/{sub['id']}/digest", query={"preview": "true"})
        assert slack.count() == 0
    assert reply.status == 200, reply.body
    preview = reply.json()
    assert preview["stories"] == 1 and "Story 1" in preview["email"]["html"] and "Story 1" in preview["email"]["text"]
    assert preview["slack"] and preview["slack"][0]["blocks"]


def test_digest_send_now_goes_to_active_subscriptions_only(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
        runtime.repository().save_story(story(1, datetime.now(UTC)), None)
        reply = api.post(f"/subscriptions/{sub['id']}/digest")
        assert reply.status == 200 and reply.json() == {"subscription_id": sub["id"], "outcome": "sent"}
        assert slack.count("/hook/desk") >= 1
    pending = api.post("/subscriptions", json_body={"channel": "email", "target": "new@example.com"}).json()
    assert_error(api.post(f"/subscriptions/{pending['id']}/digest"), 409, "not_active", "status")
    assert_error(api.post(f"/subscriptions/{sub['id']}/digest", query={"preview": "yes"}), 400, "invalid_parameter")


# public links


def pending_email_subscription() -> Subscription:
    sub = Subscription(
        id="sub-0123456789abcdef", channel="email", target="reader@example.com", status="pending", created_at=None
    )
    runtime.repository().save_subscription(sub)
    return sub


def link_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def assert_html(reply: Reply, status: int, phrase: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("text/html")
    assert phrase in reply.body


def test_confirm_link_activates_the_subscription_and_forged_or_expired_links_are_refused(api: Api) -> None:
    sub, now = pending_email_subscription(), datetime.now(UTC)
    token = link_token(runtime.composer().confirm_url(sub, now))
    # Tamper with the MAC's first character: all its bits count (the last one's do not all).
    head, _, mac = token.rpartition(".")
    forged = f"{head}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}"
    assert_html(api.get("/confirm", query={"token": forged}, auth=None), 400, "not valid")
    expired = sign_token(runtime.token_key(), "confirm", sub.id, now - timedelta(days=8), timedelta(days=7))
    assert_html(api.get("/confirm", query={"token": expired}, auth=None), 400, "expired")
    assert runtime.repository().get_subscription(sub.id).status == "pending"  # type: ignore[union-attr]
    assert_html(api.post("/confirm", query={"token": token}, body="", auth=None), 200, "confirmed")
    assert runtime.repository().get_subscription(sub.id).status == "active"  # type: ignore[union-attr]
    assert_html(api.get("/confirm", auth=None), 400, "no token")


def test_opening_a_confirm_link_only_shows_a_button_that_posts(api: Api) -> None:
    sub, now = pending_email_subscription(), datetime.now(UTC)
    token = link_token(runtime.composer().confirm_url(sub, now))
    page = api.get("/confirm", query={"token": token, "utm_source": "mail"}, auth=None)
    assert_html(page, 200, '<form method="post">')
    assert "confirmed" not in page.body
    assert runtime.repository().get_subscription(sub.id).status == "pending"  # type: ignore[union-attr]


def test_confirming_an_unsubscribed_subscription_does_not_say_confirmed(api: Api) -> None:
    sub, now = pending_email_subscription(), datetime.now(UTC)
    token = link_token(runtime.composer().confirm_url(sub, now))
    api.delete(f"/subscriptions/{sub.id}")
    reply = api.post("/confirm", query={"token": token}, body="", auth=None)
    assert_html(reply, 409, "not confirmed")
    assert "Subscription confirmed" not in reply.body
    assert runtime.repository().get_subscription(sub.id).status == "unsubscribed"  # type: ignore[union-attr]


def test_one_click_unsubscribe_follows_rfc_8058(api: Api) -> None:
    sub, now = pending_email_subscription(), datetime.now(UTC)
    token = link_token(runtime.composer().unsubscribe_url(sub, now))
    page = api.get("/unsubscribe", query={"token": token, "utm_source": "mail"}, auth=None)
    assert_html(page, 200, 'name="List-Unsubscribe" value="One-Click"')
    assert runtime.repository().get_subscription(sub.id).status == "pending"  # type: ignore[union-attr]
    assert_html(api.post("/unsubscribe", query={"token": token}, body="", auth=None), 400, "One-Click")
    # A confirm token is not an unsubscribe token, and a signature from another key is a forgery.
    confirm_token = link_token(runtime.composer().confirm_url(sub, now))
    one_click = b"List-Unsubscribe=One-Click"
    assert_html(api.post("/unsubscribe", query={"token": confirm_token}, body=one_click, auth=None), 400, "purpose")
    forged = sign_token(b"k" * 32, "unsubscribe", sub.id, now, None)
    assert_html(api.post("/unsubscribe", query={"token": forged}, body=one_click, auth=None), 400, "signature")
    assert_html(api.post("/unsubscribe", query={"token": token}, body=one_click, auth=None), 200, "Unsubscribed")
    assert runtime.repository().get_subscription(sub.id).status == "unsubscribed"  # type: ignore[union-attr]
    assert_html(api.post("/unsubscribe", query={"token": token}, body=one_click, auth=None), 200, "Unsubscribed")


def test_sample_one_click_event_with_a_forged_token_changes_nothing(api_env: dict[str, str]) -> None:
    reply = load_handler("api").handler(load_event("api_unsubscribe_one_click.json"), FakeLambdaContext())
    assert reply["statusCode"] == 400 and "not valid" in reply["body"]


def test_a_run_whose_batches_never_finish_reads_as_expired(api: Api) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    runtime.repository().create_run("run-stuck", ["a", "b"], 2, long_ago)
    reply = api.get("/runs/run-stuck")
    assert reply.status == 200 and reply.json()["status"] == "expired"


def test_a_second_digest_sent_now_carries_only_what_is_new(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
        runtime.repository().save_story(story(1, datetime.now(UTC)), None)
        assert api.post(f"/subscriptions/{sub['id']}/digest").json()["outcome"] == "sent"
        first = json.dumps(slack.payloads("/hook/desk"))
        moved = api.get(f"/subscriptions/{sub['id']}").json()
        assert moved["last_digest_at"] != sub["last_digest_at"]  # the window moved as a scheduled send moves it
        assert api.post(f"/subscriptions/{sub['id']}/digest").json()["outcome"] == "sent"
        payloads = slack.payloads("/hook/desk")
    assert "Story 1" in first
    second = json.dumps(payloads[len(json.loads(first)) :])
    assert second and "Story 1" not in second


def test_digest_send_now_refuses_an_unsubscribed_subscription(api: Api) -> None:
    with SlackCatcher() as slack:
        sub = create_slack(api, slack)
        api.delete(f"/subscriptions/{sub['id']}")
        assert_error(api.post(f"/subscriptions/{sub['id']}/digest"), 409, "not_active", "status")
        assert slack.count() == 0


def test_add_feed_refuses_credentials_in_the_url_without_echoing_them(api: Api) -> None:
    reply = api.post("/feeds", json_body={"url": "http://alice:hunter2@127.0.0.1:9/feed.xml"})
    assert_error(reply, 400, "unsafe_url", "url")
    assert "hunter2" not in reply.body and "alice" not in reply.body
