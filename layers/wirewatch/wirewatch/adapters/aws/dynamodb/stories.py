"""Stories: STORY#<id> / STORY, indexed by when they were last seen (gsi1: STORIES#<yyyy-mm> / <last seen>#<id>).

A story only grows (new sources) or gets flagged as alerted, so its source count serves as the
version for optimistic concurrency between polls that cluster at the same time.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from wirewatch.adapters.aws.dynamodb.schema import GSI1, TTL_ATTRIBUTE
from wirewatch.adapters.aws.dynamodb.table import Table, iso, month, months_desc, parse_dt
from wirewatch.models import Evidence, Story, StorySource


def story_to_record(story: Story, retention: timedelta) -> dict[str, Any]:
    """Table record of a story."""
    return {
        "pk": f"STORY#{story.id}",
        "sk": "STORY",
        "gsi1pk": f"STORIES#{month(story.last_seen)}",
        "gsi1sk": f"{iso(story.last_seen)}#{story.id}",
        "type": "story",
        "id": story.id,
        "headline": story.headline,
        "topics": list(story.topics),
        "severity": story.severity,
        "severity_reason": story.severity_reason,
        "first_seen": iso(story.first_seen),
        "last_seen": iso(story.last_seen),
        "sources": json.dumps(
            [{**asdict(s), "published": iso(s.published)} for s in story.sources], ensure_ascii=False
        ),
        "source_count": len(story.sources),
        "facts": json.dumps(dict(story.facts), ensure_ascii=False, sort_keys=True),
        "evidence": json.dumps([asdict(e) for e in story.evidence], ensure_ascii=False),
        "alerted": story.alerted,
        TTL_ATTRIBUTE: int((story.last_seen + retention).timestamp()),
    }


def story_from_record(record: dict[str, Any]) -> Story:
    """Story from its table record."""
    sources = tuple(StorySource(**{**s, "published": parse_dt(s["published"])}) for s in json.loads(record["sources"]))
    first_seen, last_seen = parse_dt(record["first_seen"]), parse_dt(record["last_seen"])
    assert first_seen and last_seen, "story records always carry both times"
    return Story(
        id=record["id"],
        headline=record["headline"],
        topics=tuple(record.get("topics", [])),
        severity=record["severity"],
        severity_reason=record.get("severity_reason", ""),
        first_seen=first_seen,
        last_seen=last_seen,
        sources=sources,
        facts=json.loads(record.get("facts", "{}")),
        evidence=tuple(Evidence(**e) for e in json.loads(record.get("evidence", "[]"))),
        alerted=bool(record.get("alerted", False)),
    )


class StoryStore(Table):
    """Stories."""

    story_retention = timedelta(days=365)

    def get_story(self, story_id: str) -> Story | None:
        """One story, or None."""
        record = self._get(f"STORY#{story_id}", "STORY")
        return story_from_record(record) if record else None

    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]:
        """Stories last seen in [since, until], newest first, from the time index."""
        stories: list[Story] = []
        bounds = (iso(since) or "", f"{iso(until)}#~")
        for bucket in months_desc(since, until):
            for record in self._query(GSI1, f"STORIES#{bucket}", between=bounds, newest_first=True):
                stories.append(story_from_record(record))
                if limit is not None and len(stories) >= limit:
                    return stories
        return stories

    def save_story(self, story: Story, previous: Story | None) -> None:
        """Write a story; ConflictError when another writer changed it since `previous` was read."""
        if previous is None:
            self._put(story_to_record(story, self.story_retention), "attribute_not_exists(pk)")
        else:
            # alerted is part of the version too: a put must not clear a flag set by the alert function.
            self._put(
                story_to_record(story, self.story_retention),
                "source_count = :n AND alerted = :a",
                {":n": len(previous.sources), ":a": previous.alerted},
            )

    def mark_story_alerted(self, story_id: str) -> None:
        """Flag a story as alerted (its alerts have been sent)."""
        self._update(f"STORY#{story_id}", "STORY", {"alerted": True})
