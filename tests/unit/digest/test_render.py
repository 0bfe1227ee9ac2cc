"""Digest and confirmation emails: golden output, escaping, and mail-client-safe HTML."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from tests.unit.digest.builders import (
    HOSTILE,
    NOW,
    UNSUBSCRIBE,
    WINDOW,
    assert_golden,
    sample_stories,
    story,
    subscription,
)
from wirewatch.digest.render import (
    RenderedEmail,
    describe_facts,
    environment,
    render_confirmation,
    render_email,
)
from wirewatch.models import Story, StorySource

VOID = {"meta", "br", "img", "hr", "link", "input"}


class Audit(HTMLParser):
    """Collects tags, attributes and nesting problems of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser


def assert_mail_safe(html: str) -> None:
    """No script, no event handlers, no external CSS, only http(s) links, balanced tags."""
    found = audit(html)
    assert "script" not in found.tags
    assert "link" not in found.tags and "style" not in found.tags
    assert not [name for name, _ in found.attributes if name.lower().startswith("on")]
    hrefs = [value or "" for name, value in found.attributes if name == "href"]
    assert all(href.startswith(("https://", "http://")) for href in hrefs), hrefs
    assert found.problems == [] and found.stack == []


def digest(stories: list[Story] | None = None, **changes: Any) -> RenderedEmail:
    return render_email(
        sample_stories() if stories is None else stories, subscription(**changes), WINDOW, UNSUBSCRIBE, NOW
    )


def test_digest_html_matches_golden() -> None:
    assert_golden("digest.html", digest().html)


def test_digest_text_matches_golden() -> None:
    assert_golden("digest.txt", digest().text)


def test_empty_digest_matches_golden() -> None:
    email = digest([])
    assert_golden("digest-empty.html", email.html)
    assert_golden("digest-empty.txt", email.text)
    assert "No new items" in email.text
    assert email.subject.startswith("[wirewatch] No new stories")


def test_confirmation_matches_golden() -> None:
    email = render_confirmation(subscription(status="pending"), "https://wirewatch.example/confirm?token=t.sig")
    assert_golden("confirmation.html", email.html)
    assert_golden("confirmation.txt", email.text)
    assert_mail_safe(email.html)


def test_digest_subject_names_the_top_story_and_the_rest() -> None:
    assert digest().subject == (
        "[wirewatch] URGENT: North Korea fires ICBM-class missile that falls inside Japan's EEZ (+2 more)"
    )


def test_digest_html_is_safe_for_mail_clients() -> None:
    email = digest()
    assert_mail_safe(email.html)
    assert "<script" not in email.html.lower()
    assert UNSUBSCRIBE.replace("&", "&amp;") in email.html


def test_each_story_shows_sources_facts_and_why_it_matched() -> None:
    email = digest()
    for body in (email.html, email.text):
        assert "ICBM · Hwasong-18 · 1 launched · apogee 6,000 km · 73 min flight · fell inside Japan" in body
        assert "北朝鮮がICBM級の弾道ミサイル発射" in body
        assert "https://news.example/kyodo-ja/2" in body
        assert "exclusive economic zone" in body
        assert "US Treasury · designated · targets: Firm A, Firm B" in body


def test_times_are_shown_in_the_subscribers_zone() -> None:
    assert "9 Jul 2025 08:00 – 10 Jul 2025 08:00 JST" in digest().text
    assert "8 Jul 2025 19:00 – 9 Jul 2025 19:00 EDT" in digest(timezone="America/New_York").text


@pytest.mark.parametrize(
    "hostile",
    [
        HOSTILE,
        '"><img src=x onerror=alert(1)>',
        "<a href='javascript:alert(1)'>x</a>",
        "Tom & Jerry <b>bold</b>",
    ],
)
def test_hostile_titles_are_escaped_in_html_and_kept_literal_in_text(hostile: str) -> None:
    bad = story(
        "st-bad",
        hostile,
        facts={"missile_name": hostile, "targets": [hostile]},
        sources=(StorySource("b-1", hostile, hostile, "javascript:alert(1)", NOW),),
        reason=hostile,
    )
    email = digest([bad])

    assert_mail_safe(email.html)
    found = audit(email.html)
    assert hostile in "".join(found.text)
    assert hostile in email.text


