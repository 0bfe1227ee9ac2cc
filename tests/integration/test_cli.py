"""The `wirewatch` command in local mode: separate processes share state through --state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from tests.support.rss import LAUNCH, SANCTIONS, WEATHER, rss
from wirewatch.local import stop_emulator

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def stop_emulators(tmp_path: Path) -> Iterator[None]:
    """Each test's commands start a background emulator for its state directory; stop it afterwards."""
    yield
    stop_emulator(tmp_path / "state")


def wirewatch(*args: str, state: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env["WIREWATCH_ALLOW_LOOPBACK"] = "1"
    env["WIREWATCH_LOCAL_IDLE_SECONDS"] = "120"  # a safety net should a test die before its teardown
    return subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", *args, "--state", str(state)],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_poll_then_items_in_separate_processes_share_local_state(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.route("/wire.xml", body=rss([LAUNCH, SANCTIONS, WEATHER]))
        server.route("/dead.xml", status=404, body=b"no")
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(f"# our wire\n{server.url('/wire.xml')}\n{server.url('/dead.xml')}\n")
        state = tmp_path / "state"

        first = as_json(wirewatch("poll", "--feeds", str(feeds), "--json", state=state))
        second = as_json(wirewatch("poll", "--feeds", str(feeds), "--json", "--force", state=state))
        items = as_json(wirewatch("items", "--since", "24h", "--json", state=state))
        missile = as_json(wirewatch("items", "--topic", "missile", "--json", state=state))
        listed = as_json(wirewatch("feeds", "--json", state=state))
        dry_run = wirewatch("reclassify", "--since", "1d", "--dry-run", state=state)

    assert first["feeds"] == 2 and first["fetched"] == 1 and first["failed"] == 1
    assert first["new_items"] == 3 and first["relevant_items"] == 2
    assert first["errors"][0]["status"] == 404
    assert second["new_items"] == 0
    assert {i["title"] for i in items} == {LAUNCH.title, SANCTIONS.title}
    assert [i["title"] for i in missile] == [LAUNCH.title]
    # the current rules made these items, so re-running them changes nothing
    assert dry_run.returncode == 0, dry_run.stderr
    assert "examined 3 items since 1d: 0 new matches, 0 dropped matches; dry run, nothing written" in dry_run.stdout
    assert {f["url"]: f["health"]["consecutive_failures"] for f in listed} == {
        server.url("/wire.xml"): 0,
        server.url("/dead.xml"): 2,
    }


def test_feeds_add_list_remove(tmp_path: Path) -> None:
    state = tmp_path / "state"
    added = wirewatch("feeds", "add", "https://other.example.org/feed", "--name", "Other", state=state)
    assert added.returncode == 0, added.stderr
    listed = as_json(wirewatch("feeds", "--json", state=state))
    assert [f["name"] for f in listed] == ["Other"]
    removed = wirewatch("feeds", "remove", listed[0]["id"], state=state)
    assert removed.returncode == 0
    assert as_json(wirewatch("feeds", "--json", state=state)) == []
    missing = wirewatch("feeds", "remove", "nope", state=state)
    assert missing.returncode == 1 and "no feed" in missing.stderr


def test_bad_feed_list_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.txt"
    bad.write_text("ftp://example.com/feed\n")
    result = wirewatch("poll", "--feeds", str(bad), state=tmp_path / "state")
    assert result.returncode == 2
    assert "line 1" in result.stderr and "not an http(s) URL" in result.stderr


def test_state_survives_the_emulator_stopping(tmp_path: Path) -> None:
    state = tmp_path / "state"
    added = wirewatch("feeds", "add", "https://wire.example.com/rss.xml", "--name", "Kept", state=state)
    assert added.returncode == 0, added.stderr
    stopped = wirewatch("local", "stop", state=state)
    assert "stopped (state saved)" in stopped.stdout
    # the next command starts a fresh emulator, which restores the saved table
    assert [f["name"] for f in as_json(wirewatch("feeds", "--json", state=state))] == ["Kept"]
