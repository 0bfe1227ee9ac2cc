"""Adding a feed: one flow for the CLI and the API, with the same id, language and SSRF checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from wirewatch.errors import ValidationError
from wirewatch.feedlist import feed_id_for_url
from wirewatch.models import Feed

FEED_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})?")
MAX_URL = 2048


class FeedAdder(Protocol):
    def add_feed(self, feed: Feed) -> bool: ...


# Raises ValueError (feeds.ssrf.UnsafeUrlError) unless the URL is plain http(s) to public addresses only.
UrlCheck = Callable[[str], object]


@dataclass(frozen=True)
class FeedRequest:
    url: str
    name: str | None = None
    language: str = "en"
    id: str | None = None


class UnsafeFeedUrl(ValidationError):
    """A feed URL refused before any connection (the message never shows credentials)."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


def add_feed(request: FeedRequest, *, catalog: FeedAdder, check_url: UrlCheck) -> tuple[Feed, bool]:
    """Check and add one feed; (feed, False) when a feed with its id exists already (nothing is changed)."""
    url = request.url.strip()
    if len(url) > MAX_URL:
        raise ValidationError("url", f"at most {MAX_URL} characters")
    # Before anything can echo the URL: a user:password@ in it is a secret, and is never fetched.
    if "@" in url.partition("://")[2].split("/", 1)[0]:
        raise UnsafeFeedUrl("URLs with credentials are refused")
    if not LANGUAGE.fullmatch(request.language):
        raise ValidationError("language", "must be a language tag such as en or ja")
    feed_id = request.id or feed_id_for_url(url)
    if not FEED_ID.fullmatch(feed_id):
        raise ValidationError("id", "must be lowercase letters, digits and dashes")
    try:
        check_url(url)
    except ValueError as exc:
        raise UnsafeFeedUrl(str(exc)) from exc
    feed = Feed(id=feed_id, url=url, name=request.name or urlsplit(url).hostname or feed_id, language=request.language)
    return feed, catalog.add_feed(feed)
