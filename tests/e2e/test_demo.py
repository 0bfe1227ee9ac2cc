"""`make demo` end to end: the bundled feeds through poll, alert, items and the digest preview, as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import DEMO_FEEDS, REPO

pytestmark = pytest.mark.e2e

_POLLED = re.compile(
    r"polled (\d+) feeds: (\d+) fetched, (\d+) not modified, (\d+) failed; (\d+) new items, (\d+) relevant"
)


def run_demo(tmp_path: Path, **extra: str) -> str:
    """`python -m demo` as `make demo` runs it, in tmp_path; returns what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env |= {"PYTHONPATH": str(REPO), **extra}
    run = subprocess.run(
        [sys.executable, "-m", "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_demo_runs_the_whole_pipeline_on_sqlite_with_no_network_and_no_process_left(tmp_path: Path) -> None:
    out = run_demo(tmp_path)
    assert "SQLite store" in out and "1 message in outbox/" in out
    assert_demo_ran(out, tmp_path)


def test_the_demo_flow_runs_the_same_on_dynamodb(tmp_path: Path, delivery_env: dict[str, str]) -> None:
    out = run_demo(tmp_path, **delivery_env, WIREWATCH_STORE="dynamodb")
    assert f"DynamoDB at {delivery_env['AWS_ENDPOINT_URL']}" in out and "through SES" in out
    assert_demo_ran(out, tmp_path)


def assert_demo_ran(out: str, tmp_path: Path) -> None:
    """Both poll cycles, the desk alert, relevant items of both topics, the digest preview."""

    feeds = len(list(DEMO_FEEDS.glob("*.xml"))) + 1  # and the demo's own desk wire
    first, second, third = (tuple(map(int, m)) for m in _POLLED.findall(out))
    assert first[:4] == (feeds, feeds, 0, 0)
    assert first[4] > first[5] > 0  # new items, some of them relevant
    assert second == (feeds, 0, feeds, 0, 0, 0)  # conditional GET: nothing fetched, nothing stored twice
    assert third == (feeds, 1, feeds - 1, 0, 1, 1)  # the desk wire's second report of its launch

    # the living story: the second report is one reply in the flash's thread, on the Slack Web API's log
    threads = int(re.search(r"parent messages, (\d+) with a thread", out).group(1))  # type: ignore[union-attr]
    assert threads >= 1
    assert re.search(r"chat\.postMessage channel=\S+ thread_ts=\S+", out)
    assert "chat.update" in out and "↳" in out

    alerts = int(re.search(r"urgent alerts the desk channel received: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert alerts >= 1
    listed = out.split("(relevant items found) ==", 1)[1].split("== wirewatch digest", 1)[0]
    assert re.search(r"\bmissile\b", listed) and re.search(r"\bsanctions\b", listed)

    digest = tmp_path / "out" / "demo-digest"
    assert {p.name for p in digest.iterdir()} >= {"digest.html", "digest.txt", "slack.json"}
    assert "unsubscribe" in (digest / "digest.txt").read_text("utf-8").lower()
    assert json.loads((digest / "slack.json").read_text("utf-8"))
