"""Clustering items into stories: what must join, what must stay apart, and idempotency."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.stories.builders import LAUNCH_DAY, item
from wirewatch.models import Evidence, Item, Story, flatten_facts
from wirewatch.stories import assign_story, cluster, story_id_for
from wirewatch.stories import facts as story_facts

NOW = LAUNCH_DAY + timedelta(days=5)
ICBM_FACTS = {"missile_class": "ICBM", "count": 1, "landed": "inside_eez"}

KYODO_EN = item(
    "kyodo-en-1",
    "North Korea fires possible ICBM-class missile, lands inside Japan's EEZ",
    "North Korea launched a ballistic missile on Wednesday morning that may have had intercontinental "
    "range; it seems to have come down inside Japan's exclusive economic zone west of Hokkaido, the "
    "Defense Ministry said.",
    facts=ICBM_FACTS,
    severity="urgent",
    evidence=(Evidence("missile.icbm", "missile", "ICBM", 3.0),),
)
REUTERS_EN = item(
    "reuters-1",
    "N.Korea launches suspected long-range missile that splashes down off Hokkaido",
    "SEOUL/TOKYO, July 9 (Reuters) - North Korea fired what looked like an intercontinental ballistic "
    "missile on Wednesday, Japanese officials said, and it fell in waters inside Japan's EEZ off Hokkaido.",
    at=LAUNCH_DAY + timedelta(minutes=25),
    source="Reuters",
    facts={"missile_class": "ICBM", "count": 1, "landed": "inside_eez", "distance_km": 1000},
    severity="urgent",
)
KYODO_JA = item(
    "kyodo-ja-1",
    "北朝鮮がICBM級の弾道ミサイル発射　北海道沖のEEZ内に落下か",
    "防衛省によると、北朝鮮は9日午前、大陸間弾道ミサイル（ICBM）級の弾道ミサイル1発を発射した。"
    "北海道西方の排他的経済水域（EEZ）内に落下したとみられる。",
    at=LAUNCH_DAY + timedelta(minutes=5),
    language="ja",
    source="Kyodo JP",
    facts={"missile_class": "大陸間弾道ミサイル", "count": 1},
    severity="urgent",
)


def one_story(items: list[Item]) -> Story:
    """Assign items in order to a growing story list and expect a single story at the end."""
    found = cluster(items, NOW)
    assert len(found) == 1, [s.headline for s in found]
    return found[0]


def test_paraphrased_wire_reports_of_one_launch_join() -> None:
    story = assign_story(REUTERS_EN, [assign_story(KYODO_EN, [], NOW)], NOW)

    assert [s.item_id for s in story.sources] == ["kyodo-en-1", "reuters-1"]
    assert story.id == story_id_for(KYODO_EN)
    assert story.facts["distance_km"] == 1000
    assert story.facts["event_date"] == "2025-07-09"


def test_japanese_report_with_little_text_joins_on_the_same_day_when_facts_agree() -> None:
    short_ja = item(
        "nhk-1",
        "北朝鮮が弾道ミサイル発射",
        "政府関係者によると、日本海に向けて発射された。",
        at=LAUNCH_DAY + timedelta(hours=2),
        language="ja",
        source="NHK",
        facts={"count": 1},
    )
    story = one_story([KYODO_EN, short_ja])

    assert story.sources[-1].item_id == "nhk-1"


def test_japanese_report_with_a_count_stated_hours_later_stays_apart() -> None:
    two_missiles = item(
        "nhk-2",
        "北朝鮮が弾道ミサイル2発を発射",
        "防衛省によると、北朝鮮は9日、弾道ミサイル2発を発射した。",
        at=LAUNCH_DAY + timedelta(hours=5),
        language="ja",
        source="NHK",
        facts={"count": 2},
    )
    assert len(cluster([KYODO_EN, two_missiles], NOW)) == 2


def test_a_count_revised_within_the_hour_joins() -> None:
    revised = item(
        "nhk-2",
        "北朝鮮が弾道ミサイル2発を発射",
        "防衛省によると、北朝鮮は9日、弾道ミサイル2発を発射した。",
        at=LAUNCH_DAY + timedelta(minutes=50),
        language="ja",
        source="NHK",
        facts={"count": 2},
    )
    story = one_story([KYODO_EN, revised])

    assert story.facts["count"] == 2  # the newer report's revision wins; the first figure is in its source


def test_terse_breaking_launch_headlines_hours_apart_join() -> None:
    first = item("yonhap-flash", "North Korea fires unidentified projectile toward sea, Seoul says", source="Yonhap")
    second = item(
        "nhk-en-flash",
        "N. Korea test-fires suspected ballistic missile, Tokyo coast guard warns ships",
        at=LAUNCH_DAY + timedelta(hours=3),
        source="NHK World",
        facts={"count": 1},
    )
    story = one_story([first, second])

    assert story.headline == first.title


def test_reports_either_side_of_midnight_in_seoul_join() -> None:
    late = datetime(2025, 7, 9, 14, 50, tzinfo=UTC)  # 23:50 in Seoul
    before = item(
        "before",
        "North Korea fires ballistic missile toward Sea of Japan",
        at=late,
        facts={"count": 1, "landed": "outside_eez"},
    )
    after = item(
        "after",
        "North Korea fires ballistic missile, lands outside Japan's EEZ",
        at=late + timedelta(minutes=25),
        source="Reuters",
        facts={"count": 1, "landed": "outside_eez"},
    )
    assert len(one_story([before, after]).sources) == 2


def test_launch_headlines_on_consecutive_days_stay_apart() -> None:
    first = item("flash-1", "North Korea fires unidentified projectile toward sea, Seoul says")
    second = item(
        "flash-2",
        "North Korea fires suspected ballistic missile off east coast",
        at=LAUNCH_DAY + timedelta(hours=20),
    )
    assert len(cluster([first, second], NOW)) == 2


def test_a_headline_about_launchers_is_not_a_launch_report() -> None:
    first = item("flash", "North Korea fires unidentified projectile toward sea, Seoul says")
    hardware = item(
        "hardware",
        "North Korea shows off new mobile launch vehicles at arms fair",
        at=LAUNCH_DAY + timedelta(hours=2),
    )
    assert len(cluster([first, hardware], NOW)) == 2


def test_two_launches_on_different_days_stay_apart() -> None:
    monday = item(
        "kyodo-mon",
        "North Korea fires two short-range ballistic missiles into sea",
        "North Korea launched two short-range ballistic missiles on Monday toward the Sea of Japan, "
        "South Korea's military said.",
        at=datetime(2025, 7, 6, 23, 30, tzinfo=UTC),
        facts={"missile_class": "SRBM", "count": 2, "distance_km": 350},
    )
    wednesday = item(
        "kyodo-wed",
        "North Korea fires two short-range ballistic missiles toward sea again",
        "North Korea launched two more short-range ballistic missiles on Wednesday toward the Sea of "
        "Japan, South Korea's military said.",
        at=LAUNCH_DAY,
        facts={"missile_class": "SRBM", "count": 2, "distance_km": 400},
    )
    found = cluster([monday, wednesday], NOW)

    assert len(found) == 2
    assert sorted(s.facts["event_date"] for s in found) == ["2025-07-07", "2025-07-09"]


def test_identical_launch_reports_without_date_words_on_different_days_stay_apart() -> None:
    first = item(
        "a",
        "North Korea fires ballistic missile into sea, Japan says",
        facts={"landed": "outside_eez"},
    )
    second = item(
        "b",
        "North Korea fires ballistic missile into sea, Japan says",
        at=LAUNCH_DAY + timedelta(days=2),
        facts={"landed": "outside_eez"},
    )
    assert len(cluster([first, second], NOW)) == 2


def test_launch_and_the_sanctions_debate_it_triggers_stay_apart() -> None:
    debate = item(
        "reuters-unsc",
        "UN Security Council to meet over North Korea ICBM launch as US pushes new sanctions",
        "Washington wants tougher sanctions on North Korea after Wednesday's intercontinental ballistic "
        "missile launch that landed inside Japan's EEZ off Hokkaido.",
        at=LAUNCH_DAY + timedelta(hours=6),
        source="Reuters",
        topics=("missile", "sanctions"),
        scores={"missile": 3.0, "sanctions": 2.5},
        facts={"body": "UN Security Council", "action": "meeting requested", "missile_class": "ICBM"},
    )
    found = cluster([KYODO_EN, REUTERS_EN, debate], NOW)

    assert len(found) == 2
    launch, sanctions = sorted(found, key=lambda s: s.topics[0])
    assert len(launch.sources) == 2
    assert sanctions.topics[0] == "sanctions"
    assert [s.item_id for s in sanctions.sources] == ["reuters-unsc"]


def test_pure_sanctions_story_never_joins_a_launch_story() -> None:
    sanctions = item(
        "kyodo-sanc",
        "Japan adds North Korean entities to sanctions list after ICBM launch off Hokkaido",
        at=LAUNCH_DAY + timedelta(hours=3),
        topics=("sanctions",),
        facts={"body": "Japan", "action": "designation"},
    )
    assert len(cluster([KYODO_EN, sanctions], NOW)) == 2


def test_follow_up_within_the_window_joins() -> None:
    follow_up = item(
        "kyodo-follow",
        "North Korea says Wednesday's ICBM test was new Hwasong-19, lands in Japan's EEZ",
        "North Korean state media said on Friday the intercontinental missile fired on Wednesday, which "
        "came down in Japan's exclusive economic zone, was a new solid-fuel Hwasong-19.",
        at=LAUNCH_DAY + timedelta(hours=50),
        facts={"missile_class": "ICBM", "missile_name": "Hwasong-19"},
        severity="high",
    )
    story = one_story([KYODO_EN, REUTERS_EN, follow_up])

    assert story.sources[-1].item_id == "kyodo-follow"
    assert story.facts["missile_name"] == "Hwasong-19"
    assert story.last_seen == follow_up.first_seen
    assert story.severity == "urgent"


def test_follow_up_after_the_window_starts_a_new_story() -> None:
    late = item(
        "kyodo-late",
        "North Korea fires possible ICBM-class missile, lands inside Japan's EEZ, analysis",
        at=LAUNCH_DAY + timedelta(hours=80),
        facts={"missile_class": "ICBM"},
    )
    assert len(cluster([KYODO_EN, late], NOW)) == 2


def test_different_missile_classes_on_the_same_day_stay_apart() -> None:
    cruise = item(
        "yonhap-cruise",
        "North Korea fires possible ICBM-class missile, lands inside Japan's EEZ",
        at=LAUNCH_DAY + timedelta(hours=1),
        source="Yonhap",
        facts={"missile_class": "cruise"},
    )
    assert len(cluster([KYODO_EN, cruise], NOW)) == 2


def test_missile_names_in_japanese_and_english_are_compared_after_transliteration() -> None:
    assert story_facts._compare_facts({"missile_name": "火星18型"}, {"missile_name": "Hwasong-18"}) == 1
    assert story_facts._compare_facts({"missile_name": "火星19"}, {"missile_name": "Hwasong-18"}) is None


def test_sanctions_reports_of_different_resolutions_stay_apart() -> None:
    vote = item(
        "un-1",
        "Security Council adopts resolution tightening North Korea oil sanctions",
        topics=("sanctions",),
        facts={"body": "UN Security Council", "action": "adopted", "resolution": "2397"},
    )
    other = item(
        "un-2",
        "Security Council adopts resolution tightening North Korea oil sanctions",
        at=LAUNCH_DAY + timedelta(hours=4),
        topics=("sanctions",),
        facts={"body": "UN Security Council", "action": "adopted", "resolution": "2375"},
    )
    same = item(
        "un-3",
        "UN council unanimously tightens oil sanctions on North Korea",
        at=LAUNCH_DAY + timedelta(hours=5),
        source="Reuters",
        topics=("sanctions",),
        facts={"body": "Security Council", "resolution": "2397", "measures": ["oil cap"]},
    )
    found = cluster([vote, other, same], NOW)

    assert sorted(len(s.sources) for s in found) == [1, 2]


def test_adding_the_same_item_twice_is_a_no_op() -> None:
    story = assign_story(KYODO_EN, [], NOW)

    assert assign_story(KYODO_EN, [story], NOW) is story
    joined = assign_story(REUTERS_EN, [story], NOW)
    assert assign_story(REUTERS_EN, [joined], NOW) is joined


def test_story_id_is_deterministic_and_derived_from_the_item() -> None:
    assert story_id_for(KYODO_EN) == story_id_for(KYODO_EN)
    assert story_id_for(KYODO_EN) != story_id_for(REUTERS_EN)
    assert assign_story(KYODO_EN, [], NOW).id == story_id_for(KYODO_EN)


def test_a_more_severe_source_takes_over_headline_and_severity() -> None:
    calm = item(
        "kyodo-calm",
        "North Korea fires possible ICBM-class missile toward Japan's EEZ",
        facts={"missile_class": "ICBM"},
        severity="high",
    )
    story = assign_story(KYODO_EN, [assign_story(calm, [], NOW)], NOW)

    assert story.severity == "urgent"
    assert story.headline == KYODO_EN.title
    assert story.severity_reason == "urgent rule"
    assert [s.item_id for s in story.sources] == ["kyodo-calm", "kyodo-en-1"]


def test_a_less_severe_source_keeps_the_first_headline() -> None:
    story = assign_story(REUTERS_EN, [assign_story(KYODO_EN, [], NOW)], NOW)

    assert story.headline == KYODO_EN.title


def test_facts_are_merged_newest_stated_wins_and_lists_union() -> None:
    merged = story_facts._merge_facts(
        {"count": 1, "targets": ["Ship A"], "over_japan": False, "landed": "outside Japan's EEZ", "event_date": "d1"},
        {"count": 2, "targets": ["Ship A", "Bank B"], "over_japan": True, "apogee_km": 6000,
         "landed": "inside Japan's EEZ", "event_date": "d2"},
    )  # fmt: skip
    assert merged == {
        "count": 2,
        "targets": ["Ship A", "Bank B"],
        "over_japan": True,
        "landed": "inside Japan's EEZ",
        "apogee_km": 6000,
        "event_date": "d1",
    }
    # a later report that does not repeat "over Japan" does not take it back
    assert story_facts._merge_facts({"over_japan": True}, {"over_japan": False}) == {"over_japan": True}


def test_topics_are_unioned_with_the_family_first() -> None:
    mixed = item(
        "reuters-mixed",
        "N.Korea launches suspected long-range missile that splashes down off Hokkaido, defying sanctions",
        at=LAUNCH_DAY + timedelta(minutes=30),
        source="Reuters",
        topics=("missile", "sanctions"),
        scores={"missile": 4.0, "sanctions": 1.0},
        facts={"missile_class": "ICBM", "count": 1},
    )
    story = one_story([KYODO_EN, REUTERS_EN, mixed])

    assert story.topics == ("missile", "sanctions")


def test_nested_facts_are_flattened() -> None:
    nested = {"missile": {"missile_class": "ICBM", "count": 1}, "sanctions": {"body": "UN"}, "extra": "x"}
    assert flatten_facts(nested) == {"missile_class": "ICBM", "count": 1, "body": "UN", "extra": "x"}


def test_cluster_is_independent_of_input_order() -> None:
    items = [KYODO_EN, KYODO_JA, REUTERS_EN]
    expected = {frozenset(s.item_id for s in story.sources) for story in cluster(items, NOW)}
    for seed in range(5):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        got = {frozenset(s.item_id for s in story.sources) for story in cluster(shuffled, NOW)}
        assert got == expected


def test_irrelevant_items_are_refused_by_assign_and_skipped_by_cluster() -> None:
    noise = item("noise", "Weather warning for Hokkaido", topics=())
    with pytest.raises(ValueError, match="no topic"):
        assign_story(noise, [], NOW)
    assert cluster([noise], NOW) == []


def test_future_publication_dates_are_capped_at_now() -> None:
    now = LAUNCH_DAY + timedelta(hours=1)
    early = item("future", KYODO_EN.title, at=LAUNCH_DAY + timedelta(days=30), facts=ICBM_FACTS)
    story = assign_story(early, [], now)

    assert story.first_seen <= now and story.last_seen <= now
