"""Data-driven classifier cases: every line of cases/*.jsonl is one test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wirewatch.classify import classify

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                case = json.loads(line)
                params.append(pytest.param(case, id=f"{path.stem}:{number}:{case['note']}"))
    return params


@pytest.mark.parametrize("case", _load())
def test_classifier_case(case: dict[str, Any]) -> None:
    # Given an item written by us, When it is classified
    result = classify(case["title"], case.get("summary", ""), case.get("lang"))
    explain = [(e.rule, e.text, e.weight) for e in result.evidence]

    # Then the topics, severity and facts are the expected ones
    assert sorted(result.topics) == sorted(case["topics"]), explain
    if "severity" in case:
        assert result.severity == case["severity"], (result.severity_reason, explain)
    for key, expected in case.get("facts", {}).items():
        assert result.facts.get(key) == expected, (key, dict(result.facts))
    if not case["topics"]:
        assert result.severity == "none"
