"""The state directory of one machine's wirewatch: database, secrets, outbox, and the `run` lock.

It is the user's own: created 0700, and tightened (with a warning) when someone left group or world
bits on it, since it holds secrets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from wirewatch.adapters.local.secrets import SECRETS_FILE, LocalSecretStore
from wirewatch.adapters.local.sqlite import DATABASE_FILE, SqliteStore
from wirewatch.errors import StoreError, WirewatchError

RUN_LOCK_FILE = "run.lock"


def prepare(state_dir: Path) -> Path:
    """The state directory, created user-only if missing; group/world bits removed with a warning."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(state_dir.stat().st_mode)
        if mode & 0o077:
            state_dir.chmod(mode & 0o700)
            tightened = mode & 0o700
            print(f"wirewatch: warning: {state_dir} was open to others ({mode:o}); now {tightened:o}", file=sys.stderr)
    except OSError as exc:
        raise StoreError(f"cannot use the state directory {state_dir}: {exc.strerror}") from exc
    return state_dir


def open_store(state_dir: Path) -> SqliteStore:
    """The state directory's SQLite store; an emulator-era state dir (table.jsonl) is imported once."""
    from wirewatch.adapters.local import legacy

    prepare(state_dir)
    store = SqliteStore(state_dir / DATABASE_FILE)
    legacy.import_once(state_dir, store, secret_store(state_dir))
    return store


def secret_store(state_dir: Path) -> LocalSecretStore:
    """The state directory's secrets file."""
    return LocalSecretStore(prepare(state_dir) / SECRETS_FILE)


class AlreadyRunning(WirewatchError):
    """Another `wirewatch run` holds the state directory."""


def hold_run_lock(state_dir: Path) -> IO[str]:
    """Take the state directory's run lock for this process (kept until the returned file is closed).

    AlreadyRunning names the holder (pid, host, start time) when another `wirewatch run` has it.
    The lock is an flock: it dies with its process, so a killed run never leaves a stale lock.
    """
    path = prepare(state_dir) / RUN_LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the life of the run
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown process"
        handle.close()
        raise AlreadyRunning(f"another wirewatch run holds {path}: {holder}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat()})
    )
    handle.flush()
    return handle
