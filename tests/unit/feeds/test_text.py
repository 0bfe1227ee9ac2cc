"""clean_text: markup, entities, whitespace, truncation."""

from __future__ import annotations

import time

import pytest

from wirewatch.feeds.text import clean_text


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


def test_clean_text_is_fast_enough_for_thousands_of_items() -> None:
    summary = "<p>" + "North Korea &amp; sanctions <b>update</b>&nbsp;" * 40 + "</p>"
    started = time.perf_counter()
    for _ in range(2000):
        clean_text(summary, max_len=500)
    # Generous bound: the point is no pathological regex, not a benchmark.
    assert time.perf_counter() - started < 5.0
