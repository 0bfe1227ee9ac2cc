"""Quality on the labelled real dev items (skipped when ../shared/realdata is absent)."""

from __future__ import annotations

import pytest

from tests.support.paths import REALDATA, realdata_path
from tests.support.quality import evaluate, load_labelled
from tests.unit.classifier.realdata_items import NEAR_MISSES, negatives
from wirewatch.classify import classify

LABELS = "labels-dev.jsonl"


@pytest.mark.realdata
def test_dev_set_quality_meets_the_goals() -> None:
    items = load_labelled(realdata_path(LABELS))
    scores = evaluate(items, [frozenset(classify(i.title, i.summary).topics) for i in items])
    assert scores["relevance"].f1 >= 0.97 and scores["relevance"].precision >= 0.98, scores["relevance"]
    assert scores["missile"].f1 >= 0.97, scores["missile"]
    assert scores["sanctions"].f1 >= 0.93, scores["sanctions"]


@pytest.mark.realdata
def test_no_real_negative_is_classified_relevant() -> None:
    # Given the 960 near misses and 700 general-news items, none about North Korea
    realdata_path(NEAR_MISSES)
    # When they are classified, Then none gets a topic
    relevant = [item.key for item in negatives(REALDATA) if classify(item.title, item.summary).topics]
    assert not relevant, relevant
