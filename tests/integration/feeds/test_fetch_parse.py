"""Our fixture feeds and broken documents served over loopback, fetched and parsed end to end."""

from __future__ import annotations

import pytest

from loopback.feed_server import FeedServer
from tests.support.paths import BROKEN_FEEDS, DEMO_FEEDS
from wirewatch.feeds.fetch import FetchLimits, fetch_all_sync
from wirewatch.feeds.parse import parse_feed
from wirewatch.models import Feed

pytestmark = pytest.mark.integration

LIMITS = FetchLimits(allow_loopback=True, connect_timeout=1.0, total_timeout=3.0)


def test_fixture_feeds_fetch_and_parse() -> None:
    paths = sorted(DEMO_FEEDS.glob("*.xml"))
    with FeedServer() as server:
        for path in paths:
            server.route(f"/{path.name}", body=path.read_bytes(), headers={"Content-Type": "application/rss+xml"})
        feeds = [Feed(id=p.stem, url=server.url(f"/{p.name}"), name=p.stem) for p in paths]
        results = fetch_all_sync(feeds, LIMITS)
    parsed = {r.feed_id: parse_feed(r.body, r.headers, r.url) for r in results}
    assert all(r.outcome == "ok" for r in results)
    assert {k: (len(v.entries), v.error) for k, v in parsed.items()} == {
        "japantimes": (6, None),
        "kyodo_en": (8, None),
        "kyodo_ja": (6, None),
        "nhk_world": (6, None),
        "reuters_world": (10, None),
        "yonhap_nk": (7, None),
    }


@pytest.mark.parametrize(
    ("name", "content_type", "error", "entries"),
    [
        ("html_page.html", "text/html; charset=utf-8", "not a feed: the document is an HTML page", 0),
        ("entity_bomb.xml", "application/rss+xml", "refused: the document declares XML entities", 0),
        ("truncated_rss.xml", "application/rss+xml", None, 2),
        ("latin1_no_declaration.xml", "text/xml", None, 2),
    ],
)
def test_broken_documents_become_flagged_results(name: str, content_type: str, error: str | None, entries: int) -> None:
    with FeedServer() as server:
        server.route("/feed", body=(BROKEN_FEEDS / name).read_bytes(), headers={"Content-Type": content_type})
        (result,) = fetch_all_sync([Feed(id="f", url=server.url("/feed"), name="f")], LIMITS)
    parsed = parse_feed(result.body, result.headers, result.url)
    assert (result.outcome, parsed.error, len(parsed.entries)) == ("ok", error, entries)
