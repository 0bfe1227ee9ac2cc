"""SQLite store: backup() writes a consistent copy while other stores keep writing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.integration.store.conftest import KEEP, fixed_clock
from tests.unit.stories.builders import item
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import StoreError

pytestmark = pytest.mark.integration


def test_given_a_store_being_written_when_backed_up_then_the_copy_opens_with_every_item_committed_before(
    db_path: Path, tmp_path: Path
) -> None:
    store = SqliteStore(db_path, clock=fixed_clock())
    before = [f"i-{n}" for n in range(200)]
    for item_id in before:
        store.put_item_if_new(item(item_id, "launch"), KEEP)
    writer = SqliteStore(db_path, clock=fixed_clock())  # another process writing meanwhile
    stop = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            writer.put_item_if_new(item(f"during-{n}", "launch"), KEEP)
            n += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        store.backup(tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored = SqliteStore(tmp_path / "copy.db", clock=fixed_clock())
    assert restored.existing_item_ids(before) == set(before)
    assert restored.put_item_if_new(item("after-restore", "launch"), KEEP)


def test_given_a_target_that_cannot_be_written_when_backed_up_then_a_store_error_names_it(
    db_path: Path, tmp_path: Path
) -> None:
    store = SqliteStore(db_path)
    target = tmp_path / "no-such-folder" / "copy.db"
    with pytest.raises(StoreError) as raised:
        store.backup(target)
    assert str(target) in str(raised.value)


def test_a_backup_is_readable_by_its_user_only_and_never_overwrites_a_file(db_path: Path, tmp_path: Path) -> None:
    import stat

    store = SqliteStore(db_path, clock=fixed_clock())
    store.put_item_if_new(item("i-1", "launch"), KEEP)
    target = tmp_path / "copy.db"
    store.backup(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(StoreError, match=r"copy\.db"):
        store.backup(target)
