"""`wirewatch classify`: JSON lines in, one classification per line out (or an explanation)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, TextIO

from wirewatch.classify import classify_with, default_rules
from wirewatch.classify.rules import Rules
from wirewatch.models import Classification


class BadLine(ValueError):
    """A JSON line that is not a usable item."""


def run_classify(lines: Iterable[str], out: TextIO, err: TextIO, explain: bool, rules: Rules | None = None) -> int:
    """Classify JSON-lines items; return 0 when every line was usable, 1 when any was not."""
    rules = rules or default_rules()
    status = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = _parse(line)
        except BadLine as exc:
            err.write(f"line {number}: {exc}; skipped\n")
            status = 1
            continue
        if item["id"] is None:
            item["id"] = f"line-{number}"
        result = classify_with(rules, item["title"], item["summary"], item["lang"])
        if explain:
            out.write(explain_text(item, result))
        else:
            out.write(json.dumps(to_record(item["id"], result), ensure_ascii=False) + "\n")
    return status


def to_record(item_id: Any, result: Classification) -> dict[str, Any]:
    """The JSON-serialisable output record of one item."""
    return {
        "id": item_id,
        "topics": list(result.topics),
        "scores": dict(result.scores),
        "severity": result.severity,
        "severity_reason": result.severity_reason,
        "evidence": [asdict(e) for e in result.evidence],
        "facts": dict(result.facts),
    }


def explain_text(item: dict[str, Any], result: Classification) -> str:
    """A human-readable account of one decision."""
    verdict = ", ".join(result.topics) if result.topics else "not relevant"
    lines = [
        f"[{item['id']}] {_one_line(item['title'])}",
        f"  verdict:  {verdict} — severity {result.severity} ({result.severity_reason})",
        "  scores:   " + ", ".join(f"{t} {s:g}" for t, s in result.scores.items()),
    ]
    if result.facts:
        lines.append("  facts:    " + ", ".join(f"{k}={v}" for k, v in result.facts.items()))
    if result.evidence:
        lines.append("  evidence:")
        for ev in result.evidence:
            lines.append(f"    {ev.weight:+6.2f}  {ev.topic:<9} {ev.rule:<34} {_one_line(ev.text)!r}")
    else:
        lines.append("  evidence: none")
    return "\n".join(lines) + "\n\n"


def _parse(line: str) -> dict[str, Any]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise BadLine("expected a JSON object with id, title, summary")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadLine("missing or empty 'title'")
    summary = raw.get("summary") or ""
    if not isinstance(summary, str):
        raise BadLine("'summary' must be a string")
    lang = raw.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise BadLine("'lang' must be a string")
    item_id = raw.get("id", raw.get("link"))
    return {"id": item_id, "title": title, "summary": summary, "lang": lang, "link": raw.get("link")}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:160]
