"""Digest and confirmation emails rendered from jinja2 templates (pure: `now` is an argument)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from wirewatch.models import Story, Subscription, flatten_facts

TEMPLATES = Path(__file__).parent / "templates"
MAX_HEADLINE = 300
MAX_TERMS = 5
MAX_LIST_FACT = 5

SEVERITY_LABELS = {"urgent": "URGENT", "high": "HIGH", "normal": "NORMAL", "none": "LOW"}
SEVERITY_COLORS = {"urgent": "#b91c1c", "high": "#c2410c", "normal": "#1d4ed8", "none": "#6b7280"}
TOPIC_LABELS = {"missile": "Missiles", "sanctions": "Sanctions"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")
# scheme, optional userinfo, a non-empty host (name or [IPv6]), optional port, then anything but spaces
_HTTP_URL = re.compile(r"(?i)https?://(?:[^/?#\s@]*@)?(?:\[[0-9a-f:.]+\]|[^/?#\s:@\[\]]+)(?::\d*)?(?:[/?#]\S*)?")
_ACRONYM_CLASSES = frozenset({"icbm", "irbm", "mrbm", "srbm", "slbm", "sam"})
_LANDED = {
    "inside_eez": "fell inside Japan's EEZ",
    "in_eez": "fell inside Japan's EEZ",
    "eez": "fell inside Japan's EEZ",
    "japan_eez": "fell inside Japan's EEZ",
    "outside_eez": "fell outside Japan's EEZ",
    "sea_of_japan": "fell into the Sea of Japan",
    "east_sea": "fell into the Sea of Japan",
    "pacific": "fell into the Pacific",
    "yellow_sea": "fell into the Yellow Sea",
    "japan_territory": "fell on Japanese territory",
    "unknown": "",
}
_PREPOSITIONS = ("in ", "inside ", "outside ", "into ", "off ", "near ", "within ", "beyond ", "short of ")


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email: subject line, HTML body and its plain-text alternative."""

    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class SourceView:
    """One source line as shown to a reader."""

    name: str
    title: str
    url: str | None
    published: str
    language: str


@dataclass(frozen=True)
class StoryView:
    """A story prepared for display: every string is cleaned but not yet escaped."""

    id: str
    headline: str
    url: str | None
    severity: str
    severity_label: str
    badge_color: str
    topics: str
    facts: tuple[str, ...]
    terms: tuple[str, ...]
    reason: str
    sources: tuple[SourceView, ...]
    updated: str


# ------------------------------------------------------------------------------------------- helpers


def clean_text(text: str, limit: int | None = None) -> str:
    """Untrusted text on one line: control and bidi characters removed, whitespace collapsed, truncated."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    if limit is not None and len(flat) > limit:
        return flat[: limit - 1].rstrip() + "…"
    return flat


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without whitespace or control characters, else None."""
    if not url or _CONTROL.search(url) or _HTTP_URL.fullmatch(url) is None:
        return None
    return url


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() or value >= 100 else f"{value:,.1f}"


def _missile_class(value: str) -> str:
    text = clean_text(value, 40)
    lower = text.lower()
    if lower in _ACRONYM_CLASSES:
        return text.upper()
    if lower in ("cruise", "ballistic", "hypersonic"):
        return f"{lower} missile"
    if lower == "satellite":
        return "satellite launch"
    return text


