"""The CLI's digest and feed flows run the same use cases as the API (regressions of issues 11 and 13)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loopback.slack_catcher import SlackCatcher
from tests.integration.test_cli import as_json, wirewatch
from wirewatch.models import Story, StorySource

pytestmark = pytest.mark.integration


def _story(n: int, seen: datetime) -> Story:
    source = StorySource(f"item{n:03d}", "Test Wire", f"Story {n}", f"https://news.example.com/{n}", seen)
    return Story(
        id=f"story{n:03d}",
        headline=f"Story {n}",
        topics=("missile",),
        severity="high",
        severity_reason="test",
        first_seen=seen,
        last_seen=seen,
        sources=(source,),
    )


def _save_story(state: Path, story: Story) -> None:
    from wirewatch.adapters.local.sqlite import SqliteStore

    SqliteStore(state / "wirewatch.db").save_story(story, None)


def test_a_second_digest_sent_now_carries_only_what_is_new(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with SlackCatcher() as slack:
        sub = as_json(wirewatch("subscribe", "slack", slack.url("/hook/desk"), "--json", state=state))
        _save_story(state, _story(1, datetime.now(UTC)))
        first = wirewatch("digest", "--send", "--subscription", sub["id"], state=state)
        assert first.returncode == 0 and first.stdout.strip() == f"{sub['id']}: sent", first.stderr
        sent_first = len(slack.payloads("/hook/desk"))
        second = wirewatch("digest", "--send", "--subscription", sub["id"], state=state)
        assert second.returncode == 0, second.stderr
        payloads = slack.payloads("/hook/desk")
    assert "Story 1" in json.dumps(payloads[:sent_first])
    assert payloads[sent_first:] and "Story 1" not in json.dumps(payloads[sent_first:])


@pytest.mark.parametrize("status", ["unsubscribed", "pending"])
def test_digest_send_refuses_a_subscription_that_is_not_active(tmp_path: Path, status: str) -> None:
    state = tmp_path / "state"
    with SlackCatcher() as slack:
        if status == "pending":
            sub = as_json(wirewatch("subscribe", "email", "reader@example.com", "--json", state=state))
        else:
            sub = as_json(wirewatch("subscribe", "slack", slack.url("/hook/desk"), "--json", state=state))
            assert wirewatch("unsubscribe", sub["id"], state=state).returncode == 0
        sent = wirewatch("digest", "--send", "--subscription", sub["id"], state=state)
        assert slack.count() == 0
    assert sent.returncode == 1 and "Traceback" not in sent.stderr
    assert f"is {status}; only active subscriptions get digests" in sent.stderr


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["http://10.0.0.7/feed.xml"], "private address"),
        (["http://169.254.169.254/latest/meta-data/"], "cloud metadata"),
        (["http://alice:hunter2@127.0.0.1:9/feed.xml"], "credentials are refused"),
        (["http://127.0.0.1:9/feed.xml", "--id", "../../x"], "id: must be lowercase letters"),
        (["http://127.0.0.1:9/feed.xml", "--language", "english!"], "language: must be a language tag"),
        (["#x"], "only http and https URLs"),
        (["[[feed]]"], "only http and https URLs"),
    ],
    ids=["private", "metadata", "credentials", "path-id", "language", "hash", "feed-list-syntax"],
)
def test_feeds_add_refuses_what_the_api_refuses(tmp_path: Path, args: list[str], phrase: str) -> None:
    state = tmp_path / "state"
    added = wirewatch("feeds", "add", *args, state=state)
    assert added.returncode == 2, added.stdout
    assert phrase in added.stderr and "Traceback" not in added.stderr
    assert "hunter2" not in added.stderr + added.stdout
    assert as_json(wirewatch("feeds", "--json", state=state)) == []


def test_feeds_add_of_a_plain_url_adds_exactly_that_url_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    url = "http://127.0.0.1:9/feed.xml?a=1#frag"
    first = wirewatch("feeds", "add", url, "--language", "ja", state=state)
    again = wirewatch("feeds", "add", url, state=state)
    assert first.returncode == 0 and first.stdout.startswith("added: "), first.stderr
    assert again.returncode == 0 and again.stdout.startswith("already present: ")
    [feed] = as_json(wirewatch("feeds", "--json", state=state))
    assert feed["url"] == url and feed["language"] == "ja" and feed["name"] == "127.0.0.1"
