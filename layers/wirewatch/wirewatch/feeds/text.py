"""Turn feed markup into short clean plain text."""

from __future__ import annotations

import html
import re

_DROPPED_BLOCKS = re.compile(
    r"<(script|style|noscript|template|head)\b[^>]*>.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
# Tags that separate words when rendered; every other tag is removed without a space.
_BLOCK_TAGS = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header|footer|hr|img|"
    r"figure|figcaption|dd|dt|dl|pre)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![A-Za-z][^<>]*>|<\?[^<>]*>")
# Zero-width characters, soft hyphens and control characters that str.split() does not treat as space;
# bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE, the U+2066 isolates ...), which can make a title read
# backwards or hide text in a terminal, a mail client or Slack; C1 controls; unpaired surrogates.
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_INVISIBLE = dict.fromkeys(
    [
        *map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"),
        *range(0x00, 0x09),
        *range(0x0E, 0x1C),
        *range(0x7F, 0x85),
        *range(0x86, 0xA0),
        *_BIDI,
        *range(0xD800, 0xE000),
    ],
    None,
)
_TRAILING_PUNCT = " ,;:-–—([{"


def _strip_markup(text: str) -> str:
    text = _CDATA.sub(r"\1", text)
    text = _DROPPED_BLOCKS.sub(" ", text)
    text = _BLOCK_TAGS.sub(" ", text)
    return _TAG.sub("", text)


def _truncate(text: str, max_len: int) -> str:
    if max_len <= 1:
        return "…"[:max_len]
    cut = text[: max_len - 1]
    if not text[max_len - 1].isspace():
        space = cut.rfind(" ")
        if space > max_len // 2:
            cut = cut[:space]
    return cut.rstrip(_TRAILING_PUNCT) + "…"


def plain_line(value: str, max_len: int | None = None) -> str:
    """One printable line: control, bidi and invisible characters removed, whitespace folded (error texts)."""
    text = " ".join(value.translate(_INVISIBLE).split())
    if max_len is not None and len(text) > max_len:
        text = _truncate(text, max_len)
    return text


def clean_text(value: str, max_len: int | None = None) -> str:
    """Plain text from feed markup: tags dropped, entities decoded, whitespace folded, capped with '…'."""
    text = value
    # Feeds often escape their HTML twice (&amp;lt;b&amp;gt;): strip and decode until nothing changes.
    for _ in range(3):
        if "<" in text:
            text = _strip_markup(text)
        if "&" not in text:
            break
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    text = " ".join(text.translate(_INVISIBLE).split())
    if max_len is not None and len(text) > max_len:
        text = _truncate(text, max_len)
    return text
