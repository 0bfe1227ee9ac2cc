"""Quality on the labelled real dev items (skipped when ../shared/realdata is absent)."""

from __future__ import annotations

import pytest

from bench.bench_classify import LABELS, evaluate, load_labelled, wirewatch
from tests.support.paths import realdata_path


@pytest.mark.realdata
def test_dev_set_quality_meets_the_goals() -> None:
    items = load_labelled(realdata_path(LABELS))
    scores = evaluate(items, [wirewatch(i.title, i.summary) for i in items])
    assert scores["relevance"].f1 >= 0.93 and scores["relevance"].precision >= 0.93, scores["relevance"]
    assert scores["missile"].f1 >= 0.92, scores["missile"]
    assert scores["sanctions"].f1 >= 0.88, scores["sanctions"]
