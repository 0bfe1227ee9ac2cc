"""Cross-source clustering of classified items into stories (pure: no I/O, `now` is an argument).

An item joins an existing story when all the gates pass and the evidence is strong enough:

- gates: same topic family (a story's family is ``story.topics[0]``), published within the window of
  one of the story's sources, no contradicting stated fact and, for missile stories, no conflicting
  event day and no headline announcing a further launch ("fires another missile") that the story
  lacks;
- evidence: text similarity (words, cross-language concept terms and CJK character bigrams) and the
  number of stated facts the two agree on. Different-language versions of one event share little
  text, so on the same event day one agreeing fact (or a few shared concepts) is enough.

Early wire reports of one launch are revised within hours ("toward the Sea of Japan", then "inside
Japan's EEZ"; "ballistic missile", then "ICBM"; one missile, then two), so only clear contradictions
keep items apart: different explicit classes (SRBM vs ICBM, ballistic vs cruise), different missile
names or launch sites, opposite coasts (Yellow Sea vs Sea of Japan), different counts reported hours
apart, different resolutions or sanctioning bodies. A single DPRK launch day usually has one event:
two reports of a DPRK launch on the same day (Korea/Japan time), within 12 h of the story's first
report and with no such contradiction, are one launch however differently they are worded.

Stories record their launch day as ``facts["event_date"]`` (ISO date, Korea/Japan time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from wirewatch.models import Evidence, Item, Story, StorySource, flatten_facts, severity_rank
from wirewatch.stories.facts import (
    _LAUNCH_EVIDENCE_FACTS,
    EVENT_DATE,
    LAUNCH_REPORT_FACTS,
    MISSILE_FACTS,
    SANCTIONS_FACTS,
    _compare_facts,
    _merge_facts,
    _nfkc,
)
from wirewatch.stories.lexicon import LAUNCH_EVENT, LAUNCH_HEADLINE, REPEAT_LAUNCH
from wirewatch.stories.text import _mentioned_dates, _Profile, _profile, _similarity, _titles_profile

DEFAULT_WINDOW = timedelta(hours=72)
# Launches are reported in Korea/Japan time: both UTC+9, no daylight saving.
EVENT_TZ = timezone(timedelta(hours=9), "KST")
MAX_EVIDENCE = 12

_SUMMARY_CHARS = 800
_TEXT_JOIN = 0.5
_TEXT_WITH_FACT = 0.3
_TEXT_BILINGUAL = 0.2
_CROSS_LANGUAGE_GAP = timedelta(hours=24)
# Reports of one launch day arrive within hours of the first flash; a later launch report on the same
# day is more likely a second launch.
_SAME_LAUNCH_SPAN = timedelta(hours=12)
# Counts are revised quickly ("a missile" -> "two missiles"); a different count hours later is
# another salvo.
_COUNT_REVISION_GAP = timedelta(hours=3)
_REPORT_DELAY = timedelta(hours=6)
# A day mentioned longer before publication is background ("its first launch since May 8"), not the
# day of the event the report is about.
_EVENT_DAY_HORIZON = timedelta(days=3)


@dataclass(frozen=True)
class _ItemView:
    family: str
    topics: tuple[str, ...]
    facts: Mapping[str, Any]
    profile: _Profile
    language: str
    event_time: datetime
    seen: datetime
    dates: frozenset[date]
    days: frozenset[date]
    event_date: date
    # About a DPRK launch (stated launch facts, or a launch in the title or text).
    reports_launch: bool
    # The headline announces a further launch ("fires another missile", "再び発射").
    repeat_launch: bool


def _family(topics: Sequence[str], scores: Mapping[str, float], facts: Mapping[str, Any]) -> str:
    """The topic an item is mainly about; a story only takes items of its own family."""
    if len(topics) == 1:
        return topics[0]
    if "sanctions" in topics and ("action" in facts or "measures" in facts):
        return "sanctions"
    if "missile" in topics and (facts.keys() & MISSILE_FACTS) and not (facts.keys() & SANCTIONS_FACTS):
        return "missile"
    return max(topics, key=lambda topic: (scores.get(topic, 0.0), -topics.index(topic)))


def _view(item: Item, now: datetime) -> _ItemView:
    cls = item.classification
    facts = flatten_facts(cls.facts)
    topics = tuple(t for t in cls.topics if t)
    family = _family(topics, cls.scores, facts)
    ordered = (family, *(t for t in topics if t != family))
    event_time = min(item.published, now)
    ref = event_time.astimezone(EVENT_TZ).date()
    text = f"{item.title}\n{item.summary[:_SUMMARY_CHARS]}"
    mentioned = tuple(day for day in _mentioned_dates(text, ref) if ref - day <= _EVENT_DAY_HORIZON)
    # Without a date in the text the event happened on the day of publication, or the day before
    # when the report came out shortly after midnight.
    days = frozenset(mentioned) or frozenset({ref, (event_time - _REPORT_DELAY).astimezone(EVENT_TZ).date()})
    dates = frozenset(mentioned) or (days if facts.keys() & LAUNCH_REPORT_FACTS else frozenset())
    return _ItemView(
        family=family,
        topics=ordered,
        facts=facts,
        profile=_profile(text),
        language=(item.language or "en")[:2].lower(),
        event_time=event_time,
        seen=min(item.first_seen, now),
        dates=dates,
        days=days,
        event_date=mentioned[0] if mentioned else ref,
        reports_launch=_reports_dprk_launch(item.title, text, facts),
        repeat_launch=_repeat_launch(item.title),
    )


@lru_cache(maxsize=16384)
def _launch_headline(title: str) -> bool:
    return LAUNCH_HEADLINE.search(_nfkc(title)) is not None


@lru_cache(maxsize=16384)
def _mentions_launch(text: str) -> bool:
    return LAUNCH_EVENT.search(_nfkc(text)) is not None


@lru_cache(maxsize=16384)
def _repeat_launch(title: str) -> bool:
    return REPEAT_LAUNCH.search(_nfkc(title)) is not None


def _reports_dprk_launch(title: str, text: str, facts: Mapping[str, Any]) -> bool:
    if "c:dprk" not in _profile(text).weights:
        return False
    return bool(facts.keys() & _LAUNCH_EVIDENCE_FACTS) or _launch_headline(title) or _mentions_launch(text)


def _is_launch_story(titles: Sequence[str], facts: Mapping[str, Any]) -> bool:
    """Whether a story is about a launch: launch facts or a launch headline (stories keep no text)."""
    return bool(facts.keys() & _LAUNCH_EVIDENCE_FACTS) or any(
        _launch_headline(title) or _mentions_launch(title) for title in titles
    )


def _clean(text: str) -> str:
    return " ".join(text.split())


def _story_date(story: Story) -> date | None:
    value = story.facts.get(EVENT_DATE)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _score(view: _ItemView, story: Story, window: timedelta) -> float | None:
    """How well an item fits a story, or None when it must not join."""
    if not story.topics or story.topics[0] != view.family or not story.sources:
        return None
    gap = min(abs(view.event_time - source.published) for source in story.sources)
    if gap > window:
        return None
    story_facts = flatten_facts(story.facts)
    agree = _compare_facts(view.facts, story_facts, counts_may_differ=gap <= _COUNT_REVISION_GAP)
    if agree is None:
        return None
    story_date = _story_date(story)
    titles = (story.headline, *(source.title for source in story.sources))
    if view.family == "missile":
        if story_date is not None and view.dates and story_date not in view.dates:
            return None
        # A headline announcing another launch starts its own story, unless the story is that launch.
        if view.repeat_launch and not any(_repeat_launch(title) for title in titles):
            return None
    text = _similarity(view.profile, _titles_profile(titles))
    cross_language = all(source.language[:2].lower() != view.language for source in story.sources)
    same_day = story_date is None or story_date in view.days
    textual = text >= _TEXT_JOIN or (text >= _TEXT_WITH_FACT and agree >= 1)
    # Another language shares little text with the story, so the same event day has to do.
    bilingual = cross_language and same_day and gap <= _CROSS_LANGUAGE_GAP and (agree >= 1 or text >= _TEXT_BILINGUAL)
    # Reports of one launch share few words ("fires projectile", "J-Alert not issued", "ICBM fell in
    # EEZ"), but a DPRK launch day usually has one launch: launch reports on the same day, within
    # hours of the story's first report and with no contradicting fact, are one event.
    first_report = min(source.published for source in story.sources)
    same_launch = (
        view.family == "missile"
        and view.reports_launch
        and story_date is not None
        and story_date in view.days
        and abs(view.event_time - first_report) <= _SAME_LAUNCH_SPAN
        and _is_launch_story(titles, story_facts)
    )
    if not (textual or bilingual or same_launch):
        return None
    return text + 0.25 * agree - 0.05 * gap.total_seconds() / 86400


def story_id_for(item: Item) -> str:
    """The id of the story an item starts when it joins none (stable across reruns)."""
    return "st-" + hashlib.sha256(item.id.encode("utf-8")).hexdigest()[:20]


def _source(item: Item) -> StorySource:
    return StorySource(
        item_id=item.id,
        source=item.source,
        title=_clean(item.title),
        link=item.link,
        published=item.published,
        language=item.language,
    )


def _merge_evidence(*groups: Iterable[Evidence]) -> tuple[Evidence, ...]:
    best: dict[tuple[str, str, str], Evidence] = {}
    for group in groups:
        for ev in group:
            key = (ev.rule, ev.topic, ev.text)
            if key not in best or ev.weight > best[key].weight:
                best[key] = ev
    return tuple(sorted(best.values(), key=lambda ev: (-ev.weight, ev.text))[:MAX_EVIDENCE])


def _new_story(item: Item, view: _ItemView) -> Story:
    cls = item.classification
    facts = dict(view.facts)
    if view.family == "missile":
        facts[EVENT_DATE] = view.event_date.isoformat()
    return Story(
        id=story_id_for(item),
        headline=_clean(item.title),
        topics=view.topics,
        severity=cls.severity,
        severity_reason=cls.severity_reason,
        first_seen=view.seen,
        last_seen=view.seen,
        sources=(_source(item),),
        facts=facts,
        evidence=_merge_evidence(cls.evidence),
    )


def _join(story: Story, item: Item, view: _ItemView) -> Story:
    cls = item.classification
    escalates = severity_rank(cls.severity) > severity_rank(story.severity)
    return replace(
        story,
        headline=_clean(item.title) if escalates else story.headline,
        severity=cls.severity if escalates else story.severity,
        severity_reason=cls.severity_reason if escalates else story.severity_reason,
        topics=tuple(dict.fromkeys((*story.topics, *view.topics))),
        first_seen=min(story.first_seen, view.seen),
        last_seen=max(story.last_seen, view.seen),
        sources=(*story.sources, _source(item)),
        facts=_merge_facts(story.facts, view.facts),
        evidence=_merge_evidence(story.evidence, cls.evidence),
    )


def assign_story(item: Item, candidates: Sequence[Story], now: datetime, window: timedelta = DEFAULT_WINDOW) -> Story:
    """The story an item belongs to: a candidate updated with it as a source, or a new story.

    Adding an item a candidate already holds returns that candidate unchanged. The best-scoring
    matching candidate wins (ties: the most recently seen). Raises ValueError for an item the
    classifier found irrelevant: only relevant items are clustered.
    """
    if not item.relevant:
        raise ValueError(f"item {item.id} has no topic and cannot be clustered")
    own_id = story_id_for(item)
    for story in candidates:
        if story.id == own_id or any(source.item_id == item.id for source in story.sources):
            return story
    view = _view(item, now)
    best: tuple[float, datetime, str] | None = None
    chosen: Story | None = None
    for story in candidates:
        score = _score(view, story, window)
        if score is None:
            continue
        key = (score, story.last_seen, story.id)
        if best is None or key > best:
            best, chosen = key, story
    return _new_story(item, view) if chosen is None else _join(chosen, item, view)


def cluster(items: Sequence[Item], now: datetime, window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group relevant items into stories, oldest item first; irrelevant items are skipped."""
    stories: dict[str, Story] = {}
    newest: dict[str, datetime] = {}
    ordered = sorted((i for i in items if i.relevant), key=lambda i: (i.published, i.first_seen, i.id))
    for item in ordered:
        published = min(item.published, now)
        candidates = [stories[sid] for sid, last in newest.items() if last >= published - window]
        story = assign_story(item, candidates, now, window)
        stories[story.id] = story
        newest[story.id] = max(newest.get(story.id, published), published)
    return list(stories.values())
