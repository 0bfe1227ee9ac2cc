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


def test_demo_runs_the_whole_pipeline_with_no_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [sys.executable, "-m", "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout

    feeds = len(list(DEMO_FEEDS.glob("*.xml")))
    first, second = (tuple(map(int, m)) for m in _POLLED.findall(out))
    assert first[:4] == (feeds, feeds, 0, 0)
    assert first[4] > first[5] > 0  # new items, some of them relevant
    assert second == (feeds, 0, feeds, 0, 0, 0)  # conditional GET: nothing fetched, nothing stored twice

    alerts = int(re.search(r"urgent alerts the desk channel received: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert alerts >= 1
    listed = out.split("(relevant items found) ==", 1)[1].split("== wirewatch digest", 1)[0]
    assert re.search(r"\bmissile\b", listed) and re.search(r"\bsanctions\b", listed)

    digest = tmp_path / "out" / "demo-digest"
    assert {p.name for p in digest.iterdir()} >= {"digest.html", "digest.txt", "slack.json"}
    assert "unsubscribe" in (digest / "digest.txt").read_text("utf-8").lower()
    assert json.loads((digest / "slack.json").read_text("utf-8"))
