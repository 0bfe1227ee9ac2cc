"""The plain RSS/Atom reader gives exactly what feedparser gives, wherever it accepts a document."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.support.paths import BROKEN_FEEDS, DEMO_FEEDS, REALDATA
from wirewatch.feeds import parse
from wirewatch.feeds.parse import ParsedFeed, parse_feed
from wirewatch.feeds.plainxml import read_plain

HEADERS: tuple[Mapping[str, str], ...] = ({}, {"Content-Type": "application/rss+xml; charset=utf-8"})
DOCUMENTS = sorted(DEMO_FEEDS.glob("*.xml")) + sorted(BROKEN_FEEDS.iterdir()) + sorted(REALDATA.glob("*.xml"))


def feedparser_only(body: bytes, headers: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> ParsedFeed:
    with monkeypatch.context() as patch:
        patch.setattr(parse, "read_plain", lambda body, headers: None)
        return parse_feed(body, headers, "https://wire.example.com/feed.xml")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_both_readers_agree_on_every_document_the_plain_one_accepts(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = path.read_bytes()
    for headers in HEADERS:
        fast = parse_feed(body, headers, "https://wire.example.com/feed.xml")
        assert fast == feedparser_only(body, headers, monkeypatch)


def test_the_plain_reader_takes_the_common_wire_feeds() -> None:
    taken = [p.name for p in sorted(DEMO_FEEDS.glob("*.xml")) if read_plain(p.read_bytes(), {}) is not None]
    assert len(taken) >= 5  # RSS 2.0 and Atom in UTF-8


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"<rss version='2.0'><channel><item><title>x</title>", {}),  # truncated
        (b"<?xml version='1.0' encoding='ISO-8859-1'?><rss version='2.0'><channel/></rss>", {}),  # not UTF-8
        (b"<rss version='2.0'><channel/></rss>", {"content-type": "text/xml; charset=windows-1252"}),  # override
        (b"<rss version='2.0'><channel><item><link>/relative</link></item></channel></rss>", {}),
        (b"<rss version='2.0'><channel><item><guid>https://x.example/1</guid></item></channel></rss>", {}),
        (b"<rss version='2.0'><channel><item><pubDate>Seg, 24 Set 2018</pubDate></item></channel></rss>", {}),
        (b"<rss version='2.0'><channel><item><title>a <b>b</b></title></item></channel></rss>", {}),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>", {}),
    ],
    ids=["truncated", "latin1", "http-charset", "relative-link", "permalink-guid", "foreign-date", "markup", "rdf"],
)
def test_what_the_plain_reader_is_not_sure_of_goes_to_feedparser(body: bytes, headers: Mapping[str, str]) -> None:
    assert read_plain(body, headers) is None


def test_a_script_link_is_never_stored_as_a_link() -> None:
    body = (
        b"<rss version='2.0'><channel><title>W</title><item><guid isPermaLink='false'>g1</guid>"
        b"<title>North Korea fires missile</title><link>javascript:alert(1)</link></item></channel></rss>"
    )
    [entry] = parse_feed(body, {}, "https://wire.example.com/feed.xml").entries
    assert entry.guid == "g1" and entry.link is None
