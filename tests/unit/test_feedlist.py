"""Feed lists in the three accepted formats."""

from __future__ import annotations

import pytest

from wirewatch.feedlist import FeedListError, default_feeds, feed_id_for_url, parse_feed_list


def test_plain_lines_skip_comments_and_blank_lines() -> None:
    feeds = parse_feed_list("# wires\n\nhttps://a.example.com/rss\nhttps://b.example.com/atom.xml\n")
    assert [f.url for f in feeds] == ["https://a.example.com/rss", "https://b.example.com/atom.xml"]
    assert feeds[0].id == feed_id_for_url("https://a.example.com/rss")


def test_opml_outlines_with_xml_url_become_feeds() -> None:
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Asia">'
        '<outline text="Wire A" xmlUrl="https://a.example.com/rss"/>'
        '<outline text="Folder only"/></outline></body></opml>'
    )
    feeds = parse_feed_list(opml)
    assert [(f.name, f.url) for f in feeds] == [("Wire A", "https://a.example.com/rss")]


def test_toml_keeps_ids_names_and_languages() -> None:
    feeds = parse_feed_list(
        '[[feed]]\nid = "wire-ja"\nname = "ワイヤー"\nurl = "https://a.example.com/ja.xml"\nlanguage = "ja"\n'
    )
    assert (feeds[0].id, feeds[0].name, feeds[0].language) == ("wire-ja", "ワイヤー", "ja")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://example.com/x\n", r"line 1: not an http\(s\) URL"),
        ("[[feed]]\nname = 'no url'\n", "missing url"),
        ("[[feed]]\nid = 'Bad Id!'\nurl = 'https://a.example.com/'\n", "bad feed id"),
        ("<opml><body><outline", "OPML is not well-formed"),
    ],
)
def test_bad_lists_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(FeedListError, match=message):
        parse_feed_list(text)


def test_duplicates_are_dropped_and_ids_are_stable() -> None:
    feeds = parse_feed_list("https://a.example.com/rss\nhttps://a.example.com/rss\n")
    assert len(feeds) == 1
    assert feed_id_for_url("https://www.a.example.com/rss") == feed_id_for_url("https://www.a.example.com/rss")


def test_default_feed_list_covers_the_wires() -> None:
    ids = {f.id for f in default_feeds()}
    assert {"kyodo-en", "kyodo-ja", "reuters-world", "yonhap-nk", "nhk-world", "japantimes"} <= ids
    assert all(f.url.startswith("https://") for f in default_feeds())
