"""One DPRK launch day reported by many wires: revised estimates join, clear contradictions do not.

The first test is the demo's situation in our own words: a single ICBM launch reported within a few
hours by six sources in two languages, whose early and later reports differ on where it fell and what
it was, and several of which share almost no words.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from tests.unit.stories.builders import LAUNCH_DAY, item
from wirewatch.models import Item
from wirewatch.stories import EVENT_TZ, cluster, clustering, facts

NOW = LAUNCH_DAY + timedelta(days=5)
ICBM_INSIDE = {"missile_class": "ICBM", "landed": "inside Japan's EEZ"}


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


# In publication order, from 07:25 in Tokyo (LAUNCH_DAY) to just before 10:00.
FLASH = item(
    "kyodo-flash",
    "N. Korea launches ballistic missile into Sea of Japan, Tokyo says",
    "TOKYO - North Korea launched a ballistic missile into the Sea of Japan early on Wednesday, the "
    "government said. The Defense Ministry initially estimated it came down outside Japan's exclusive "
    "economic zone.",
    source="Kyodo",
    facts={"count": 1, "landed": "outside Japan's EEZ"},
)
JCS = item(
    "yonhap-lead",
    "(2nd LD) N. Korea test-fires long-range ballistic missile into East Sea: JCS",
    "SEOUL, July 9 (Yonhap) -- North Korea test-fired a long-range ballistic missile into the East Sea on "
    "Wednesday morning, the Joint Chiefs of Staff said, apparently its first ICBM this year.",
    at=LAUNCH_DAY + minutes(20),
    source="Yonhap",
    facts={"missile_class": "ICBM", "count": 1, "landed": "Sea of Japan"},
    severity="urgent",
)
NO_WARNING = item(
    "nhk-warning",
    "No J-Alert sent because missile's course kept clear of Japanese land",
    "Officials say residents were not warned through J-Alert after Wednesday's North Korean missile "
    "launch because the projectile was never expected to cross Japanese territory.",
    at=LAUNCH_DAY + minutes(40),
    source="NHK World",
    severity="urgent",
)
MINISTRY = item(
    "nhk-ministry",
    "Defense Ministry: North Korean missile probably ICBM, came down inside Japan's EEZ",
    "Japan's Defense Ministry says the ballistic missile North Korea fired on Wednesday morning flew for "
    "about 68 minutes and probably came down within Japan's exclusive economic zone west of Hokkaido.",
    at=LAUNCH_DAY + minutes(85),
    source="NHK World",
    facts={**ICBM_INSIDE, "flight_time_min": 68},
    severity="urgent",
)
UPDATE = item(
    "kyodo-update",
    "UPDATE1: N. Korea missile ICBM-class, splashed down in Japan EEZ west of Hokkaido",
    "TOKYO - The missile North Korea fired on Wednesday stayed aloft about 68 minutes on a high "
    "trajectory before splashing down inside Japan's EEZ, the defense minister said.",
    at=LAUNCH_DAY + minutes(110),
    source="Kyodo",
    facts={**ICBM_INSIDE, "flight_time_min": 68},
    severity="urgent",
)
KYODO_JA = item(
    "kyodo-ja",
    "北朝鮮が弾道ミサイル１発を発射　日本のEEZ内に落下か",
    "防衛省によると、北朝鮮は９日朝、日本海へ向けて弾道ミサイル１発を発射した。約６８分飛行し、"
    "北海道西方の排他的経済水域（EEZ）内に落下したとみられる。",
    at=LAUNCH_DAY + minutes(115),
    language="ja",
    source="Kyodo JP",
    facts={"count": 1, "flight_time_min": 68, "landed": "inside Japan's EEZ"},
    severity="urgent",
)
WIRE = item(
    "reuters-icbm",
    "North Korea launches apparent ICBM that Tokyo says fell in its economic zone",
    "SEOUL/TOKYO, July 9 (Reuters) - North Korea fired what looked like an intercontinental ballistic "
    "missile on Wednesday, which flew for over an hour before falling inside Japan's exclusive economic "
    "zone, officials said.",
    at=LAUNCH_DAY + minutes(120),
    source="Reuters",
    facts=ICBM_INSIDE,
    severity="urgent",
)
CONDEMNATION = item(
    "japantimes-condemn",
    "Tokyo, Washington and Seoul denounce Pyongyang's ICBM launch",
    "The foreign ministers of Japan, the U.S. and South Korea on Wednesday jointly denounced North "
    "Korea's launch of an intercontinental ballistic missile as a clear breach of U.N. resolutions.",
    at=LAUNCH_DAY + minutes(150),
    source="The Japan Times",
    facts={"missile_class": "ICBM"},
    severity="urgent",
)
LAUNCH_DAY_REPORTS = [FLASH, JCS, NO_WARNING, MINISTRY, UPDATE, KYODO_JA, WIRE, CONDEMNATION]


def stories_of(items: list[Item]) -> list[frozenset[str]]:
    return sorted((frozenset(s.item_id for s in story.sources) for story in cluster(items, NOW)), key=len)


def test_one_launch_reported_by_six_sources_in_two_languages_is_one_story() -> None:
    found = cluster(LAUNCH_DAY_REPORTS, NOW)

    assert len(found) == 1, [s.headline for s in found]
    story = found[0]
    assert [s.item_id for s in story.sources] == [i.id for i in LAUNCH_DAY_REPORTS]
    assert {s.language for s in story.sources} == {"en", "ja"}
    assert story.severity == "urgent"
    assert story.facts["event_date"] == "2025-07-09"
    assert story.facts["missile_class"] == "ICBM"


@pytest.mark.parametrize("first", [i for i in LAUNCH_DAY_REPORTS if i is not NO_WARNING], ids=lambda i: i.id)
def test_the_launch_day_story_does_not_depend_on_which_report_came_first(first: Item) -> None:
    # Stories keep titles, not text: a report that names the launch only in its text (the J-Alert
    # piece) joins a launch story but is not recognisable as one from its headline alone.
    rest = [i for i in LAUNCH_DAY_REPORTS if i is not first]
    random.Random(first.id).shuffle(rest)
    retimed = [
        item(
            i.id,
            i.title,
            i.summary,
            at=LAUNCH_DAY + minutes(15 * n),
            language=i.language,
            source=i.source,
            facts=i.classification.facts,
            severity=i.classification.severity,
        )
        for n, i in enumerate([first, *rest])
    ]
    found = cluster(retimed, NOW)

    assert len(found) == 1, [s.headline for s in found]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"landed": "outside Japan's EEZ"}, {"landed": "inside Japan's EEZ"}),
        ({"landed": "Sea of Japan"}, {"landed": "Pacific"}),
        ({"missile_class": "ballistic missile"}, {"missile_class": "ICBM"}),
        ({"missile_class": "long-range"}, {"missile_class": "ICBM"}),
        ({"missile_class": "hypersonic"}, {"missile_class": "IRBM"}),
        ({"distance_km": 350}, {"distance_km": 1000}),
        ({"over_japan": False}, {"over_japan": True}),
    ],
)
def test_revised_estimates_do_not_contradict(earlier: dict[str, object], later: dict[str, object]) -> None:
    assert facts._compare_facts(earlier, later) is not None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"missile_class": "SRBM"}, {"missile_class": "ICBM"}),
        ({"missile_class": "cruise"}, {"missile_class": "ballistic"}),
        ({"missile_class": "cruise"}, {"missile_class": "SRBM"}),
        ({"landed": "Yellow Sea"}, {"landed": "inside Japan's EEZ"}),
        ({"launch_site": "Sunan"}, {"launch_site": "Jangyon"}),
        ({"count": 1}, {"count": 3}),
    ],
)
def test_clearly_different_facts_contradict(one: dict[str, object], other: dict[str, object]) -> None:
    assert facts._compare_facts(one, other) is None


def test_counts_may_differ_only_when_the_reports_are_close_in_time() -> None:
    assert facts._compare_facts({"count": 1}, {"count": 2}, counts_may_differ=True) == 0


def test_explicit_srbm_and_icbm_on_the_same_morning_stay_apart() -> None:
    short_range = item(
        "jcs-srbm",
        "N. Korea fires short-range ballistic missile off east coast: JCS",
        at=LAUNCH_DAY + minutes(30),
        source="Yonhap",
        facts={"missile_class": "SRBM"},
    )
    assert len(cluster([JCS, short_range], NOW)) == 2


def test_cruise_missiles_into_the_yellow_sea_stay_apart_from_a_launch_into_the_east_sea() -> None:
    west_coast = item(
        "yonhap-west",
        "N. Korea fires several missiles over Yellow Sea: JCS",
        "North Korea fired several missiles over the Yellow Sea on Wednesday afternoon, the JCS said.",
        at=LAUNCH_DAY + timedelta(hours=6),
        source="Yonhap",
        facts={"landed": "Yellow Sea"},
    )
    assert len(cluster([FLASH, JCS, west_coast], NOW)) == 2


@pytest.mark.parametrize(
    "title",
    [
        "N. Korea fires another ballistic missile toward Sea of Japan",
        "North Korea launches missile again hours after ICBM test",
        "North Korea fires second missile of the day, Japan says",
        "北朝鮮が再び弾道ミサイルを発射",
    ],
)
def test_a_headline_announcing_another_launch_the_same_day_starts_a_story(title: str) -> None:
    again = item(
        "again",
        title,
        at=LAUNCH_DAY + timedelta(hours=4),
        language="en" if title.isascii() else "ja",
        source="NHK",
        facts={"count": 1},
    )
    assert stories_of([FLASH, JCS, again]) == [frozenset({"again"}), frozenset({"kyodo-flash", "yonhap-lead"})]


@pytest.mark.parametrize(
    "title",
    [
        "North Korea fires more than ten artillery rockets, JCS says",
        "Japan protests again over North Korea's ICBM launch",
        "北朝鮮が弾道ミサイル発射、政府が追加制裁を検討",
    ],
)
def test_headlines_that_only_look_like_another_launch(title: str) -> None:
    assert not clustering._repeat_launch(title)


def test_reports_of_the_further_launch_join_its_own_story() -> None:
    again = item("again", "N. Korea fires another ballistic missile, Seoul says", at=LAUNCH_DAY + timedelta(hours=5))
    again_ja = item(
        "again-ja",
        "北朝鮮が再び弾道ミサイル発射　日本海へ",
        at=LAUNCH_DAY + timedelta(hours=5, minutes=10),
        language="ja",
        source="Kyodo JP",
    )
    groups = stories_of([FLASH, again, again_ja])

    assert frozenset({"again", "again-ja"}) in groups


def test_a_launch_report_more_than_12_hours_after_the_first_starts_a_story() -> None:
    early = item(
        "early",
        "North Korea fires ballistic missile off east coast: JCS",
        at=datetime(2025, 7, 9, 6, 40, tzinfo=EVENT_TZ),
    )
    late = item(
        "late",
        "North Korea fires ballistic missile toward Sea of Japan, Japan says",
        at=datetime(2025, 7, 9, 22, 10, tzinfo=EVENT_TZ),
        facts={"count": 1},
    )
    assert len(cluster([early, late], NOW)) == 2


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Japan, U.S., South Korea to upgrade missile warning data link",
            "Defense officials of the three countries agreed to upgrade the real-time link sharing North "
            "Korean missile warning data that was launched two years ago.",
        ),
        (
            "Kim Jong Un tours plant making mobile missile launchers",
            "North Korea's leader visited a factory producing launch vehicles for missiles, KCNA said.",
        ),
    ],
)
def test_other_missile_news_hours_after_the_launch_stays_apart(title: str, summary: str) -> None:
    other = item("other", title, summary, at=LAUNCH_DAY + timedelta(hours=3), severity="normal")
    assert len(cluster([FLASH, JCS, other], NOW)) == 2


def test_a_report_naming_an_earlier_launch_date_still_joins_its_own_launch_day() -> None:
    # "since 14 May" is background, not the day of this launch.
    with_background = item(
        "kyodo-ja-bg",
        "北朝鮮が弾道ミサイル発射　５月１４日以来",
        "防衛省によると、北朝鮮は弾道ミサイル１発を発射した。発射は５月１４日以来となる。",
        at=LAUNCH_DAY + minutes(30),
        language="ja",
        source="Kyodo JP",
        facts={"count": 1, "landed": "Sea of Japan"},
    )
    assert len(cluster([FLASH, with_background], NOW)) == 1
