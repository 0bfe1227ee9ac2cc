"""parse_feed over our fixture feeds and the broken documents a feed server can send."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.paths import BROKEN_FEEDS, DEMO_FEEDS
from wirewatch.feeds.parse import ParsedFeed, _feedparser_parse, declares_entities, parse_feed
from wirewatch.feeds.urls import item_id

RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}

# file → (entries, title)
EXPECTED = {
    "kyodo_en.xml": (8, "Kyodo News - Latest"),
    "kyodo_ja.xml": (6, "共同通信 ニュース"),
    "reuters_world.xml": (10, "Reuters: World News"),
    "yonhap_nk.xml": (7, "Yonhap News Agency - North Korea"),
    "nhk_world.xml": (6, "NHK WORLD-JAPAN News"),
    "japantimes.xml": (6, "The Japan Times"),
}


def parse_fixture(path: Path, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(path.read_bytes(), headers or RSS_HEADERS, f"https://feeds.example.com/{path.name}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_feeds_parse_cleanly(name: str) -> None:
    parsed = parse_fixture(DEMO_FEEDS / name)
    count, title = EXPECTED[name]
    assert (len(parsed.entries), parsed.title, parsed.malformed, parsed.error) == (count, title, False, None)
    for entry in parsed.entries:
        assert entry.title and entry.summary and entry.link and entry.guid
        assert "<" not in entry.summary and "&#" not in entry.summary
        assert entry.published is not None and entry.published.tzinfo == UTC
    assert len({item_id(e.guid, e.link) for e in parsed.entries}) == count


def test_every_fixture_feed_is_listed() -> None:
    assert {p.name for p in DEMO_FEEDS.glob("*.xml")} == set(EXPECTED)


def test_rss_entry_fields() -> None:
    entry = parse_fixture(DEMO_FEEDS / "kyodo_en.xml").entries[1]
    assert entry.guid == "kyodo-en-2025110500024"
    assert entry.link == (
        "https://english.kyodonews.net/news/2025/11/0f9e8d7c6b5a-update2-n-korea-icbm-class-missile-eez.html"
    )
    assert entry.title == "UPDATE2: N. Korea's missile was ICBM-class, fell inside Japan EEZ off Hokkaido"
    # pubDate is +0900; stored in UTC.
    assert entry.published == datetime(2025, 11, 5, 0, 5, tzinfo=UTC)
    # CDATA paragraphs become one line of text.
    assert "the defense minister said, calling it a possible intercontinental ballistic missile. Tokyo" in (
        entry.summary
    )


def test_double_escaped_entities_are_decoded() -> None:
    entry = parse_fixture(DEMO_FEEDS / "kyodo_en.xml").entries[0]
    assert "Japan’s exclusive economic zone" in entry.summary


def test_atom_entries_use_published_and_strip_html_summary() -> None:
    entry = parse_fixture(DEMO_FEEDS / "yonhap_nk.xml", {"Content-Type": "application/atom+xml"}).entries[0]
    assert entry.guid == entry.link == "https://en.yna.co.kr/view/AEN20251105000252315"
    assert entry.published == datetime(2025, 11, 4, 22, 15, tzinfo=UTC)
    assert "The military has stepped up surveillance in close coordination" in entry.summary


def test_rdf_entries_use_dc_date() -> None:
    entry = parse_fixture(DEMO_FEEDS / "nhk_world.xml").entries[0]
    assert entry.published == datetime(2025, 11, 4, 23, 40, tzinfo=UTC)
    assert entry.guid == entry.link


def test_japanese_feed_keeps_its_text() -> None:
    entry = parse_fixture(DEMO_FEEDS / "kyodo_ja.xml").entries[0]
    assert entry.title == "北朝鮮が弾道ミサイル発射 日本のEEZ内に落下か、防衛省"
    assert "排他的経済水域" in entry.summary


def test_summary_is_capped() -> None:
    parsed = parse_feed((DEMO_FEEDS / "kyodo_en.xml").read_bytes(), RSS_HEADERS, "https://x.example/", summary_max=60)
    assert all(len(e.summary) <= 60 for e in parsed.entries)
    assert parsed.entries[0].summary.endswith("…")


def test_malformed_feed_yields_the_entries_it_has_flagged() -> None:
    parsed = parse_fixture(BROKEN_FEEDS / "truncated_rss.xml")
    assert parsed.malformed is True
    assert parsed.error is None
    assert parsed.detail is not None and parsed.detail.startswith("malformed feed:")
    # A permalink GUID (no isPermaLink="false") is a URL to feedparser, so a relative one is resolved.
    assert [e.guid for e in parsed.entries][:1] == ["https://feeds.example.com/wire-2025-11-05-001"]


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>/news/1</link></item></channel></rss>'
    )
    parsed = parse_feed(body, {}, "https://wire.example.com/rss.xml")
    assert parsed.entries[0].link == "https://wire.example.com/news/1"


def test_html_page_is_not_a_feed() -> None:
    parsed = parse_fixture(BROKEN_FEEDS / "html_page.html", {"Content-Type": "text/html; charset=utf-8"})
    assert parsed.entries == ()
    assert parsed.error == "not a feed: the document is an HTML page"


def test_html_page_without_content_type_is_not_a_feed() -> None:
    parsed = parse_feed((BROKEN_FEEDS / "html_page.html").read_bytes(), {}, "https://x.example/")
    assert parsed.error is not None and parsed.error.startswith("not a feed:")


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xef\xbb\xbf"[0:0]])
def test_empty_body_is_not_a_feed(body: bytes) -> None:
    parsed = parse_feed(body, RSS_HEADERS, "https://x.example/")
    assert (parsed.entries, parsed.error) == ((), "not a feed: empty body")


@pytest.mark.parametrize("body", [b"plain text, no markup", b'{"json": "document"}', b"<?xml version='1.0'?><root/>"])
def test_documents_without_a_feed_are_not_feeds(body: bytes) -> None:
    parsed = parse_feed(body, {"Content-Type": "application/xml"}, "https://x.example/")
    assert parsed.entries == ()
    assert parsed.error == "not a feed: no RSS, Atom or RDF document found"


def test_entity_bomb_is_refused_before_expansion() -> None:
    body = (BROKEN_FEEDS / "entity_bomb.xml").read_bytes()
    parsed = parse_feed(body, RSS_HEADERS, "https://x.example/")
    assert parsed.entries == ()
    assert parsed.error == "refused: the document declares XML entities"


@pytest.mark.parametrize("name", ["entity_bomb.xml", "external_entity.xml"])
def test_feedparser_alone_neither_expands_nor_resolves_entities(name: str) -> None:
    # Defence in depth: even without our pre-check, feedparser strips the DOCTYPE entities and expat
    # (>= 2.4) limits amplification, so memory and time stay small and no file is read.
    body = (BROKEN_FEEDS / name).read_bytes()
    tracemalloc.start()
    try:
        result = _feedparser_parse(body, RSS_HEADERS, "https://x.example/")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    text = repr(result.get("entries")) + repr(result.get("feed"))
    assert "lollollol" not in text
    assert "root:" not in text


def test_external_entity_document_is_refused() -> None:
    parsed = parse_fixture(BROKEN_FEEDS / "external_entity.xml")
    assert parsed.entries == ()
    assert parsed.error == "refused: the document declares XML entities"


def test_entity_declarations_in_utf16_are_detected() -> None:
    body = (BROKEN_FEEDS / "entity_bomb.xml").read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert declares_entities(body.encode("utf-16"))


def test_plain_doctype_without_entities_is_accepted() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>t</title>'
        b"<item><title>a</title><link>https://x.example/a</link></item></channel></rss>"
    )
    assert not declares_entities(body)
    assert len(parse_feed(body, {}, "https://x.example/").entries) == 1


def test_entity_text_inside_an_item_is_not_a_declaration() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>XML tips</title><link>https://x.example/a</link>'
        b"<description><![CDATA[Never trust <!ENTITY declarations]]></description></item></channel></rss>"
    )
    parsed = parse_feed(body, {}, "https://x.example/")
    assert parsed.error is None
    assert len(parsed.entries) == 1


def test_latin1_without_declaration_is_decoded() -> None:
    parsed = parse_feed((BROKEN_FEEDS / "latin1_no_declaration.xml").read_bytes(), {}, "https://x.example/")
    assert len(parsed.entries) == 2
    assert parsed.entries[0].title == "Coreia do Norte dispara míssil balístico, diz Japão"
    assert parsed.title == "Notícias do Mundo"


def test_charset_from_headers_is_used() -> None:
    body = (
        '<rss version="2.0"><channel><title>Été</title><item><title>Señal</title>'
        "<link>https://x.example/a</link></item></channel></rss>"
    ).encode("latin-1")
    parsed = parse_feed(body, {"Content-Type": "application/rss+xml; charset=ISO-8859-1"}, "https://x.example/")
    assert parsed.entries[0].title == "Señal"
    assert parsed.title == "Été"


def test_entries_without_guid_or_link_are_skipped_and_missing_dates_are_none() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>no id</title></item>'
        b"<item><title>dated nothing</title><guid isPermaLink='false'>g-1</guid></item></channel></rss>"
    )
    parsed = parse_feed(body, {}, "https://x.example/")
    assert [(e.guid, e.link, e.published) for e in parsed.entries] == [("g-1", None, None)]


def test_parse_never_treats_the_body_as_a_url_or_path() -> None:
    parsed = parse_feed(b"https://169.254.169.254/latest/meta-data/", {}, "https://x.example/")
    assert parsed.entries == ()
    assert parsed.error is not None and parsed.error.startswith("not a feed:")
