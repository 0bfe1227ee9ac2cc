"""The living story through the `wirewatch` command: subscribe slack-app and webhook, poll, follow-up poll."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_web_api import SlackWebApi
from loopback.webhook_receiver import WebhookReceiver
from tests.integration.test_cli import as_json
from tests.support.rss import LAUNCH, Story, rss

pytestmark = pytest.mark.integration

TOKEN = "xoxb-cli-test-token-1"
CHANNEL = "C0CLITEST01"
CONFIRMED = Story(
    "test-launch-2",
    "Japan says North Korean ballistic missile fell inside its exclusive economic zone",
    "North Korea fired a short-range ballistic missile off its east coast on Monday that fell inside Japan's EEZ, "
    "Japan's defence ministry said.",
)


def wirewatch(*args: str, state: Path, slack: SlackWebApi) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env |= {"WIREWATCH_ALLOW_LOOPBACK": "1", "WIREWATCH_SLACK_API_URL": slack.base_url}
    return subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", *args, "--state", str(state)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_subscribe_both_channels_then_polls_thread_the_story(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with SlackWebApi() as slack, WebhookReceiver() as receiver, FeedServer() as feeds:
        slack.add_token(TOKEN)
        slack.add_channel(CHANNEL)
        prefs = ["--cadence", "immediate", "--min-severity", "normal", "--json"]
        app = as_json(wirewatch("subscribe", "slack-app", CHANNEL, "--token", TOKEN, *prefs, state=state, slack=slack))
        hook = as_json(wirewatch("subscribe", "webhook", receiver.url("/desk"), *prefs, state=state, slack=slack))
        assert app["status"] == "active" and TOKEN not in str(app)
        receiver.register("/desk", hook["signing_secret"])
        listed = wirewatch("subscriptions", state=state, slack=slack)
        assert TOKEN not in listed.stdout and hook["signing_secret"] not in listed.stdout

        feeds.route("/wire.xml", body=rss([LAUNCH]))
        feed_list = tmp_path / "feeds.txt"
        feed_list.write_text(feeds.url("/wire.xml") + "\n")
        first = wirewatch("poll", "--feeds", str(feed_list), state=state, slack=slack)
        assert first.returncode == 0, first.stderr
        feeds.route("/wire.xml", body=rss([LAUNCH, CONFIRMED]))
        second = wirewatch("poll", "--feeds", str(feed_list), "--force", state=state, slack=slack)
        assert second.returncode == 0, second.stderr
        again = wirewatch("poll", "--feeds", str(feed_list), "--force", state=state, slack=slack)
        assert again.returncode == 0, again.stderr

        parents = slack.parents(CHANNEL)
        events = receiver.events("/desk")

    assert len(parents) == 1
    replies = slack.replies(CHANNEL, parents[0].ts)
    assert len(replies) == 1, [r.text for r in replies]
    assert [e["type"] for e in events] == ["story.alert", "story.follow_up"]
