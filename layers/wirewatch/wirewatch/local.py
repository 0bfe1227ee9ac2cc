"""Local mode: commands talk to an embedded AWS emulator (moto) that keeps a state directory.

The emulator runs in the background between commands (see wirewatch.emulator); this module finds
it, starts it when needed, and points boto3 at it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wirewatch import emulator

LOCAL_SENDER = emulator.SENDER
LOCAL_PUBLIC_URL = "http://127.0.0.1:3000"


def default_state_dir() -> Path:
    """Per-user data directory for local state (XDG_DATA_HOME aware)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wirewatch"


def wants_local_mode(env: dict[str, str] | os._Environ[str]) -> bool:
    """Local mode unless an AWS endpoint or a table name has been configured."""
    return not env.get("AWS_ENDPOINT_URL") and not env.get("WIREWATCH_TABLE")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on a loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; the emulator should be as quiet as the real thing.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def point_at(endpoint: str, table: str) -> None:
    """Point boto3 and wirewatch at an emulator endpoint with throwaway credentials."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "WIREWATCH_TABLE": table,
        }
    )
    os.environ.setdefault("WIREWATCH_SENDER", LOCAL_SENDER)
    os.environ.setdefault("WIREWATCH_PUBLIC_URL", LOCAL_PUBLIC_URL)
    os.environ.setdefault("WIREWATCH_SES_MAX_SEND_RATE", "14")  # moto has no account quota to read
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    from wirewatch import runtime

    runtime.reset()


def emulator_endpoint(state_dir: Path) -> str | None:
    """The endpoint of the emulator serving state_dir, if one is running and answers."""
    info = state_dir / emulator.INFO_FILE
    try:
        endpoint = str(json.loads(info.read_text("utf-8"))["endpoint"])
    except (OSError, ValueError, KeyError):
        return None
    host, _, port = endpoint.removeprefix("http://").partition(":")
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        return None
    return endpoint


def start_emulator(state_dir: Path, timeout: float = 30.0) -> str:
    """The emulator's endpoint for state_dir, starting it in the background when none runs."""
    endpoint = emulator_endpoint(state_dir)
    if endpoint:
        return endpoint
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = (state_dir / "emulator.log").open("ab")
    subprocess.Popen(
        [sys.executable, "-m", "wirewatch.emulator", "--state", str(state_dir)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # outlives this command, and a Ctrl-C aimed at it
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        endpoint = emulator_endpoint(state_dir)
        if endpoint:
            return endpoint
        time.sleep(0.05)
    raise RuntimeError(f"the local AWS emulator did not start; see {state_dir / 'emulator.log'}")


def stop_emulator(state_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the emulator serving state_dir (it saves first); False when none was running."""
    try:
        pid = int(json.loads((state_dir / emulator.INFO_FILE).read_text("utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (state_dir / emulator.INFO_FILE).exists():
        time.sleep(0.05)
    return True


@contextmanager
def local_aws(state_dir: Path) -> Iterator[str]:
    """Point this command at the state directory's emulator, starting it if needed."""
    endpoint = start_emulator(state_dir)
    point_at(endpoint, emulator.TABLE)
    yield endpoint


def prepare_accounts() -> None:
    """A verified sender and a link-signing key, as a deployed stack has (tests with their own moto)."""
    from wirewatch.adapters.aws import clients as aws

    emulator.prepare_accounts(aws.client)
