"""`wirewatch classify` behaviour: JSON lines in and out, explanations, bad lines."""

from __future__ import annotations

import io
import json

from wirewatch.classify.cli import run_classify

GOOD = json.dumps({"id": "a1", "title": "North Korea fires ICBM over Japan", "summary": "J-Alert issued."})
JA = json.dumps({"id": "j1", "title": "安保理、北朝鮮制裁決議を採択", "lang": "ja", "link": "https://x"})
OTHER = json.dumps({"id": "n1", "title": "Iran tests missile"})


def test_writes_one_json_record_per_item() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_classify([GOOD + "\n", JA + "\n", OTHER + "\n"], out, err, explain=False)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0 and err.getvalue() == ""
    assert [r["id"] for r in records] == ["a1", "j1", "n1"]
    assert records[0]["topics"] == ["missile"] and records[0]["severity"] == "urgent"
    assert records[0]["facts"]["over_japan"] is True
    assert records[1]["topics"] == ["sanctions"]
    assert records[2]["topics"] == [] and records[2]["severity"] == "none"
    assert set(records[0]) == {"id", "topics", "scores", "severity", "severity_reason", "evidence", "facts"}
    assert {"rule", "topic", "text", "weight"} <= set(records[0]["evidence"][0])


def test_malformed_lines_are_reported_by_number_and_the_run_goes_on() -> None:
    out, err = io.StringIO(), io.StringIO()
    lines = [GOOD, "{not json", json.dumps({"id": "x"}), "[1, 2]", OTHER]
    code = run_classify(lines, out, err, explain=False)
    assert code == 1
    assert len(out.getvalue().splitlines()) == 2
    messages = err.getvalue().splitlines()
    assert [m.split(":")[0] for m in messages] == ["line 2", "line 3", "line 4"]
    assert "title" in messages[1]


def test_explain_prints_verdict_scores_and_evidence() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_classify([GOOD], out, err, explain=True)
    text = out.getvalue()
    assert code == 0
    assert "verdict:  missile" in text and "urgent" in text
    assert "missile.launch_event" in text and "scores:" in text


def test_blank_lines_are_ignored() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_classify(["", "  \n", GOOD], out, err, explain=False) == 0
    assert len(out.getvalue().splitlines()) == 1


def test_explain_states_the_inference_of_an_effects_only_launch() -> None:
    # Given a flash that names no country, only a J-Alert over Tohoku
    flash = json.dumps({"id": "f1", "title": "J-Alert issued for Tohoku as missile passes overhead"})
    out, err = io.StringIO(), io.StringIO()
    # When it is explained
    run_classify([flash], out, err, explain=True)
    # Then the evidence says what was read as the DPRK, and why it is urgent
    text = out.getvalue()
    assert "missile — severity urgent" in text
    assert "J-Alert issued for Tohoku → DPRK launch" in text
