"""Slack Block Kit payloads: golden output, mrkdwn escaping and Slack's size limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.unit.digest.builders import HOSTILE, NOW, WINDOW, assert_golden, sample_stories, story
from wirewatch.digest.slack_blocks import (
    MAX_BLOCKS,
    MAX_TEXT,
    escape_mrkdwn,
    slack_alert_message,
    slack_digest_messages,
    slack_link,
)
from wirewatch.models import StorySource


def texts(message: dict[str, Any]) -> Iterator[str]:
    """Every text string in a payload: the fallback, section texts and context elements."""
    yield message["text"]
    for block in message["blocks"]:
        if "text" in block:
            yield block["text"]["text"]
        for element in block.get("elements", []):
            yield element["text"]


def dump(payload: object) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def test_digest_messages_match_golden() -> None:
    assert_golden("slack-digest.json", dump(slack_digest_messages(sample_stories(), WINDOW, NOW, "Asia/Tokyo")))


def test_alert_message_matches_golden() -> None:
    assert_golden("slack-alert.json", dump(slack_alert_message(sample_stories()[0])))


def test_empty_digest_is_one_no_new_items_message() -> None:
    messages = slack_digest_messages([], WINDOW, NOW)
    assert len(messages) == 1
    assert any("No new items" in text for text in texts(messages[0]))


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<https://evil|click>", "&lt;https://evil|click&gt;"),
        ("AT&T", "AT&amp;T"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_escape_mrkdwn(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


def test_hostile_titles_arrive_as_literal_text() -> None:
    bad = story(
        "st-bad",
        HOSTILE,
        facts={"missile_name": HOSTILE},
        reason=HOSTILE,
        sources=(StorySource("b", HOSTILE, HOSTILE, "https://news.example/a", NOW),),
    )
    payloads = [*slack_digest_messages([bad], WINDOW, NOW), slack_alert_message(bad)]
    for payload in payloads:
        for text in texts(payload):
            for live in ("<!channel>", "<@U123>", "<https://evil", "<script>", " & "):
                assert live not in text
        assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; co" in "".join(texts(payload))


def test_links_only_for_http_urls_with_separators_made_harmless() -> None:
    # Slack decodes &amp; &lt; &gt; in a link target: the URL a reader opens keeps its < and > as they were.
    assert slack_link("https://a.example/x?a=1&b=<2>|3", "t") == "<https://a.example/x?a=1&amp;b=&lt;2&gt;%7C3|t>"
    assert slack_link("javascript:alert(1)", "<t>") == "&lt;t&gt;"
    assert slack_link("ftp://a.example/file", "t") == "t"
    assert slack_link(None, "t") == "t"


def test_two_hundred_stories_split_within_slack_limits() -> None:
    stories = [
        story(f"st-{n:03}", f"Story {n} & more <details>", last_seen=NOW - timedelta(minutes=n), severity="high")
        for n in range(200)
    ]
    messages = slack_digest_messages(stories, WINDOW, NOW)

    assert len(messages) > 1
    for number, message in enumerate(messages, start=1):
        assert len(message["blocks"]) <= MAX_BLOCKS
        assert message["text"] and f"part {number} of {len(messages)}" in message["text"]
        assert all(len(text) <= MAX_TEXT for text in texts(message))
    shown = [s for m in messages for b in m["blocks"] if b["type"] == "section" for s in [b["text"]["text"]]]
    assert len(shown) == 200
    assert all(f"Story {n} &amp; more &lt;details&gt;" in section for n, section in enumerate(shown))


def test_oversized_story_is_cut_to_fit_without_breaking_escapes() -> None:
    sources = tuple(
        StorySource(f"s{n}", f"Source {n}", "&" * 500, f"https://news.example/{n}", NOW) for n in range(300)
    )
    huge = story(
        "st-huge",
        "<&>" * 5000,
        facts={"targets": ["&" * 200] * 50, "missile_name": "<" * 2000},
        reason=">" * 5000,
        sources=sources,
    )
    for payload in [*slack_digest_messages([huge], WINDOW, NOW), slack_alert_message(huge)]:
        assert len(payload["blocks"]) <= MAX_BLOCKS
        for text in texts(payload):
            assert len(text) <= MAX_TEXT
            assert "<&" not in text and "&>" not in text
        assert any("more" in text for text in texts(payload))


@pytest.mark.parametrize("length", [10, 390, 395, 400, 590, 600, 601, 5000])
def test_long_source_urls_never_overflow_or_hang(length: int) -> None:
    url = "https://news.example/" + "a" * length
    sources = (StorySource("s", "Wire & Co", "Title", url, NOW),)
    message = slack_alert_message(story("st-url", "Headline", sources=sources))
    assert all(len(text) <= MAX_TEXT for text in texts(message))
    context = message["blocks"][1]["elements"][0]["text"]
    assert context.startswith(f"<{url}|Wire &amp; Co>") or context.startswith("Wire &amp; Co: ")


def test_every_message_has_a_text_fallback_and_disables_unfurling() -> None:
    for payload in [
        *slack_digest_messages(sample_stories(), WINDOW, NOW),
        slack_alert_message(sample_stories()[0]),
    ]:
        assert payload["text"].strip()
        assert payload["unfurl_links"] is False and payload["unfurl_media"] is False


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("*Breaking* news", "\u2217Breaking\u2217 news"),
        ("_quietly_ fired", "\u02cdquietly\u02cd fired"),
        ("~not~ a test", "\u223cnot\u223c a test"),
        ("`code` and ```block```", "\u02cbcode\u02cb and \u02cb\u02cb\u02cbblock\u02cb\u02cb\u02cb"),
        ("<!channel> *now*", "&lt;!channel&gt; \u2217now\u2217"),
    ],
)
def test_feed_text_cannot_format_a_slack_message(raw: str, shown: str) -> None:
    assert escape_mrkdwn(raw) == shown


def test_a_headline_with_formatting_characters_stays_plain_inside_our_bold() -> None:
    message = slack_alert_message(story("st-fmt", "*URGENT* _all_ `hands` ~now~", severity="urgent"))
    section = message["blocks"][0]["text"]["text"]
    headline = section.splitlines()[1]
    # Our own bold wraps the line; nothing from the feed opens or closes another span.
    assert headline.startswith("*") and headline.endswith("*")
    assert not any(mark in headline[1:-1] for mark in "*_~`")
