"""clean_text: markup, entities, whitespace, truncation."""

from __future__ import annotations

import pytest

from wirewatch.feeds.text import clean_text, plain_line


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>North <b>Korea</b> fires</p><p>missile</p>", "North Korea fires missile"),
        ("a<br/>b", "a b"),
        ("<script>alert('x')</script>Launch <style>p{}</style>report", "Launch report"),
        ("<!-- note -->Seoul", "Seoul"),
        ("AT&amp;T &quot;quoted&quot; &#8217; &#x2019;", 'AT&T "quoted" ’ ’'),
        ("&amp;lt;b&amp;gt;Bold&amp;lt;/b&amp;gt; claim", "Bold claim"),
        ("&lt;p&gt;escaped once&lt;/p&gt;", "escaped once"),
        ("tabs\tand\nnew\r\nlines  and\u00a0nbsp&nbsp;too", "tabs and new lines and nbsp too"),
        ("zero\u200bwidth\x00control", "zerowidthcontrol"),
        ("1 &lt; 2 and 3 &gt; 2", "1 < 2 and 3 > 2"),
        ("", ""),
        ("<![CDATA[inside cdata]]>", "inside cdata"),
        ("北朝鮮が　弾道ミサイル発射", "北朝鮮が 弾道ミサイル発射"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_text_cuts_at_a_word_boundary_with_ellipsis() -> None:
    text = "North Korea fired a ballistic missile toward the Sea of Japan on Wednesday"
    cut = clean_text(text, max_len=30)
    assert cut == "North Korea fired a ballistic…"
    assert len(cut) <= 30


def test_clean_text_cuts_a_long_unbroken_word() -> None:
    cut = clean_text("x" * 100, max_len=10)
    assert cut == "x" * 9 + "…"


def test_clean_text_leaves_short_text_alone() -> None:
    assert clean_text("short", max_len=5) == "short"


def test_clean_text_handles_unclosed_script_without_hanging() -> None:
    assert clean_text("before<script>never closed " + "x" * 10_000) == "before"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Missile \u202egnirif\u202c test", "Missile gnirif test"),
        ("\u2066isolated\u2069 \u2067rtl\u2069 \u2068first\u2069", "isolated rtl first"),
        ("marks\u200e\u200f\u061c gone", "marks gone"),
        ("c1\u0085next\u009bcontrols\u0080", "c1 nextcontrols"),
        ("esc\x1b[31mred", "esc[31mred"),
        ("lone \ud800surrogate", "lone surrogate"),
    ],
)
def test_bidi_and_control_characters_never_reach_stored_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_plain_line_makes_an_error_text_one_printable_line() -> None:
    assert plain_line("550 5.1.1 \u202euser unknown\r\n\x1b[2Jgone\u2066", 200) == "550 5.1.1 user unknown [2Jgone"
    assert plain_line("x" * 50, 10) == "xxxxxxxxx…"


def test_views_print_failure_reasons_and_feed_errors_as_plain_lines() -> None:
    from wirewatch.models import Feed, Subscription
    from wirewatch.views import feed_view, subscription_view

    sub = Subscription(id="s1", channel="email", target="a@example.com", failure_reason="bounced\u202e\r\n\x1b[2Jx")
    assert subscription_view(sub)["failure_reason"] == "bounced [2Jx"
    feed = Feed(id="f1", url="https://example.com/rss", name="f1", last_error="HTTP 500 \u2066oops\u2069\x00")
    assert feed_view(feed)["health"]["last_error"] == "HTTP 500 oops"
