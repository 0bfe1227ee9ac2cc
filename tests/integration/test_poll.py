"""The poll use case end to end: loopback feed server → fetch → classify → moto DynamoDB over HTTP."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loopback.feed_server import FeedServer, Request, Response
from tests.support.aws import RequestCounter
from tests.support.rss import LAUNCH, MARKETS, SANCTIONS, WEATHER, Story, rss
from wirewatch import runtime
from wirewatch.models import Feed

pytestmark = pytest.mark.integration


@pytest.fixture()
def server() -> Any:
    with FeedServer() as srv:
        yield srv


def add_feed(server: FeedServer, path: str, feed_id: str | None = None, **kwargs: Any) -> Feed:
    feed = Feed(id=feed_id or path.strip("/").replace("/", "-"), url=server.url(path), name=f"Wire {path}", **kwargs)
    runtime.repository().add_feed(feed)
    return feed


def poll_all(now: datetime | None = None) -> Any:
    repo = runtime.repository()
    return runtime.run_poll(repo.list_feeds(), now=now)


def etag_route(body: bytes, etag: str = '"v1"') -> Any:
    def answer(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(headers={"ETag": etag, "Content-Type": "application/rss+xml"}, body=body)

    return answer


def test_poll_stores_each_new_item_with_one_put(aws_env: dict[str, str], server: FeedServer, dynamodb: Any) -> None:
    # Given a feed with two relevant and two ordinary items
    server.route("/wire.xml", body=rss([LAUNCH, SANCTIONS, WEATHER, MARKETS]))
    add_feed(server, "/wire.xml")
    counter = RequestCounter(dynamodb)
    # When it is polled
    report = poll_all()
    # Then every item is stored once, with exactly one PutItem per new item, and the relevant ones are indexed
    assert report.new_items == 4
    assert report.relevant_items == 2
    assert counter.puts["ITEM"] == 4
    assert counter.calls["BatchWriteItem"] == 1  # the feed's own state record, batched with other feeds
    assert counter.puts["STORY"] == 2  # each relevant item starts a story
    assert counter.calls["Scan"] == 0
    items = runtime.repository().relevant_items(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
    assert {i.title for i in items} == {LAUNCH.title, SANCTIONS.title}
    assert all(i.classification.evidence for i in items)


def test_poll_skips_items_already_seen(aws_env: dict[str, str], server: FeedServer, dynamodb: Any) -> None:
    # Given a feed without validators that was polled once
    server.route("/wire.xml", body=rss([LAUNCH, WEATHER]))
    add_feed(server, "/wire.xml")
    assert poll_all().new_items == 2
    # When it is polled again with one more item
    server.route("/wire.xml", body=rss([LAUNCH, WEATHER, MARKETS]))
    counter = RequestCounter(dynamodb)
    report = poll_all()
    # Then only the new item costs a write
    assert report.new_items == 1
    assert counter.puts["ITEM"] == 1


def test_unchanged_feed_costs_no_item_writes(aws_env: dict[str, str], server: FeedServer, dynamodb: Any) -> None:
    # Given a feed that answers 304 to its own ETag
    server.route("/wire.xml", etag_route(rss([LAUNCH, WEATHER])))
    add_feed(server, "/wire.xml")
    assert poll_all().new_items == 2
    counter = RequestCounter(dynamodb)
    # When it is polled again
    report = poll_all()
    # Then the conditional GET was sent, nothing was parsed or written but the feed's state
    assert server.requests_for("/wire.xml")[-1].headers["if-none-match"] == '"v1"'
    assert report.not_modified == 1 and report.new_items == 0
    assert counter.calls["BatchGetItem"] == 0
    assert counter.puts == {} and counter.calls["BatchWriteItem"] == 1  # feed state only


def test_item_repeated_across_feeds_is_stored_once(aws_env: dict[str, str], server: FeedServer) -> None:
    server.route("/a.xml", body=rss([LAUNCH, WEATHER]))
    server.route("/b.xml", body=rss([LAUNCH, MARKETS]))
    add_feed(server, "/a.xml")
    add_feed(server, "/b.xml")
    report = poll_all()
    assert report.new_items == 3


def test_overlapping_polls_store_each_item_once(aws_env: dict[str, str], server: FeedServer) -> None:
    # Given a slow feed, so two polls overlap in flight
    stories = [Story(f"overlap-{n}", f"Overlap story number {n}") for n in range(20)]
    server.route("/slow.xml", body=rss(stories), delay=0.3)
    feed = add_feed(server, "/slow.xml")
    reports: list[Any] = []

    def run() -> None:
        reports.append(runtime.run_poll([feed]))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then between them every item was stored exactly once
    assert sum(r.new_items for r in reports) == 20
    assert server.count("/slow.xml") == 2


@pytest.mark.parametrize(
    ("route", "expected_error"),
    [
        (Response(status=500, body=b"boom"), "500"),
        (
            Response(body=b"<html><body><h1>Welcome</h1></body></html>", headers={"Content-Type": "text/html"}),
            "not a feed",
        ),
        (Response(body=b""), "not a feed"),
        (Response(body=b"x" * 300_000), "too large"),
        (Response(delay=3.0, body=b"late"), "timed out"),
    ],
    ids=["server-error", "html-page", "empty-body", "oversized", "timeout"],
)
def test_broken_feed_is_recorded_and_others_go_on(
    aws_env: dict[str, str],
    server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    route: Response,
    expected_error: str,
) -> None:
    monkeypatch.setenv("WIREWATCH_MAX_BODY_BYTES", "200000")
    monkeypatch.setenv("WIREWATCH_FETCH_TIMEOUT", "1")
    runtime.reset()
    server.route("/broken.xml", route)
    server.route("/good.xml", body=rss([LAUNCH]))
    add_feed(server, "/broken.xml")
    add_feed(server, "/good.xml")
    report = poll_all()
    assert report.failed == 1 and report.new_items == 1
    broken = runtime.repository().get_feed("broken.xml")
    assert broken is not None
    assert broken.consecutive_failures == 1
    assert broken.last_error and expected_error in broken.last_error.lower()
    assert broken.next_attempt and broken.next_attempt > datetime.now(UTC)


def test_malformed_feed_yields_its_entries(aws_env: dict[str, str], server: FeedServer) -> None:
    body = rss([LAUNCH, WEATHER]).replace(b"</channel></rss>", b"<item><title>cut off")
    server.route("/malformed.xml", body=body)
    add_feed(server, "/malformed.xml")
    report = poll_all()
    assert report.new_items >= 2
    assert report.outcomes[0].malformed


def test_entity_bomb_is_refused_without_blowing_up(aws_env: dict[str, str], server: FeedServer) -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE rss [{lol}]><rss version="2.0"><channel><title>&lol9;</title>'
    server.route("/bomb.xml", body=(bomb + "</channel></rss>").encode())
    add_feed(server, "/bomb.xml")
    report = poll_all()
    assert report.new_items == 0
    assert report.failed == 1


def test_gone_feed_is_disabled_with_a_reason(aws_env: dict[str, str], server: FeedServer) -> None:
    server.route("/gone.xml", status=410, body=b"gone")
    add_feed(server, "/gone.xml")
    poll_all()
    feed = runtime.repository().get_feed("gone.xml")
    assert feed is not None and not feed.enabled
    assert feed.disabled_reason and "410" in feed.disabled_reason


def test_permanent_redirect_updates_the_stored_url(aws_env: dict[str, str], server: FeedServer) -> None:
    server.route("/old.xml", status=301, headers={"Location": server.url("/new.xml")})
    server.route("/new.xml", body=rss([LAUNCH]))
    add_feed(server, "/old.xml")
    report = poll_all()
    assert report.new_items == 1
    feed = runtime.repository().get_feed("old.xml")
    assert feed is not None and feed.url == server.url("/new.xml")


def test_rate_limited_feed_waits_for_retry_after(aws_env: dict[str, str], server: FeedServer) -> None:
    server.route("/busy.xml", status=429, headers={"Retry-After": "900"})
    add_feed(server, "/busy.xml")
    before = datetime.now(UTC)
    poll_all(now=before)
    feed = runtime.repository().get_feed("busy.xml")
    assert feed is not None and feed.next_attempt is not None
    assert feed.next_attempt >= before + timedelta(seconds=900)


def test_feed_recovers_after_failures(aws_env: dict[str, str], server: FeedServer) -> None:
    server.route("/flaky.xml", status=503, body=b"down")
    add_feed(server, "/flaky.xml")
    t0 = datetime.now(UTC)
    poll_all(now=t0)
    poll_all(now=t0 + timedelta(minutes=5))
    feed = runtime.repository().get_feed("flaky.xml")
    assert feed is not None and feed.consecutive_failures == 2
    # backoff doubles: the second wait is longer than the first
    assert feed.next_attempt is not None and feed.next_attempt - (t0 + timedelta(minutes=5)) >= timedelta(minutes=4)
    server.route("/flaky.xml", body=rss([LAUNCH]))
    report = poll_all(now=t0 + timedelta(hours=1))
    feed = runtime.repository().get_feed("flaky.xml")
    assert report.new_items == 1
    assert feed is not None and feed.consecutive_failures == 0 and feed.last_error is None


def test_first_poll_marks_old_items_as_seen_but_not_alertable(aws_env: dict[str, str], server: FeedServer) -> None:
    old = Story("old-launch", "North Korea fires two ballistic missiles toward the sea", age=timedelta(days=3))
    fresh = Story("fresh-launch", "North Korea launches ICBM, Japan issues J-Alert", age=timedelta(hours=1))
    server.route("/first.xml", body=rss([old, fresh]))
    add_feed(server, "/first.xml")
    report = poll_all()
    assert report.new_items == 2
    assert [i.title for i in report.new_relevant] == [fresh.title]
    stored = {
        i.title: i
        for i in runtime.repository().relevant_items(datetime.now(UTC) - timedelta(days=7), datetime.now(UTC))
    }
    assert stored[old.title].suppressed and not stored[fresh.title].suppressed


def test_loopback_feed_is_refused_unless_allowed(
    aws_env: dict[str, str], server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREWATCH_ALLOW_LOOPBACK", "0")
    runtime.reset()
    server.route("/local.xml", body=rss([LAUNCH]))
    add_feed(server, "/local.xml")
    report = poll_all()
    assert report.failed == 1
    assert server.count("/local.xml") == 0


def test_reclassify_shows_changes_and_writes_them_unless_dry_run(aws_env: dict[str, str], server: FeedServer) -> None:
    from wirewatch.models import Classification
    from wirewatch.usecases import reclassify

    # Given two stored items, classified by the current rules
    server.route("/wire.xml", body=rss([LAUNCH, WEATHER]))
    add_feed(server, "/wire.xml")
    poll_all()
    repo = runtime.repository()
    now = datetime.now(UTC)

    # When a rule change makes the weather story relevant and the launch irrelevant
    def changed_rules(title: str, summary: str, lang: str | None) -> Classification:
        return Classification(topics=("missile",), severity="normal") if "Typhoon" in title else Classification()

    examined, dry = reclassify(
        store=repo,
        classify=changed_rules,
        since=now - timedelta(days=1),
        now=now,
        settings=runtime.settings(),
        dry_run=True,
    )
    # Then the dry run lists both changes and writes nothing
    assert examined == 2
    assert {(c.item.title, c.gained, c.lost) for c in dry} == {
        (WEATHER.title, ("missile",), ()),
        (LAUNCH.title, (), ("missile",)),
    }
    assert [i.title for i in repo.relevant_items(now - timedelta(days=1), now)] == [LAUNCH.title]
    # And the real run moves the items in and out of the relevant index
    reclassify(
        store=repo,
        classify=changed_rules,
        since=now - timedelta(days=1),
        now=now,
        settings=runtime.settings(),
        dry_run=False,
    )
    assert [i.title for i in repo.relevant_items(now - timedelta(days=1), now)] == [WEATHER.title]
