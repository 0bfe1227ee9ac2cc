"""Small builders for classified items used by the clustering tests (our own wording throughout)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wirewatch.models import Classification, Evidence, Item

# Wednesday 9 July 2025, 07:25 in Korea/Japan.
LAUNCH_DAY = datetime(2025, 7, 8, 22, 25, tzinfo=UTC)


def item(
    item_id: str,
    title: str,
    summary: str = "",
    *,
    at: datetime = LAUNCH_DAY,
    language: str = "en",
    source: str = "Kyodo",
    topics: tuple[str, ...] = ("missile",),
    severity: str = "high",
    facts: Mapping[str, Any] | None = None,
    scores: Mapping[str, float] | None = None,
    evidence: tuple[Evidence, ...] = (),
) -> Item:
    """A relevant item published (and first seen a minute later) at `at`."""
    return Item(
        id=item_id,
        feed_id=source.lower(),
        source=source,
        title=title,
        link=f"https://news.example/{source.lower()}/{item_id}",
        summary=summary,
        published=at,
        first_seen=at + timedelta(minutes=1),
        language=language,
        classification=Classification(
            topics=topics,
            scores=dict(scores or {t: 2.0 for t in topics}),
            severity=severity,
            severity_reason=f"{severity} rule",
            evidence=evidence,
            facts=dict(facts or {}),
        ),
    )
