"""Builds small RSS documents for tests, in our own words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    summary: str = ""
    age: timedelta = timedelta(minutes=30)


LAUNCH = Story(
    "test-launch-1",
    "North Korea fires ballistic missile into Sea of Japan",
    "North Korea launched a short-range ballistic missile off its east coast on Monday, "
    "South Korea's Joint Chiefs of Staff said.",
)
SANCTIONS = Story(
    "test-sanctions-1",
    "U.S. Treasury sanctions North Korean shipping firms over oil transfers",
    "The Treasury designated three companies accused of ship-to-ship transfers of oil "
    "in violation of UN sanctions on North Korea.",
)
WEATHER = Story("test-weather-1", "Typhoon brings heavy rain to Okinawa", "Flights were cancelled in Naha.")
MARKETS = Story("test-markets-1", "Nikkei closes higher on exporters", "The yen weakened against the dollar.")


def rss(stories: list[Story], now: datetime | None = None, title: str = "Test Wire") -> bytes:
    """An RSS 2.0 document with one <item> per story."""
    now = now or datetime.now(UTC)
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>https://news.example.com/{s.guid}</link>"
        f'<guid isPermaLink="false">{s.guid}</guid><description>{escape(s.summary)}</description>'
        f"<pubDate>{format_datetime(now - s.age)}</pubDate></item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example.com/</link>"
        f"<description>test</description>{items}</channel></rss>"
    ).encode()
