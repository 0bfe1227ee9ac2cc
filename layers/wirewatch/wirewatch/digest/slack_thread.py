"""Block Kit for a living story's thread: the parent (kept current) and its follow-up replies (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wirewatch.digest.render import reader_zone, story_view
from wirewatch.digest.slack_blocks import EMOJI, escape_mrkdwn, slack_alert_message, slack_link

MAX_TEXT = 3000
_LINE_BUDGET = 600


def _fit(text: str, budget: int) -> str:
    """Escaped text within budget, cut on the raw side so no escape is ever broken."""
    escaped = escape_mrkdwn(text)
    while len(escaped) > budget and text:
        text = text[: max(0, len(text) - (len(escaped) - budget) - 1)].rstrip()
        escaped = escape_mrkdwn(text) + "…"
    return escaped


def thread_parent_message(story: Any, timezone: str = "UTC") -> dict[str, Any]:
    """The parent: the alert blocks plus a line with its source count and the latest facts."""
    message = slack_alert_message(story, timezone)
    view = story_view(story, reader_zone(timezone))
    count = len(view.sources)
    facts = ", ".join(view.facts[:6])
    line = f"{count} source{'s' if count != 1 else ''}" + (f" · latest: {facts}" if facts else "")
    blocks = [*message["blocks"], {"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(line, 1000)}]}]
    return {"text": message["text"], "blocks": blocks[:50]}


def thread_reply_message(story: Any, changes: Sequence[Any], timezone: str = "UTC") -> dict[str, Any]:
    """One follow-up gathering every change of one poll; each change is one escaped line."""
    emoji = EMOJI.get(story.severity, EMOJI["none"])
    lines: list[str] = []
    for change in changes:
        if change.kind == "source":
            label = f"{change.data.get('source', 'source')}: {change.data.get('title', '')}"
            lines.append("• New source: " + slack_link(str(change.data.get("link") or ""), label, _LINE_BUDGET))
        elif change.kind == "facts":
            lines.append("• Revised: " + _fit(change.text, _LINE_BUDGET))
        elif change.kind == "severity":
            lines.append(f"• {emoji} " + _fit(change.text.capitalize(), _LINE_BUDGET))
        else:
            lines.append("• Response: " + _fit(change.text.removeprefix("response: "), _LINE_BUDGET))
    blocks: list[dict[str, Any]] = []
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + 1 + len(line) > MAX_TEXT:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    kinds = ", ".join(dict.fromkeys(c.kind for c in changes))
    fallback = f"Update ({kinds}): " + _fit(story.headline, 200)
    return {"text": fallback, "blocks": blocks[:50]}
