"""The slack-app sender against the loopback Slack Web API: pacing, splitting, hostile text."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from loopback.slack_web_api import ApiAnswer, SlackWebApi
from tests.support.living_story import flash, grow, source
from wirewatch.delivery.slack_app import SlackAppSender, SlackAppTarget, split_message
from wirewatch.digest.slack_thread import thread_parent_message, thread_reply_message
from wirewatch.usecases.threads import follow_up_due, snapshot

pytestmark = pytest.mark.integration

TARGET = SlackAppTarget("C0DESK00001", "xoxb-test-token-1234")
HOSTILE = "<!channel> <@U123> <https://evil.example|click> *bold* _it_ `code` &amp; " + "x" * 5000


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture()
def slack() -> Iterator[SlackWebApi]:
    with SlackWebApi() as api:
        api.add_token(TARGET.token)
        api.add_channel(TARGET.channel)
        yield api


def _sender(slack: SlackWebApi, time: VirtualTime) -> SlackAppSender:
    return SlackAppSender(base_url=slack.base_url, sleep=time.sleep, clock=lambda: time.now)


def test_posts_to_one_channel_are_paced_to_about_one_a_second(slack: SlackWebApi) -> None:
    time = VirtualTime()
    sender = _sender(slack, time)
    for n in range(3):
        assert sender.post(TARGET, {"text": f"message {n}"}).ok
    assert time.sleeps == pytest.approx([1.0, 1.0])


def test_msg_too_long_is_split_into_parts_in_the_same_thread_never_dropped(slack: SlackWebApi) -> None:
    time = VirtualTime()
    text = " ".join(f"word{n}" for n in range(9000))  # ~70,000 characters: over Slack's 40,000
    result = _sender(slack, time).post(TARGET, {"text": text})
    assert result.ok
    [parent] = slack.parents(TARGET.channel)
    assert result.provider_id == parent.ts
    parts = [parent, *slack.replies(TARGET.channel, parent.ts)]
    assert len(parts) >= 2
    assert " ".join(p.text for p in parts).split() == text.split()


def test_a_queued_msg_too_long_splits_the_blocks(slack: SlackWebApi) -> None:
    time = VirtualTime()
    slack.queue("chat.postMessage", ApiAnswer.fail("msg_too_long"))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"part {n}"}} for n in range(4)]
    assert _sender(slack, time).post(TARGET, {"text": "fallback", "blocks": blocks}).ok
    [parent] = slack.parents(TARGET.channel)
    shown = parent.blocks + [b for r in slack.replies(TARGET.channel, parent.ts) for b in r.blocks]
    assert shown == blocks


def test_split_message_never_cuts_an_escape_or_a_link() -> None:
    text = "&amp; <https://a.example|link> " * 50
    first, second = split_message({"text": text})
    assert (first["text"] + " " + second["text"]).split() == text.split()
    for part in (first["text"], second["text"]):
        assert part.count("<") == part.count(">")


def test_a_server_error_is_retried_and_a_permanent_one_is_named(slack: SlackWebApi) -> None:
    time = VirtualTime()
    sender = _sender(slack, time)
    slack.queue("chat.postMessage", ApiAnswer(error="internal_error", status=500))
    assert sender.post(TARGET, {"text": "hi"}).ok
    slack.queue("chat.postMessage", ApiAnswer.fail("is_archived"))
    result = sender.post(TARGET, {"text": "hi"})
    assert (result.status, result.detail, result.permanent) == ("failed", "is_archived", True)


def test_a_retry_after_beyond_the_cap_is_left_to_the_next_run(slack: SlackWebApi) -> None:
    time = VirtualTime()
    slack.queue("chat.postMessage", ApiAnswer.rate_limited(120))
    result = _sender(slack, time).post(TARGET, {"text": "hi"})
    assert (result.status, result.retry_after) == ("retry", 120.0)
    assert slack.parents(TARGET.channel) == []


def test_hostile_item_text_reaches_no_block_kit_field_unescaped(slack: SlackWebApi) -> None:
    # Given a story whose headline, source name, title, link and facts are hostile
    story = grow(
        flash(),
        minutes=10,
        add=source(2, "<!here> Wire", HOSTILE, link="https://x.example/a?b=<c>|d"),
        missile_class="<!channel> ICBM",
        landed="<@U999> somewhere",
    )
    story = story.__class__(**{**story.__dict__, "headline": HOSTILE})
    follow_up = follow_up_due(snapshot(flash()), story)
    assert follow_up is not None
    time = VirtualTime()
    sender = _sender(slack, time)

    # When the parent and the reply are posted
    parent = sender.post(TARGET, thread_parent_message(story))
    reply = sender.post(TARGET, thread_reply_message(story, follow_up.changes), thread_ts=parent.provider_id)

    # Then Slack accepted both, and no text anywhere carries a mention, a ping or an injected link
    assert parent.ok and reply.ok
    for message in slack.parents(TARGET.channel) + slack.replies(TARGET.channel, str(parent.provider_id)):
        dumped = message.text + json.dumps(message.blocks, ensure_ascii=False)
        for bad in ("<!channel>", "<!here>", "<@U", "<https://evil.example", "*bold*", "`code`"):
            assert bad not in dumped
        assert len(message.text) < 4000
