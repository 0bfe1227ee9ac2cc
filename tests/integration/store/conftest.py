"""The store contract's fixtures: one `store` per backend (DynamoDB over the moto server, SQLite in a temp file)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wirewatch.adapters.aws.dynamodb import Repository
from wirewatch.adapters.local.sqlite import SqliteStore

# The contract's "now": a fixed day, so SQLite's expiry clock and the records' times agree.
NOW = datetime(2025, 7, 9, 23, 0, tzinfo=UTC)
# Far enough ahead that no contract record expires on either backend.
KEEP = NOW + timedelta(days=400)


def fixed_clock(moment: datetime = NOW) -> Any:
    """A clock for SqliteStore that always reads `moment`."""
    return lambda: moment.timestamp()


@pytest.fixture(params=["dynamodb", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The store under contract: each test runs once per backend."""
    if request.param == "dynamodb":
        client = request.getfixturevalue("dynamodb")
        yield Repository(client, os.environ["WIREWATCH_TABLE"])
        return
    sqlite = SqliteStore(tmp_path / "wirewatch.db", clock=fixed_clock())
    yield sqlite
    sqlite.close()


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    """Where a SQLite-only test keeps its database."""
    return tmp_path / "wirewatch.db"
