"""Parse fetched feed bytes into Entries (plain RSS/Atom by expat, the rest by feedparser); never raises."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wirewatch.feeds.plainxml import RawFeed, read_plain
from wirewatch.feeds.text import clean_text
from wirewatch.models import Entry

TITLE_MAX = 300

_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedFeed:
    """Entries of one feed document; error is set when the document was rejected (no entries)."""

    entries: tuple[Entry, ...]
    malformed: bool
    error: str | None
    title: str | None
    # Why the document was flagged malformed (its entries are still usable).
    detail: str | None = None


def _prolog(body: bytes) -> bytes:
    """Bytes before the root element, as UTF-8-ish bytes even for UTF-16 documents."""
    head = body
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
        try:
            head = body.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return body
    match = _FIRST_ELEMENT.search(head)
    return head[: match.start()] if match else head


def declares_entities(body: bytes) -> bool:
    """True when the document's DOCTYPE declares entities (entity-expansion / XXE vector)."""
    return _ENTITY_DECL.search(_prolog(body)) is not None


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        # feedparser's *_parsed values are already converted to UTC.
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _entry(raw: dict[str, Any], summary_max: int) -> Entry | None:
    guid = str(raw.get("id") or "").strip() or None
    link = str(raw.get("link") or "").strip() or None
    if link and not link.lower().startswith(("http://", "https://")):
        link = None  # a javascript:, data: or other scheme is never stored as a link
    if guid is None and link is None:
        return None
    summary = raw.get("summary") or ""
    if not summary and raw.get("content"):
        summary = raw["content"][0].get("value", "")
    return Entry(
        guid=guid,
        link=link,
        title=clean_text(str(raw.get("title") or ""), TITLE_MAX),
        summary=clean_text(str(summary), summary_max),
        # dict.get skips FeedParserDict's deprecated updated→published key aliasing (and its warning).
        published=_utc(dict.get(raw, "published_parsed")) or _utc(dict.get(raw, "updated_parsed")),
    )


def _feedparser_parse(body: bytes, headers: Mapping[str, str], url: str) -> Any:
    """feedparser on in-memory bytes (never a URL or path) with lowercased response headers."""
    import feedparser  # loaded only for the documents the plain reader leaves to it (~30 ms)

    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    # clean_text strips all markup afterwards, so feedparser's HTML sanitiser would be wasted work.
    return feedparser.parse(
        io.BytesIO(body), response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )


def _not_a_feed(body: bytes, headers: Mapping[str, str]) -> str:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if _HTML_START.match(body[:2048].lstrip(b"\xef\xbb\xbf")) or "html" in content_type.lower():
        return "not a feed: the document is an HTML page"
    return "not a feed: no RSS, Atom or RDF document found"


def parse_feed(body: bytes, headers: Mapping[str, str], url: str, *, summary_max: int = 500) -> ParsedFeed:
    """Entries of a feed document; never raises for a bad document."""
    if not body.strip():
        return ParsedFeed(entries=(), malformed=False, error="not a feed: empty body", title=None)
    if declares_entities(body):
        return ParsedFeed(entries=(), malformed=True, error="refused: the document declares XML entities", title=None)
    plain = read_plain(body, headers)
    if plain is not None:
        return _from_plain(plain, summary_max)
    import feedparser

    # Content-type or encoding complaints: the document itself parsed fine.
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    result = _feedparser_parse(body, headers, url)
    raw_entries = result.get("entries") or []
    if not result.get("version") and not raw_entries:
        return ParsedFeed(entries=(), malformed=False, error=_not_a_feed(body, headers), title=None)
    exc = result.get("bozo_exception")
    malformed = bool(result.get("bozo")) and not isinstance(exc, benign)
    detail = f"malformed feed: {clean_text(str(exc), 200)}" if malformed else None
    entries = tuple(e for e in (_entry(raw, summary_max) for raw in raw_entries) if e is not None)
    title = clean_text(str(result.get("feed", {}).get("title") or ""), TITLE_MAX) or None
    error = detail if malformed and not entries else None
    return ParsedFeed(entries=entries, malformed=malformed, error=error, title=title, detail=detail)


def _from_plain(feed: RawFeed, summary_max: int) -> ParsedFeed:
    """The ParsedFeed of a document the plain reader took: the same cleaning as feedparser's entries get."""
    entries = tuple(
        Entry(
            guid=e.guid,
            link=e.link,
            title=clean_text(e.title, TITLE_MAX),
            summary=clean_text(e.summary, summary_max),
            published=e.published,
        )
        for e in feed.entries
        if e.guid or e.link
    )
    return ParsedFeed(entries=entries, malformed=False, error=None, title=clean_text(feed.title, TITLE_MAX) or None)
