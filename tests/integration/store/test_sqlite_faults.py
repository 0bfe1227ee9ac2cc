"""SQLite store under faults: a corrupt, read-only, locked or full database gives a StoreError naming the file, and
what was committed survives, a kill -9 included."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.store.conftest import KEEP, NOW, fixed_clock
from tests.support.paths import REPO
from tests.unit.stories.builders import item
from wirewatch.adapters.local import sqlite
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import StoreError

pytestmark = pytest.mark.integration


def assert_names_the_file(error: pytest.ExceptionInfo[StoreError], path: Path, *reasons: str) -> None:
    """A one-line message with the file and the reason, raised from SQLite's error (kept as the cause)."""
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    for reason in reasons:
        assert reason in message
    assert isinstance(error.value.__cause__, sqlite3.Error)


def filled(path: Path, ids: list[str]) -> None:
    store = SqliteStore(path, clock=fixed_clock())
    for item_id in ids:
        store.put_item_if_new(item(item_id, "launch"), KEEP)
    store.close()


# corrupt


def test_given_a_file_of_garbage_when_opened_then_a_store_error_names_the_file(db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database, just bytes \x00\xff" * 200)
    with pytest.raises(StoreError) as raised:
        SqliteStore(db_path)
    assert_names_the_file(raised, db_path, "file is not a database")


def test_given_a_database_whose_pages_were_overwritten_when_read_then_a_store_error_names_the_file(
    db_path: Path,
) -> None:
    filled(db_path, [f"i-{n}" for n in range(300)])
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    size = db_path.stat().st_size
    with db_path.open("r+b") as raw:  # keep the header page, scramble everything after it
        raw.seek(page_size)
        raw.write(os.urandom(size - page_size))
    with pytest.raises(StoreError) as raised:
        store = SqliteStore(db_path, clock=fixed_clock())
        store.existing_item_ids(f"i-{n}" for n in range(300))
        list(store.items_first_seen(NOW - timedelta(days=9), NOW))
    assert_names_the_file(raised, db_path)
    assert "malformed" in str(raised.value) or "not a database" in str(raised.value)


# read-only


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files and folders unwritable even for root (chattr +i), else by mode bits."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    # As root, mode bits do not stop writes; the immutable attribute does.
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only for root")
    made = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def test_given_a_read_only_database_when_written_then_a_store_error_names_the_file_and_reads_still_work(
    db_path: Path,
) -> None:
    filled(db_path, ["i-1"])
    with read_only(db_path):
        store = SqliteStore(db_path, clock=fixed_clock())
        assert store.existing_item_ids(["i-1", "i-2"]) == {"i-1"}
        with pytest.raises(StoreError) as raised:
            store.put_item_if_new(item("i-2", "launch"), KEEP)
        assert_names_the_file(raised, db_path, "readonly", "(the file is read-only)")
        store.close()
    assert SqliteStore(db_path, clock=fixed_clock()).put_item_if_new(item("i-2", "launch"), KEEP)


def test_given_a_database_in_a_read_only_folder_when_opened_then_a_store_error_names_the_file_and_why(
    db_path: Path,
) -> None:
    filled(db_path, ["i-1"])  # closed cleanly: no -wal or -shm file left beside it
    with read_only(db_path, db_path.parent), pytest.raises(StoreError) as raised:
        SqliteStore(db_path)
    assert_names_the_file(raised, db_path, "read-only")


def test_given_a_read_only_file_never_initialised_when_opened_then_a_store_error_names_the_file(
    db_path: Path,
) -> None:
    db_path.write_bytes(b"")
    with read_only(db_path, db_path.parent), pytest.raises(StoreError) as raised:
        SqliteStore(db_path)
    assert_names_the_file(raised, db_path)


# locked


@contextlib.contextmanager
def held_exclusively(path: Path) -> Iterator[None]:
    """Another connection (as another process would) holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_given_another_writer_holding_the_lock_when_written_then_a_store_error_says_locked_after_the_timeout(
    db_path: Path,
) -> None:
    filled(db_path, ["i-1"])
    store = SqliteStore(db_path, clock=fixed_clock(), busy_timeout=0.1)
    with held_exclusively(db_path):
        with pytest.raises(StoreError) as raised:
            store.put_item_if_new(item("i-2", "launch"), KEEP)
        assert_names_the_file(raised, db_path, "locked")
        assert store.existing_item_ids(["i-1"]) == {"i-1"}  # WAL: readers are not blocked
    assert store.put_item_if_new(item("i-2", "launch"), KEEP)  # the store is usable once the lock goes


def test_given_a_new_file_locked_by_another_process_when_opened_then_a_store_error_says_locked(
    db_path: Path,
) -> None:
    sqlite3.connect(db_path).close()
    with held_exclusively(db_path), pytest.raises(StoreError) as raised:
        SqliteStore(db_path, busy_timeout=0.1)
    assert_names_the_file(raised, db_path, "locked")


# full disk


def write_until_full(store: SqliteStore, prefix: str) -> tuple[list[str], StoreError]:
    """Put big items until the store refuses; returns the ids stored and the error."""
    stored: list[str] = []
    for n in range(100_000):
        record = item(f"{prefix}-{n}", "launch", "x" * 3000 + str(n))
        try:
            assert store.put_item_if_new(record, KEEP)
        except StoreError as exc:
            return stored, exc
        stored.append(record.id)
    raise AssertionError("the disk never filled")


def test_given_a_database_capped_in_size_when_a_write_does_not_fit_then_full_is_reported_and_data_survives(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # max_page_count is per connection, so the cap is set on the store's own connection as it opens.
    connect = sqlite3.connect

    def capped(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 60")
        return db

    monkeypatch.setattr(sqlite.sqlite3, "connect", capped)
    store = SqliteStore(db_path, clock=fixed_clock())
    stored, error = write_until_full(store, "i")
    monkeypatch.undo()
    assert stored and "database or disk is full" in str(error) and str(db_path) in str(error)
    assert store.existing_item_ids(stored) == set(stored)  # the same store goes on reading
    store.close()
    reopened = SqliteStore(db_path, clock=fixed_clock())
    assert reopened.existing_item_ids(stored) == set(stored)
    assert reopened.put_item_if_new(item("after", "launch"), KEEP)  # without the cap it writes again


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_given_a_disk_that_fills_up_when_written_then_full_is_reported_and_everything_stored_survives(
    small_disk: Path,
) -> None:
    path = small_disk / "wirewatch.db"
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 1_200_000)  # leave room for a few hundred KB of items
    store = SqliteStore(path, clock=fixed_clock())
    stored, error = write_until_full(store, "i")
    assert stored and "database or disk is full" in str(error) and str(path) in str(error)
    assert store.existing_item_ids(stored) == set(stored)
    filler.unlink()  # space freed: the same store writes again (no transaction was left open)
    assert store.put_item_if_new(item("after", "launch"), KEEP)
    store.close()
    reopened = SqliteStore(path, clock=fixed_clock())
    assert reopened.existing_item_ids([*stored, "after"]) == {*stored, "after"}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# kill -9

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from pathlib import Path

    from tests.integration.store.conftest import KEEP, NOW, fixed_clock
    from tests.unit.stories.builders import item
    from wirewatch.adapters.local.sqlite import SqliteStore

    store = SqliteStore(Path(sys.argv[1]), clock=fixed_clock())
    n = 0
    while True:
        record = item(f"i-{n}", "launch", "x" * 500)
        assert store.put_item_if_new(record, KEEP)
        assert store.claim_delivery("s-1", record.id, "slack", NOW, timedelta(minutes=5))
        print(record.id, flush=True)  # printed only once both writes are committed
        n += 1
    """
)


def test_given_a_writer_killed_mid_write_when_reopened_then_every_committed_write_is_there_once(
    db_path: Path,
) -> None:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers" / "wirewatch")])}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True, cwd=REPO, env=env
    )
    assert writer.stdout is not None
    committed = []
    for line in writer.stdout:
        committed.append(line.strip())
        if len(committed) == 300:
            break
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate(timeout=30)
    committed += rest.split()
    assert writer.returncode == -signal.SIGKILL
    store = SqliteStore(db_path, clock=fixed_clock())
    assert store.existing_item_ids(committed) == set(committed)
    for item_id in committed:  # the next run stores nothing twice and sends nothing twice
        assert not store.put_item_if_new(item(item_id, "launch"), KEEP)
        assert not store.claim_delivery("s-1", item_id, "slack", NOW, timedelta(minutes=5))
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
