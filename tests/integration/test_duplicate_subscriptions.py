"""Subscribing the same target twice gives back the live subscription, not a second one (issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def subscribe(state: Path, *args: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env |= {"WIREWATCH_ALLOW_LOOPBACK": "1", "WIREWATCH_STATE_DIR": str(state)}
    result = subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", "subscribe", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_same_email_or_webhook_subscribed_twice_is_one_subscription(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = subscribe(state, "email", "Analyst@example.com")
    again = subscribe(state, "email", "analyst@example.com", "--cadence", "hourly")
    hook = "http://127.0.0.1:9/services/T/B/desk"
    desk = subscribe(state, "slack", hook, "--cadence", "immediate")
    desk_again = subscribe(state, "slack", hook, "--cadence", "immediate")
    other = subscribe(state, "email", "other@example.com")

    assert again["id"] == first["id"] and desk_again["id"] == desk["id"]
    assert len({first["id"], desk["id"], other["id"]}) == 3
    assert len(list((state / "outbox").glob("*.eml"))) == 2  # one confirmation per address, not per request
