"""The `wirewatch` command on the embedded store: separate processes share state through --state."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from tests.support.rss import LAUNCH, SANCTIONS, WEATHER, rss
from tests.unit.stories.builders import item as build_item
from wirewatch.models import Feed, Subscription

pytestmark = pytest.mark.integration


def wirewatch(*args: str, state: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env["WIREWATCH_ALLOW_LOOPBACK"] = "1"
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
    added = wirewatch("feeds", "add", "http://127.0.0.1:9/feed", "--name", "Other", state=state)
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


def test_an_emulator_era_state_dir_is_imported_once_with_nothing_lost(tmp_path: Path) -> None:
    from wirewatch.adapters.aws.dynamodb.feeds_items import feed_to_record, item_to_record
    from wirewatch.adapters.aws.dynamodb.subscriptions import subscription_to_record
    from wirewatch.adapters.aws.dynamodb.table import encode

    state = tmp_path / "state"
    state.mkdir()
    now = datetime.now(UTC)
    item = build_item("i1", "North Korea fires a ballistic missile", at=now - timedelta(hours=1), source="Wire")
    sub = Subscription(id="sub-1", channel="slack", target="/wirewatch/slack/sub-1", status="active", created_at=now)
    delivery = {"pk": "SUB#sub-1", "sk": "DELIVERY#ALERT#s1", "status": "sent", "attempts": 1, "channel": "slack"}
    rows = [
        feed_to_record(Feed(id="wire", url="https://wire.example.com/rss", name="Wire", etag='"e1"')),
        item_to_record(item, now + timedelta(days=30)),
        subscription_to_record(sub),
        delivery,
    ]
    (state / "table.jsonl").write_text("".join(json.dumps(encode(r)) + "\n" for r in rows))
    (state / "parameters.json").write_text(json.dumps({"/wirewatch/slack/sub-1": "https://hooks.slack.com/x"}))

    feeds = as_json(wirewatch("feeds", "--json", state=state))
    items = as_json(wirewatch("items", "--json", state=state))
    subs = as_json(wirewatch("subscriptions", "--json", state=state))

    assert [(f["id"], f["url"]) for f in feeds] == [("wire", "https://wire.example.com/rss")]
    assert [i["title"] for i in items] == [item.title]
    assert [(s["id"], s["status"]) for s in subs] == [("sub-1", "active")]
    assert not (state / "table.jsonl").exists() and (state / "table.jsonl.imported").exists()
    secrets = json.loads((state / "secrets.json").read_text())
    assert secrets["/wirewatch/slack/sub-1"] == "https://hooks.slack.com/x"
    assert (state / "secrets.json").stat().st_mode & 0o077 == 0
    # imported once: a second command finds nothing to import and the same data
    assert as_json(wirewatch("feeds", "--json", state=state)) == feeds


def _processes_holding(directory: Path) -> list[int]:
    """Pids of the processes with a file open under directory (read from /proc, no tools needed)."""
    holders = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(str(directory) in os.readlink(fd) for fd in fd_dir.iterdir()):
                holders.append(int(fd_dir.parent.name))
        except OSError:
            continue  # a process that ended, or one we may not look into
    return holders


def test_no_background_process_outlives_a_command(tmp_path: Path) -> None:
    state = tmp_path / "state"
    added = wirewatch("feeds", "add", "http://127.0.0.1:9/rss.xml", "--name", "Kept", state=state)
    assert added.returncode == 0, added.stderr
    assert [f["name"] for f in as_json(wirewatch("feeds", "--json", state=state))] == ["Kept"]
    assert (state / "wirewatch.db").exists()
    assert _processes_holding(state) == []


@pytest.mark.parametrize(
    "command",
    [
        ["items", "--since", "999999d"],
        ["reclassify", "--since", "999999d", "--dry-run"],
        ["digest", "--preview", "--since", "99999999w"],
        ["items", "--limit", "0"],
        ["subscribe", "slack", "https://hooks.slack.com/services/T/B/X", "--cadence", "hourly", "--at", "07:00"],
    ],
    ids=["items-since", "reclassify-since", "digest-since", "limit-0", "at-with-hourly"],
)
def test_a_bad_value_is_a_one_line_usage_error_not_a_traceback(tmp_path: Path, command: list[str]) -> None:
    result = wirewatch(*command, state=tmp_path / "state")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") <= 2 and "wirewatch" in result.stderr


def test_poll_exits_non_zero_when_every_feed_failed_and_keeps_json_clean(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.route("/dead.xml", status=500, body=b"down")
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(f"{server.url('/dead.xml')}\n")
        result = wirewatch("poll", "--feeds", str(feeds), "--json", state=tmp_path / "state")
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == 1  # log lines, if any, went to stderr


def test_help_shows_the_defaults(tmp_path: Path) -> None:
    result = wirewatch("items", "--help", state=tmp_path / "state")
    assert result.returncode == 0
    assert "(default: 24h)" in result.stdout and "(default: 200)" in result.stdout


def test_items_never_print_a_script_link_or_control_characters(tmp_path: Path) -> None:
    from wirewatch.adapters.local.sqlite import SqliteStore

    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    now = datetime.now(UTC)
    launch = build_item("i-js", "North Korea fires a ballistic missile", at=now - timedelta(hours=1))
    hostile = dataclasses.replace(launch, source="Wire\x1b[31m", link="javascript:alert(1)")
    SqliteStore(state / "wirewatch.db").put_item_if_new(hostile, now + timedelta(days=1))
    listed = wirewatch("items", state=state)
    assert listed.returncode == 0, listed.stderr
    assert "javascript:" not in listed.stdout and "(not an http link)" in listed.stdout
    assert "\x1b" not in listed.stdout
