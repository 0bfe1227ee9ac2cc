"""One-time import of a state directory written by the old embedded AWS emulator (table.jsonl, parameters.json).

Earlier releases kept local state in moto, saved as DynamoDB-JSON lines and an SSM parameter dump.
The first command of this release moves it all into SQLite and the secrets file, then renames the
old files to *.imported, so the import runs once and the originals stay as a backup.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wirewatch.adapters.local.secrets import LocalSecretStore
from wirewatch.adapters.local.sqlite import SqliteStore
from wirewatch.errors import StoreError

TABLE_FILE, PARAMETERS_FILE = "table.jsonl", "parameters.json"


def import_once(state_dir: Path, store: SqliteStore, secrets: LocalSecretStore) -> dict[str, int]:
    """Import the emulator's files if present; returns how many records of each kind were imported."""
    table, parameters = state_dir / TABLE_FILE, state_dir / PARAMETERS_FILE
    imported: dict[str, int] = {}
    if parameters.exists():
        try:
            values = json.loads(parameters.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot import {parameters}: {exc}") from exc
        for name, value in values.items():
            secrets.put(name, str(value))
        imported["secrets"] = len(values)
        parameters.rename(parameters.with_name(PARAMETERS_FILE + ".imported"))
    if table.exists():
        imported |= _import_table(table, store)
        table.rename(table.with_name(TABLE_FILE + ".imported"))
    return imported


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    from wirewatch.adapters.aws.dynamodb.table import decode

    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise StoreError(f"cannot import {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield decode(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise StoreError(f"cannot import {path}, line {number}: {exc}") from exc


def _import_table(path: Path, store: SqliteStore) -> dict[str, int]:
    # The DynamoDB record readers know the old rows' shape; only this one-off import loads them.
    from wirewatch.adapters.aws.dynamodb.feeds_items import feed_from_record, item_from_record
    from wirewatch.adapters.aws.dynamodb.stories import story_from_record
    from wirewatch.adapters.aws.dynamodb.subscriptions import subscription_from_record

    counts = dict.fromkeys(("feeds", "items", "stories", "subscriptions", "deliveries", "runs"), 0)
    feeds, deliveries, runs = [], [], []
    for record in _rows(path):
        kind = str(record.get("pk", "")).split("#", 1)[0]
        if kind == "FEED":
            feeds.append(feed_from_record(record))
        elif kind == "ITEM":
            expires = datetime.fromtimestamp(int(record.get("expires_at", 0)), UTC)
            counts["items"] += store.put_item_if_new(item_from_record(record), expires)
        elif kind == "STORY":
            story = story_from_record(record)
            if store.get_story(story.id) is None:
                store.save_story(story, None)
                counts["stories"] += 1
        elif kind == "SUB" and record.get("sk") == "SUB":
            store.save_subscription(subscription_from_record(record))
            counts["subscriptions"] += 1
        elif kind == "SUB":
            deliveries.append(record)
        elif kind == "RUN":
            runs.append(record)
    store.save_feeds(feeds)
    counts["feeds"] = len(feeds)
    counts["deliveries"], counts["runs"] = _import_ledger(store.path, deliveries, runs)
    return counts


def _import_ledger(database: Path, deliveries: list[dict[str, Any]], runs: list[dict[str, Any]]) -> tuple[int, int]:
    """Delivery ledger entries and poll runs, row for row (the store's API only creates them new)."""
    db = sqlite3.connect(database, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for d in deliveries:
            db.execute(
                "INSERT OR IGNORE INTO deliveries (sub_id, key, channel, status, attempts, send_attempts, detail,"
                " provider_id, lease_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    d["pk"].removeprefix("SUB#"),
                    d["sk"].removeprefix("DELIVERY#"),
                    d.get("channel"),
                    d.get("status", "sending"),
                    int(d.get("attempts", 0)),
                    d.get("send_attempts"),
                    d.get("detail"),
                    d.get("provider_id"),
                    d.get("lease_until"),
                    d.get("updated_at"),
                ),
            )
        for r in runs:
            fields = {k: v for k, v in r.items() if k not in ("pk", "sk", "type", "expires_at", "done_batches")}
            db.execute(
                "INSERT OR IGNORE INTO runs (id, expires_at, data) VALUES (?, ?, ?)",
                (r["id"], int(r.get("expires_at", 0)), json.dumps(fields, ensure_ascii=False, default=str)),
            )
            db.executemany(
                "INSERT OR IGNORE INTO run_batches VALUES (?, ?)",
                [(r["id"], int(b)) for b in r.get("done_batches", ())],
            )
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot import the delivery ledger into {database}: {exc}") from exc
    finally:
        db.close()
    return len(deliveries), len(runs)
