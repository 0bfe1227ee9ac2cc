"""Feed lists: the project's TOML config, OPML, or one URL per line."""

from __future__ import annotations

import hashlib
import re
import tomllib
import xml.etree.ElementTree as ET
from importlib import resources
from urllib.parse import urlsplit

from wirewatch.models import Feed

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class FeedListError(ValueError):
    """A feed list could not be read; the message names the entry."""


def feed_id_for_url(url: str) -> str:
    """Deterministic id for a feed added by URL: host slug plus a short hash."""
    host = (urlsplit(url).hostname or "feed").removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")[:40]
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def parse_feed_list(text: str) -> list[Feed]:
    """Read feeds from TOML ([[feed]] tables), OPML (<outline xmlUrl=...>) or plain URL lines."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return _from_opml(text)
    if "[[feed]]" in text:
        return _from_toml(text)
    return _from_lines(text)


def default_feeds() -> list[Feed]:
    """The bundled initial feed list (Kyodo, Reuters, Yonhap, NHK World, The Japan Times)."""
    return _from_toml(resources.files("wirewatch").joinpath("data/feeds.toml").read_text("utf-8"))


def _feed(url: str, name: str | None, language: str | None, feed_id: str | None, where: str) -> Feed:
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise FeedListError(f"{where}: not an http(s) URL: {url!r}")
    fid = feed_id or feed_id_for_url(url)
    if not _ID_RE.match(fid):
        raise FeedListError(f"{where}: bad feed id {fid!r} (lowercase letters, digits and dashes)")
    return Feed(id=fid, url=url, name=(name or urlsplit(url).hostname or fid), language=language or "en")


def _from_toml(text: str) -> list[Feed]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FeedListError(f"feed list is not valid TOML: {exc}") from exc
    feeds = []
    for index, entry in enumerate(data.get("feed", []), start=1):
        if not isinstance(entry, dict) or "url" not in entry:
            raise FeedListError(f"[[feed]] #{index}: missing url")
        feeds.append(
            _feed(
                str(entry["url"]),
                entry.get("name"),
                entry.get("language"),
                entry.get("id"),
                f"[[feed]] #{index}",
            )
        )
    return _unique(feeds)


def _from_opml(text: str) -> list[Feed]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FeedListError(f"OPML is not well-formed: {exc}") from exc
    feeds = []
    for index, outline in enumerate(root.iter("outline"), start=1):
        url = outline.get("xmlUrl")
        if url:
            name = outline.get("title") or outline.get("text")
            feeds.append(_feed(url, name, outline.get("language"), None, f"outline #{index}"))
    return _unique(feeds)


def _from_lines(text: str) -> list[Feed]:
    feeds = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            feeds.append(_feed(line, None, None, None, f"line {number}"))
    return _unique(feeds)


def _unique(feeds: list[Feed]) -> list[Feed]:
    seen: dict[str, Feed] = {}
    for feed in feeds:
        seen.setdefault(feed.id, feed)
    return list(seen.values())