def _landed(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    if key in _LANDED:
        return _LANDED[key]
    text = clean_text(value.replace("_", " "), 80)
    return f"fell {text}" if text.lower().startswith(_PREPOSITIONS) else f"landed: {text}"


def _listed(value: Any) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    names = [clean_text(str(v), 60) for v in values if v not in (None, "")]
    shown = ", ".join(names[:MAX_LIST_FACT])
    return shown + (f" +{len(names) - MAX_LIST_FACT} more" if len(names) > MAX_LIST_FACT else "")


def describe_facts(facts: Mapping[str, Any]) -> tuple[str, ...]:
    """Extracted facts in reader's words, e.g. ("ICBM", "Hwasong-18", "1 launched", "flew over Japan")."""
    flat = flatten_facts(facts)
    parts: list[str] = []
    if isinstance(flat.get("missile_class"), str):
        parts.append(_missile_class(flat["missile_class"]))
    if isinstance(flat.get("missile_name"), str):
        parts.append(clean_text(flat["missile_name"], 60))
    count = _number(flat.get("count"))
    if count is not None and count >= 1:
        parts.append(f"{_amount(count)} launched")
    if isinstance(flat.get("launch_site"), str):
        parts.append(f"from {clean_text(flat['launch_site'], 60)}")
    distance = _number(flat.get("distance_km"))
    if distance:
        parts.append(f"flew {_amount(distance)} km")
    apogee = _number(flat.get("apogee_km"))
    if apogee:
        parts.append(f"apogee {_amount(apogee)} km")
    minutes = _number(flat.get("flight_time_min"))
    if minutes:
        parts.append(f"{_amount(minutes)} min flight")
    if flat.get("over_japan") is True:
        parts.append("flew over Japan")
    landed = _landed(flat.get("landed"))
    if landed:
        parts.append(landed)
    if isinstance(flat.get("body"), str):
        parts.append(clean_text(flat["body"], 80))
    if isinstance(flat.get("action"), str):
        parts.append(clean_text(flat["action"], 80))
    resolution = flat.get("resolution")
    if isinstance(resolution, str | int) and not isinstance(resolution, bool):
        text = clean_text(str(resolution), 40)
        parts.append(f"Resolution {text}" if text.isdigit() else text)
    if flat.get("measures"):
        parts.append(f"measures: {_listed(flat['measures'])}")
    if flat.get("targets"):
        parts.append(f"targets: {_listed(flat['targets'])}")
    return tuple(part for part in parts if part)


def matched_terms(story: Story, limit: int = MAX_TERMS) -> tuple[str, ...]:
    """The strongest distinct evidence texts that made the story match."""
    terms: dict[str, None] = {}
    for evidence in sorted(story.evidence, key=lambda ev: -ev.weight):
        text = clean_text(evidence.text, 60)
        if text and text.lower() not in (t.lower() for t in terms):
            terms[text] = None
        if len(terms) >= limit:
            break
    return tuple(terms)


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as "5 Mar 2024 08:12 JST" in the reader's time zone."""
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def format_window(window: tuple[datetime, datetime], zone: ZoneInfo) -> str:
    """A digest window as "5 Mar 2024 08:00 – 6 Mar 2024 08:00 JST"."""
    since, until = (moment.astimezone(zone) for moment in window)
    start = f"{since.day} {since:%b %Y %H:%M}"
    if since.tzname() != until.tzname():
        start += f" {since.tzname()}"
    return f"{start} – {format_time(until, zone)}"


def reader_zone(name: str) -> ZoneInfo:
    """The subscriber's time zone, or UTC when the stored name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def story_view(story: Story, zone: ZoneInfo) -> StoryView:
    """Display-ready fields of one story."""
    sources = tuple(
        SourceView(
            name=clean_text(source.source, 60) or "source",
            title=clean_text(source.title, MAX_HEADLINE),
            url=safe_url(source.link),
            published=format_time(source.published, zone),
            language=clean_text(source.language, 8),
        )
        for source in sorted(story.sources, key=lambda s: (s.published, s.item_id))
    )
    url = next((source.url for source in sources if source.url), None)
    severity = story.severity if story.severity in SEVERITY_LABELS else "none"
    return StoryView(
        id=story.id,
        headline=clean_text(story.headline, MAX_HEADLINE) or "(untitled)",
        url=url,
        severity=severity,
        severity_label=SEVERITY_LABELS[severity],
        badge_color=SEVERITY_COLORS[severity],
        topics=" · ".join(TOPIC_LABELS.get(t, clean_text(t, 30)) for t in story.topics),
        facts=describe_facts(story.facts),
        terms=matched_terms(story),
        reason=clean_text(story.severity_reason, 120),
        sources=sources,
        updated=format_time(story.last_seen, zone),
    )


def _require_url(url: str, what: str) -> str:
    checked = safe_url(url)
    if checked is None:
        raise ValueError(f"{what} must be an absolute http(s) URL")
    return checked


# ------------------------------------------------------------------------------------------ rendering


@cache
def environment() -> jinja2.Environment:
    """The shared template environment (HTML autoescaped, undefined names are errors)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(name).render(**context)


def _subject(views: Sequence[StoryView], window_text: str) -> str:
    if not views:
        return f"[wirewatch] No new stories ({window_text})"
    top = views[0]
    prefix = "URGENT: " if top.severity == "urgent" else ""
    more = f" (+{len(views) - 1} more)" if len(views) > 1 else ""
    return f"[wirewatch] {prefix}{clean_text(top.headline, 120)}{more}"


def render_email(
    stories: Sequence[Story],
    sub: Subscription,
    window: tuple[datetime, datetime],
    unsubscribe_url: str,
    now: datetime,
) -> RenderedEmail:
    """The digest email for `sub` (subject, HTML, text); no stories gives the "no new items" variant."""
    zone = reader_zone(sub.timezone)
    views = [story_view(story, zone) for story in stories]
    window_text = format_window(window, zone)
    context = {
        "stories": views,
        "count": len(views),
        "urgent": sum(1 for v in views if v.severity == "urgent"),
        "window": window_text,
        "generated": format_time(now, zone),
        "topics": " and ".join(TOPIC_LABELS.get(t, clean_text(t, 30)) for t in sub.topics).lower(),
        "cadence": clean_text(sub.cadence, 20),
        "min_severity": clean_text(sub.min_severity, 20),
        "unsubscribe_url": _require_url(unsubscribe_url, "unsubscribe_url"),
    }
    return RenderedEmail(
        subject=_subject(views, window_text),
        html=_render("digest.html", context),
        text=_render("digest.txt", context),
    )


def render_confirmation(sub: Subscription, confirm_url: str) -> RenderedEmail:
    """The double opt-in email asking the subscriber to confirm with a signed link."""
    context = {
        "confirm_url": _require_url(confirm_url, "confirm_url"),
        "topics": " and ".join(TOPIC_LABELS.get(t, clean_text(t, 30)) for t in sub.topics).lower(),
        "cadence": clean_text(sub.cadence, 20),
        "daily_at": clean_text(sub.daily_at, 10),
        "timezone": clean_text(sub.timezone, 60),
        "min_severity": clean_text(sub.min_severity, 20),
    }
    return RenderedEmail(
        subject="[wirewatch] Please confirm your subscription",
        html=_render("confirmation.html", context),
        text=_render("confirmation.txt", context),
    )