def test_javascript_links_are_never_rendered_as_links() -> None:
    bad = story("st-js", "Headline", sources=(StorySource("j", "Src", "Title", "javascript:alert(1)", NOW),))
    email = digest([bad])
    assert "javascript" not in email.html and "javascript" not in email.text


def test_control_characters_cannot_inject_headers_or_lines() -> None:
    sneaky = "Launch\r\nBcc: victim@example.org\u202eevil"
    email = digest([story("st-crlf", sneaky)])

    assert "\n" not in email.subject and "\r" not in email.subject
    assert not any(line.startswith("Bcc:") for line in email.text.splitlines())
    assert "\u202e" not in email.html + email.text


def test_unsubscribe_and_confirm_links_must_be_http_urls() -> None:
    with pytest.raises(ValueError, match="unsubscribe_url"):
        render_email([], subscription(), WINDOW, "javascript:alert(1)", NOW)
    with pytest.raises(ValueError, match="confirm_url"):
        render_confirmation(subscription(), "mailto:someone@example.org")


def test_environment_is_cached_strict_and_autoescapes_html_only() -> None:
    env = environment()
    assert env is environment()
    assert env.undefined is jinja2.StrictUndefined
    choose = env.autoescape
    assert callable(choose) and choose("digest.html") and not choose("digest.txt")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"missile_class": "srbm", "count": 3, "distance_km": 350.0}, ("SRBM", "3 launched", "flew 350 km")),
        ({"over_japan": True, "landed": "pacific"}, ("flew over Japan", "fell into the Pacific")),
        ({"landed": "off the coast of Aomori"}, ("fell off the coast of Aomori",)),
        ({"landed": "inside Japan's EEZ"}, ("fell inside Japan's EEZ",)),
        ({"landed": "Yellow Sea", "missile_class": "hypersonic"}, ("hypersonic missile", "fell into the Yellow Sea")),
        ({"landed": "Sea of Japan"}, ("fell into the Sea of Japan",)),
        ({"landed": "unclear"}, ("landed: unclear",)),
        (
            {"missile": {"missile_class": "ICBM"}, "sanctions": {"resolution": "2397"}},
            ("ICBM", "Resolution 2397"),
        ),
        ({"measures": [f"m{n}" for n in range(7)]}, ("measures: m0, m1, m2, m3, m4 +2 more",)),
        ({"count": "many", "over_japan": False, "event_date": "2025-07-09", "unknown": "x"}, ()),
    ],
)
def test_facts_are_described_in_human_words(facts: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert describe_facts(facts) == expected


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium when run as root)")
    return browser


# Test-only probe appended to a copy of the email: the email itself has no script (asserted above and below).
_LAYOUT_PROBE = (
    "<script>document.title = 'overflow=' + (document.documentElement.scrollWidth - window.innerWidth)"
    " + ';images=' + Array.from(document.images).filter(i => !i.complete).length;</script>"
)


@pytest.mark.parametrize("width", [375, 700])
def test_digest_html_renders_in_headless_chromium_without_breaking_the_layout(width: int) -> None:
    browser = _chromium()
    out = Path(__file__).resolve().parents[3] / "out" / "test-output"
    out.mkdir(parents=True, exist_ok=True)
    html = digest().html
    assert "<script" not in html.lower()
    page = out / "digest.html"
    page.write_text(html, encoding="utf-8")
    shot = out / f"digest-{width}.png"
    shot.unlink(missing_ok=True)
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},1400",
    ]
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], check=True, capture_output=True, timeout=60)
    assert shot.exists() and shot.stat().st_size > 1000

    probe = out / f"layout-probe-{width}.html"
    probe.write_text(html.replace("</body>", _LAYOUT_PROBE + "</body>"), encoding="utf-8")
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], check=True, capture_output=True, text=True, timeout=60)
    assert "<title>overflow=0;images=0</title>" in dom.stdout, f"page wider than a {width}px window"
