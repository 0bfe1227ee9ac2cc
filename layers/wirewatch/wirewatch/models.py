"""Domain records shared by every part of wirewatch (frozen, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

Topic = Literal["missile", "sanctions"]
TOPICS: tuple[str, ...] = ("missile", "sanctions")

Severity = Literal["urgent", "high", "normal", "none"]
# Ordered from least to most severe; "none" is the severity of an irrelevant item.
SEVERITIES: tuple[str, ...] = ("none", "normal", "high", "urgent")

DIGEST_CADENCES: tuple[str, ...] = ("hourly", "daily")
CADENCES: tuple[str, ...] = ("immediate", *DIGEST_CADENCES)


def severity_rank(severity: str) -> int:
    """Position of a severity in SEVERITIES (higher is more severe)."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Evidence:
    """One piece of text that moved a topic score, and the rule that saw it."""

    rule: str
    topic: str
    text: str
    weight: float


@dataclass(frozen=True)
class Classification:
    """What the classifier decided about one item, and why."""

    topics: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    severity: str = "none"
    severity_reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def relevant(self) -> bool:
        return bool(self.topics)


@dataclass(frozen=True)
class Feed:
    """A polled source and its fetch state."""

    id: str
    url: str
    name: str
    language: str = "en"
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_attempt: datetime | None = None
    disabled_reason: str | None = None

    @property
    def never_polled(self) -> bool:
        return self.last_success is None


@dataclass(frozen=True)
class Entry:
    """One feed entry as parsed, before identity and classification."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None


@dataclass(frozen=True)
class Item:
    """A stored news item: identity, clean text, classification."""

    id: str
    feed_id: str
    source: str
    title: str
    link: str
    summary: str
    published: datetime
    first_seen: datetime
    language: str
    classification: Classification
    # Set by the first-run flood guard: stored as seen, never alerted or digested.
    suppressed: bool = False
    story_id: str | None = None

    @property
    def relevant(self) -> bool:
        return self.classification.relevant


@dataclass(frozen=True)
class StorySource:
    """One item's contribution to a story."""

    item_id: str
    source: str
    title: str
    link: str
    published: datetime
    language: str = "en"


@dataclass(frozen=True)
class Story:
    """Items from one or more sources about the same event."""

    id: str
    headline: str
    topics: tuple[str, ...]
    severity: str
    severity_reason: str
    first_seen: datetime
    last_seen: datetime
    sources: tuple[StorySource, ...]
    facts: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    alerted: bool = False


def flatten_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts as one flat mapping, whether the classifier nested them by topic or not."""
    flat: dict[str, Any] = {}
    for key, value in facts.items():
        if key in TOPICS and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat.setdefault(str(inner), inner_value)
        else:
            flat[key] = value
    return {k: v for k, v in flat.items() if v is not None and v != "" and v != [] and v != ()}


@dataclass(frozen=True)
class Preferences:
    """What a subscriber chooses: the one definition of the preference fields and their defaults.

    Subscription, the subscription request, the API view, the PATCH route and the stores' records
    all go over these fields (PREFERENCE_FIELDS), so a new preference is added here once.
    """

    topics: tuple[str, ...] = TOPICS
    min_severity: str = "normal"
    cadence: str = "daily"
    daily_at: str = "08:00"
    timezone: str = "UTC"
    quiet_hours: tuple[str, str] | None = None
    urgent_in_quiet_hours: bool = True


PREFERENCE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Preferences))
DEFAULT_PREFERENCES = Preferences()


@dataclass(frozen=True)
class Subscription:
    """Who gets what, where and when.

    For Slack, `target` is the *name* of the secret holding the webhook URL, never the URL.
    """

    id: str
    channel: str
    target: str
    topics: tuple[str, ...] = DEFAULT_PREFERENCES.topics
    min_severity: str = DEFAULT_PREFERENCES.min_severity
    cadence: str = DEFAULT_PREFERENCES.cadence
    daily_at: str = DEFAULT_PREFERENCES.daily_at
    timezone: str = DEFAULT_PREFERENCES.timezone
    quiet_hours: tuple[str, str] | None = DEFAULT_PREFERENCES.quiet_hours
    urgent_in_quiet_hours: bool = DEFAULT_PREFERENCES.urgent_in_quiet_hours
    status: str = "pending"
    failure_reason: str | None = None
    last_digest_at: datetime | None = None
    # The end of the next digest window; a digest covers (last_digest_at, next_digest_at].
    next_digest_at: datetime | None = None
    created_at: datetime | None = None
