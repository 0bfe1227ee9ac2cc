"""One failing subscriber never costs another its alert, and what was not sent stays pending (issue 13, finding 7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_catcher import SlackCatcher
from tests.support.rss import Story, rss
from tests.support.subscriptions import subscribe_slack
from wirewatch import runtime
from wirewatch.models import Feed, Subscription

pytestmark = pytest.mark.integration

ICBM = Story(
    "isolation-icbm",
    "North Korea fires ICBM over Japan, J-Alert issued",
    "The missile flew over Hokkaido and fell into the Pacific, Japan's defense ministry said.",
    age=timedelta(minutes=5),
)


@pytest.fixture()
def slack() -> Iterator[SlackCatcher]:
    with SlackCatcher() as catcher:
        yield catcher


def test_an_email_that_cannot_be_sent_leaves_the_slack_alert_sent_and_itself_pending(
    delivery_env: dict[str, str], slack: SlackCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an http link base, which SES refuses for real mail (RFC 8058 wants https)
    monkeypatch.setenv("WIREWATCH_PUBLIC_URL", "http://127.0.0.1:3000")
    runtime.reset()
    now = datetime.now(UTC)
    desk = subscribe_slack(slack.url("/hook/desk"), cadence="immediate")
    analyst = Subscription(
        id="sub-analyst",
        channel="email",
        target="analyst@example.com",
        cadence="immediate",
        status="active",
        created_at=now,
    )
    runtime.repository().save_subscription(analyst)
    with FeedServer() as server:
        server.route("/wire.xml", body=rss([ICBM]))
        runtime.repository().add_feed(Feed(id="wire", url=server.url("/wire.xml"), name="Test Wire"))
        runtime.run_poll(runtime.repository().list_feeds(), now=now)

    # When the alert step runs, and runs again
    [first] = runtime.run_pending_alerts(now)
    [second] = runtime.run_pending_alerts(now + timedelta(minutes=2))

    # Then the desk got its alert once, and the analyst's is pending, not lost, not failed
    assert (first.sent, first.failed, first.pending) == (1, 0, (analyst.id,))
    assert (second.sent, second.skipped, second.pending) == (0, 1, (analyst.id,))
    assert len(slack.payloads("/hook/desk")) == 1
    assert runtime.repository().get_subscription(analyst.id).status == "active"  # type: ignore[union-attr]
    [entry] = runtime.repository().deliveries(analyst.id)
    assert entry["status"] == "retry" and "https" in entry["detail"]
    assert desk.id != analyst.id

    # And once the setting is fixed, the next run sends it
    monkeypatch.setenv("WIREWATCH_PUBLIC_URL", "https://wirewatch.example.com")
    runtime.reset()
    [third] = runtime.run_pending_alerts(now + timedelta(minutes=4))
    assert (third.sent, third.pending) == (1, ())
    assert runtime.repository().get_story(third.story_id).alerted  # type: ignore[union-attr]
