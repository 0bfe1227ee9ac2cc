"""Slack Block Kit payloads built as data, with every untrusted string mrkdwn-escaped (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wirewatch.digest.render import (
    StoryView,
    format_time,
    format_window,
    reader_zone,
    safe_url,
    story_view,
)
from wirewatch.models import Story

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_URL = 600
# Budgets per line of a story section; together they stay under MAX_TEXT.
_HEADLINE_BUDGET = 1200
_FACTS_BUDGET = 800
_WHY_BUDGET = 700
_STORY_BLOCKS = 3
_HEAD_BLOCKS = 3
EMOJI = {
    "urgent": ":rotating_light:",
    "high": ":warning:",
    "normal": ":small_blue_diamond:",
    "none": ":white_small_square:",
}

Block = dict[str, Any]


# mrkdwn has no backslash escape, so formatting characters from feed text become look-alikes that
# Slack does not parse: no *bold*, _italic_, ~strike~ or `code` a headline did not ask for.
_FORMATTING = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def escape_mrkdwn(text: str) -> str:
    """Text Slack shows literally: &, < and > escaped (no mentions, links or <!channel> pings), and
    the formatting characters * _ ~ ` replaced by look-alikes (∗ ˍ ∼ ˋ)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_FORMATTING)


def _fit(raw: str, budget: int) -> str:
    """Escaped text no longer than `budget`, cutting the raw text (never an escape) when needed."""
    text = escape_mrkdwn(raw)
    if budget < 1:
        return ""
    while len(text) > budget:
        raw = raw[: max(0, len(raw) - (len(text) - budget) - 1)].rstrip()
        text = escape_mrkdwn(raw) + "…"
    return text


def slack_link(url: str | None, label: str, budget: int = _HEADLINE_BUDGET) -> str:
    """`<url|label>` for an http(s) URL, else the escaped label alone.

    In the URL, & < > are entity-escaped, as Slack asks, so they reach the browser as the characters
    they were; only | (which would start the label) is percent-encoded.
    """
    target = safe_url(url)
    if target is not None:
        target = target.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "%7C")
    # A link needs room for the URL, "<|>" and at least a few characters of label.
    if target is None or len(target) > MAX_URL or len(target) + 13 > budget:
        return _fit(label, budget)
    return f"<{target}|{_fit(label, budget - len(target) - 3)}>"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _story_section(view: StoryView) -> Block:
    lines = [
        f"{EMOJI[view.severity]} *{view.severity_label}* · {_fit(view.topics, 100)}",
        f"*{slack_link(view.url, view.headline)}*",
    ]
    if view.facts:
        lines.append(_fit(" · ".join(view.facts), _FACTS_BUDGET))
    why = ", ".join(f"“{term}”" for term in view.terms)
    if view.reason:
        why = f"{why} · {view.reason}" if why else view.reason
    if why:
        lines.append("_Why it matched:_ " + _fit(why, _WHY_BUDGET))
    return {"type": "section", "text": _mrkdwn("\n".join(lines))}


def _sources_context(view: StoryView) -> Block:
    lines: list[str] = []
    used = 0
    for index, source in enumerate(view.sources):
        line = f"{slack_link(source.url, source.name, 400)}: {_fit(source.title, 600)} · {source.published}"
        remaining = len(view.sources) - index
        reserve = len(f"\n…and {remaining} more") if remaining > 1 else 0
        if used + len(line) + 1 + reserve > MAX_TEXT:
            lines.append(f"…and {remaining} more")
            break
        lines.append(line)
        used += len(line) + 1
    return {"type": "context", "elements": [_mrkdwn("\n".join(lines) or "no sources")]}


def _story_blocks(view: StoryView) -> list[Block]:
    return [_story_section(view), _sources_context(view)]


def _message(text: str, blocks: list[Block]) -> dict[str, Any]:
    return {"text": text, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def slack_digest_messages(
    stories: Sequence[Story],
    window: tuple[datetime, datetime],
    now: datetime,
    timezone: str = "UTC",
) -> list[dict[str, Any]]:
    """A digest as one or more webhook payloads, each within Slack's block and text limits."""
    zone: ZoneInfo = reader_zone(timezone)
    window_text = escape_mrkdwn(format_window(window, zone))
    views = [story_view(story, zone) for story in stories]
    per_message = (MAX_BLOCKS - _HEAD_BLOCKS) // _STORY_BLOCKS
    chunks = [views[i : i + per_message] for i in range(0, len(views), per_message)] or [[]]
    total = len(chunks)
    count = f"{len(views)} new {'story' if len(views) == 1 else 'stories'}"
    messages: list[dict[str, Any]] = []
    for number, chunk in enumerate(chunks, start=1):
        part = f" · part {number} of {total}" if total > 1 else ""
        blocks: list[Block] = []
        if number == 1:
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": "wirewatch digest"}})
        blocks.append({"type": "context", "elements": [_mrkdwn(f"{count} · {window_text}{part}")]})
        if not chunk:
            blocks.append({"type": "section", "text": _mrkdwn("No new items matched in this period.")})
        for view in chunk:
            blocks.extend([{"type": "divider"}, *_story_blocks(view)])
        if number == total:
            generated = escape_mrkdwn(format_time(now, zone))
            blocks.append({"type": "context", "elements": [_mrkdwn(f"Generated {generated}")]})
        messages.append(_message(f"wirewatch digest: {count} ({window_text}){part}", blocks))
    return messages


def slack_alert_message(story: Story, timezone: str = "UTC") -> dict[str, Any]:
    """An immediate alert for one story, with a plain `text` fallback for notifications."""
    view = story_view(story, reader_zone(timezone))
    fallback = f"{view.severity_label}: {_fit(view.headline, 300)}"
    return _message(fallback, _story_blocks(view))
