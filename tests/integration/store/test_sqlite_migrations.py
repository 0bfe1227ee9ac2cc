"""SQLite store: the schema is versioned with PRAGMA user_version; forward migrations keep a user's data."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.integration.store.conftest import KEEP, NOW, fixed_clock
from tests.unit.stories.builders import item
from wirewatch.adapters.local import sqlite
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import StoreError

pytestmark = pytest.mark.integration


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def future(monkeypatch: pytest.MonkeyPatch, *steps: str) -> int:
    """Pretend a later wirewatch appended these migrations; returns its schema version."""
    migrations = (*sqlite.MIGRATIONS, *steps)
    monkeypatch.setattr(sqlite, "MIGRATIONS", migrations)
    monkeypatch.setattr(sqlite, "SCHEMA_VERSION", len(migrations))
    return len(migrations)


def test_given_no_file_when_opened_then_the_schema_is_created_at_the_current_version_in_wal_mode(
    db_path: Path,
) -> None:
    SqliteStore(db_path).close()
    assert user_version(db_path) == sqlite.SCHEMA_VERSION >= 1
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"feeds", "items", "stories", "subscriptions", "deliveries", "runs", "run_batches"} <= tables


def test_given_an_empty_file_at_version_0_when_opened_then_it_is_migrated(db_path: Path) -> None:
    db_path.write_bytes(b"")
    store = SqliteStore(db_path, clock=fixed_clock())
    assert store.put_item_if_new(item("i-1", "launch"), KEEP)
    assert user_version(db_path) == sqlite.SCHEMA_VERSION


def test_given_a_file_with_data_when_a_newer_wirewatch_opens_it_then_it_is_upgraded_and_nothing_is_lost(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = SqliteStore(db_path, clock=fixed_clock())
    old.put_item_if_new(item("i-1", "launch"), KEEP)
    old.create_run("r-1", ["a"], 1, NOW)
    old.close()
    version = future(
        monkeypatch,
        "ALTER TABLE items ADD COLUMN note TEXT; -- a later column; with a ';' in its comment\n"
        "CREATE INDEX items_by_feed ON items (feed_id)",
    )
    upgraded = SqliteStore(db_path, clock=fixed_clock())
    assert user_version(db_path) == version
    assert upgraded.existing_item_ids(["i-1"]) == {"i-1"}
    assert upgraded.count("runs") == 1
    with sqlite3.connect(db_path) as db:
        assert "note" in {r[1] for r in db.execute("PRAGMA table_info(items)")}
    SqliteStore(db_path).close()  # opening again applies nothing twice
    assert user_version(db_path) == version


def test_given_a_migration_that_fails_when_opened_then_nothing_of_it_is_applied_and_the_error_names_the_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = SqliteStore(db_path, clock=fixed_clock())
    old.put_item_if_new(item("i-1", "launch"), KEEP)
    old.close()
    future(monkeypatch, "ALTER TABLE items ADD COLUMN note TEXT; ALTER TABLE no_such_table ADD COLUMN x TEXT")
    with pytest.raises(StoreError) as raised:
        SqliteStore(db_path)
    assert str(db_path) in str(raised.value) and "no_such_table" in str(raised.value)
    monkeypatch.undo()
    assert user_version(db_path) == sqlite.SCHEMA_VERSION
    with sqlite3.connect(db_path) as db:
        assert "note" not in {r[1] for r in db.execute("PRAGMA table_info(items)")}
    assert SqliteStore(db_path, clock=fixed_clock()).existing_item_ids(["i-1"]) == {"i-1"}


def test_given_a_file_from_a_newer_wirewatch_when_opened_then_it_refuses_clearly_and_leaves_it_alone(
    db_path: Path,
) -> None:
    SqliteStore(db_path).close()
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {sqlite.SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError) as raised:
        SqliteStore(db_path)
    message = str(raised.value)
    assert str(db_path) in message and "newer" in message and "upgrade wirewatch" in message
    assert "\n" not in message
    assert user_version(db_path) == sqlite.SCHEMA_VERSION + 5


def test_given_two_processes_opening_a_new_file_at_once_when_both_migrate_then_both_open_it(db_path: Path) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            SqliteStore(db_path).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and user_version(db_path) == sqlite.SCHEMA_VERSION
