"""`wirewatch run`: the whole service in the foreground on one machine, as a user or systemd starts it."""

from __future__ import annotations

import configparser
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopback.feed_server import FeedServer
from loopback.slack_catcher import SlackCatcher
from tests.support.paths import REPO
from tests.support.rss import SANCTIONS, WEATHER, Story, rss

pytestmark = pytest.mark.integration

HOOK = "/services/T1/B1/desk"
OVER_JAPAN = Story(
    "test-icbm-over-japan",
    "North Korea fires ICBM that flew over Japan, Tokyo says",
    "The intercontinental ballistic missile passed over Hokkaido before landing in the Pacific.",
)


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    return env | {"WIREWATCH_ALLOW_LOOPBACK": "1", "WIREWATCH_STATE_DIR": str(state)}


def wirewatch(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "wirewatch.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=_env(state), timeout=120)


def start_run(state: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "wirewatch.cli", "run", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(state))


def desk(state: Path, feeds: list[str], slack: SlackCatcher) -> None:
    """A state dir with these feeds and an immediate Slack subscription for the desk."""
    for url in feeds:
        assert wirewatch("feeds", "add", url, state=state).returncode == 0
    subscribed = wirewatch("subscribe", "slack", slack.url(HOOK), "--cadence", "immediate", state=state)
    assert subscribed.returncode == 0, subscribed.stderr


def stored_item_ids(state: Path) -> list[str]:
    with sqlite3.connect(state / "wirewatch.db") as db:
        return [row[0] for row in db.execute("SELECT id FROM items")]


def test_one_cycle_polls_alerts_and_logs_one_line_and_a_second_sends_nothing_twice(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with FeedServer() as server, SlackCatcher() as slack:
        server.route("/wire.xml", body=rss([OVER_JAPAN, SANCTIONS, WEATHER]))
        desk(state, [server.url("/wire.xml")], slack)

        first = wirewatch("run", "--once", state=state)
        second = wirewatch("run", "--once", state=state)
        alerts = slack.payloads(HOOK)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "polled 1/1 feeds (1 fetched" in lines[0] and "3 new, 2 relevant" in lines[0]
    assert "alerts 1 sent" in lines[0] and "digests" in lines[0] and "purged 0" in lines[0]
    assert second.returncode == 0, second.stderr
    assert "0 new" in second.stdout and "alerts 0 sent" in second.stdout
    assert len(alerts) == 1 and OVER_JAPAN.title in alerts[0]["text"]
    assert len(stored_item_ids(state)) == 3


def test_a_second_run_on_the_same_state_dir_refuses_naming_the_holder_and_sigterm_stops_the_first(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with FeedServer() as server:
        server.route("/wire.xml", body=rss([WEATHER]))
        assert wirewatch("feeds", "add", server.url("/wire.xml"), state=state).returncode == 0
        first = start_run(state, "--poll-every", "1h")
        try:
            assert first.stdout is not None
            assert "polled" in first.stdout.readline()  # the first cycle is done: the lock is held
            second = wirewatch("run", "--once", state=state)
        finally:
            first.send_signal(signal.SIGTERM)
            code = first.wait(timeout=30)

    assert second.returncode == 1
    assert "another wirewatch run holds" in second.stderr and f'"pid": {first.pid}' in second.stderr
    assert "Traceback" not in second.stderr
    assert code == 0
    # once the first is gone the lock is free again
    assert wirewatch("run", "--once", state=state).returncode == 0


def test_kill_9_in_the_middle_of_a_poll_loses_nothing_and_the_next_run_sends_no_alert_twice(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fast = [Story(f"fast-{n}", f"Wire brief number {n} on the economy") for n in range(20)]
    with FeedServer() as server, SlackCatcher() as slack:
        server.route("/launch.xml", body=rss([OVER_JAPAN]))
        server.route("/fast.xml", body=rss(fast))
        server.route("/slow.xml", body=rss([SANCTIONS]), delay=30)
        desk(state, [server.url(p) for p in ("/launch.xml", "/fast.xml", "/slow.xml")], slack)

        killed = start_run(state, "--poll-every", "1h")
        deadline = time.monotonic() + 60
        while len(stored_item_ids(state) if (state / "wirewatch.db").exists() else []) < 20:
            assert time.monotonic() < deadline, "the fast feeds were never stored"
            time.sleep(0.1)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        kept = stored_item_ids(state)

        server.route("/slow.xml", body=rss([SANCTIONS]))
        after = wirewatch("run", "--once", state=state)
        alerts = slack.payloads(HOOK)

    assert after.returncode == 0, after.stderr
    ids = stored_item_ids(state)
    assert len(kept) >= 20 and set(kept) <= set(ids)  # what was committed before the kill is all there
    assert len(ids) == len(set(ids)) == 22  # and nothing is stored twice
    assert [OVER_JAPAN.title in a["text"] for a in alerts] == [True]  # one alert, however the run ended


def test_the_systemd_unit_runs_wirewatch_run_in_the_foreground_with_a_private_umask() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy" / "systemd" / "wirewatch.service")
    assert unit["Service"]["ExecStart"].endswith("wirewatch run")
    assert unit["Service"]["Type"] == "simple" and unit["Service"]["UMask"] == "0077"
    assert unit["Install"]["WantedBy"] == "default.target"
