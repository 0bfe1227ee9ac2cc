"""normalize_url and item_id."""

from __future__ import annotations

import pytest

from wirewatch.feeds.urls import item_id, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Reuters.COM/world/Asia?id=7", "https://www.reuters.com/world/Asia?id=7"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        (
            "https://example.com/a?utm_source=rss&id=5&UTM_Medium=x&fbclid=abc&b=2",
            "https://example.com/a?id=5&b=2",
        ),
        (
            "https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&ocid=4&cmpid=5&ref=6&ref_src=7",
            "https://example.com/a",
        ),
        ("https://example.com/a?z=1&a=2", "https://example.com/a?z=1&a=2"),
        ("https://example.com/a?q=a%20b&utm_term=x", "https://example.com/a?q=a%20b"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://example.com./a", "https://example.com/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_keeps_an_unparseable_url_minus_fragment() -> None:
    assert normalize_url("http://example.com:99999/a#x") == "http://example.com:99999/a"


def test_item_id_is_32_hex_chars_and_stable() -> None:
    first = item_id("kyodo-en-2025110500011", None)
    assert first == item_id("  kyodo-en-2025110500011 ", "https://other.example/")
    assert len(first) == 32
    assert int(first, 16) >= 0


def test_item_id_prefers_guid_over_link() -> None:
    assert item_id("guid-1", "https://example.com/a") != item_id("guid-2", "https://example.com/a")


def test_item_id_falls_back_to_normalised_link() -> None:
    assert item_id(None, "HTTPS://Example.com/a?utm_source=rss#top") == item_id(None, "https://example.com/a")
    assert item_id("   ", "https://example.com/a") == item_id(None, "https://example.com/a")


def test_item_id_without_guid_or_link_raises() -> None:
    with pytest.raises(ValueError, match="GUID or a link"):
        item_id(None, None)
    with pytest.raises(ValueError):
        item_id("  ", "")
