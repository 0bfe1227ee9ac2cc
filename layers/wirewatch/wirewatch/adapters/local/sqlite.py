"""The embedded store: every record kind in one SQLite file (WAL mode), with the DynamoDB store's semantics.

Same ports, same rules: puts of items and feeds are insert-if-new; stories and subscriptions are
written conditionally on what was read (a lost race raises ConflictError, never overwrites); every
time-window read goes through an index; rows past their expiry are never returned and `purge_expired`
deletes them (DynamoDB's TTL does that on AWS). One connection per store, serialised by a lock;
other processes (the CLI beside `wirewatch run`) wait up to the busy timeout for the write lock.

WAL with synchronous=NORMAL: a commit survives the process being killed at any point; only a power
loss can take back the last commits, never corrupt the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from wirewatch.adapters.local.codec import from_json, iso, to_json
from wirewatch.adapters.subscriptions import SubscriptionChanges
from wirewatch.errors import ConflictError, StoreError
from wirewatch.models import CADENCES, Classification, Feed, Item, Story, Subscription
from wirewatch.paging import Page, PageFilter, Position
from wirewatch.runlog import MAX_ERROR_CHARS, MAX_ERRORS_PER_BATCH, RUN_COUNTERS, RUN_RETENTION, run_view, short_error

T = TypeVar("T")
DATABASE_FILE = "wirewatch.db"
# Above every "<iso>#<id>" key that starts with the same timestamp.
_TOP = "#~"
_PURGE_BATCH = 5_000

# Forward migrations, applied in order inside one transaction each; PRAGMA user_version is the
# number applied. Append, never edit: a user's file upgrades through every step it has not seen.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        feed_id TEXT NOT NULL,
        first_seen TEXT NOT NULL,          -- "<iso>#<id>"
        relevant_key TEXT,                 -- "<published iso>#<id>", relevant items only
        topics TEXT NOT NULL,              -- " missile sanctions "
        severity TEXT NOT NULL,
        expires_at INTEGER NOT NULL,       -- epoch seconds
        data TEXT NOT NULL
    );
    CREATE INDEX items_by_relevant ON items (relevant_key) WHERE relevant_key IS NOT NULL;
    CREATE INDEX items_by_first_seen ON items (first_seen);
    CREATE INDEX items_by_expiry ON items (expires_at);
    CREATE TABLE stories (
        id TEXT PRIMARY KEY,
        last_key TEXT NOT NULL,            -- "<last seen iso>#<id>"
        source_count INTEGER NOT NULL,
        alerted INTEGER NOT NULL,
        topics TEXT NOT NULL,
        severity TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX stories_by_last_seen ON stories (last_key);
    CREATE INDEX stories_by_expiry ON stories (expires_at);
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        created_key TEXT NOT NULL,         -- "<created iso>#<id>"
        status TEXT NOT NULL,
        cadence TEXT NOT NULL,
        next_digest_at TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX subscriptions_by_created ON subscriptions (created_key);
    CREATE INDEX subscriptions_due ON subscriptions (cadence, next_digest_at) WHERE status = 'active';
    CREATE TABLE deliveries (
        sub_id TEXT NOT NULL,
        key TEXT NOT NULL,
        channel TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        send_attempts INTEGER,
        detail TEXT,
        provider_id TEXT,
        lease_until TEXT,
        updated_at TEXT,
        PRIMARY KEY (sub_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        data TEXT NOT NULL                 -- the run's fields; counters and errors grow per batch
    );
    CREATE INDEX runs_by_expiry ON runs (expires_at);
    CREATE TABLE run_batches (run_id TEXT NOT NULL, batch INTEGER NOT NULL, PRIMARY KEY (run_id, batch)) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script (a ";" inside a comment or a string does not end one)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer
            buffer = ""


def _topics(topics: Iterable[str]) -> str:
    return " " + " ".join(topics) + " "


def _key(moment: datetime | None, record_id: str) -> str:
    return f"{iso(moment) or ''}#{record_id}"


class SqliteStore(SubscriptionChanges):
    """Feeds, items, stories, subscriptions, the delivery ledger and poll runs in one SQLite file."""

    story_retention = timedelta(days=365)

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}{self._access_hint()}") from exc
        self._db.row_factory = sqlite3.Row
        try:
            with self._errors("open"):
                self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    raise sqlite3.OperationalError(f"cannot use WAL mode (journal_mode is {mode})")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except StoreError:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the connection (the file stays consistent whether or not this is called)."""
        with self._lock:
            self._db.close()

    # plumbing

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{what} failed on {self.path}: {exc}{self._access_hint()}") from exc

    def _access_hint(self) -> str:
        """Why SQLite may not write here, when the file or its folder is read-only (SQLite does not say)."""
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return " (the file is read-only)"
        if not os.access(self.path.parent, os.W_OK):
            return " (its folder is read-only; SQLite creates its -wal and -shm files beside the database)"
        return ""

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock from the start (reads inside see no race)."""
        with self._lock, self._errors(what):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk, say); a failed COMMIT leaves it open.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _rows(self, what: str, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._errors(what):
            return self._db.execute(sql, params).fetchall()

    def _now(self) -> int:
        return int(self._clock())

    def _migrate(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return
        while True:
            # The version is read again under the write lock: another process may have just migrated.
            with self._write("upgrade the schema") as db:
                version = self._schema_version()
                if version == SCHEMA_VERSION:
                    return
                for statement in _statements(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    def _schema_version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this wirewatch understands"
                f" ({SCHEMA_VERSION}): upgrade wirewatch to open it"
            )
        return version

    # feeds

    def list_feeds(self) -> list[Feed]:
        """Every feed, by id."""
        return [from_json(Feed, r["data"]) for r in self._rows("list feeds", "SELECT data FROM feeds ORDER BY id")]

    def get_feeds(self, feed_ids: Sequence[str]) -> list[Feed]:
        """The feeds with these ids that exist."""
        ids = list(dict.fromkeys(feed_ids))
        found: list[Feed] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT data FROM feeds WHERE id IN ({','.join('?' * len(chunk))})"
            found.extend(from_json(Feed, r["data"]) for r in self._rows("get feeds", sql, chunk))
        return found

    def get_feed(self, feed_id: str) -> Feed | None:
        """One feed, or None."""
        found = self.get_feeds([feed_id])
        return found[0] if found else None

    def save_feeds(self, feeds: Sequence[Feed]) -> None:
        """Write many feeds' state (the last writer wins, as for the DynamoDB batch write)."""
        with self._write("save feeds") as db:
            db.executemany(
                "INSERT INTO feeds (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                [(f.id, to_json(f)) for f in feeds],
            )

    def add_feed(self, feed: Feed) -> bool:
        """Add a feed unless one with its id exists; True when added."""
        with self._write("add feed") as db:
            return (
                db.execute("INSERT OR IGNORE INTO feeds (id, data) VALUES (?, ?)", (feed.id, to_json(feed))).rowcount
                == 1
            )

    def delete_feed(self, feed_id: str) -> bool:
        """Delete a feed; True when it existed."""
        with self._write("delete feed") as db:
            return db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,)).rowcount == 1

    # items

    def existing_item_ids(self, item_ids: Iterable[str]) -> set[str]:
        """Which of these item ids are stored and not expired."""
        ids = list(dict.fromkeys(item_ids))
        found: set[str] = set()
        now = self._now()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT id FROM items WHERE expires_at > ? AND id IN ({','.join('?' * len(chunk))})"
            found.update(r["id"] for r in self._rows("read items", sql, [now, *chunk]))
        return found

    def put_item_if_new(self, item: Item, expires_at: datetime) -> bool:
        """Store an item unless it exists (an expired row is replaced, as after DynamoDB's TTL); True when stored."""
        return self.put_items_if_new([(item, expires_at)])[0]

    def put_items_if_new(self, items: Sequence[tuple[Item, datetime]]) -> list[bool]:
        """Store each item unless it exists, all in one transaction; True for each one stored."""
        now = self._now()
        with self._write("put items") as db:
            return [
                db.execute(_PUT_ITEM, (*_item_row(item, expires_at), now)).rowcount == 1 for item, expires_at in items
            ]

    def relevant_items(
        self, since: datetime, until: datetime, *, topic: str | None = None, limit: int | None = None
    ) -> list[Item]:
        """Relevant items published in [since, until], newest first, from the relevance index."""
        sql = "SELECT data FROM items WHERE relevant_key BETWEEN ? AND ? AND expires_at > ?"
        params: list[Any] = [iso(since) or "", f"{iso(until)}{_TOP}", self._now()]
        if topic:
            sql += " AND instr(topics, ?) > 0"
            params.append(f" {topic} ")
        sql += " ORDER BY relevant_key DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [from_json(Item, r["data"]) for r in self._rows("read items", sql, params)]

    def items_first_seen(self, since: datetime, until: datetime) -> Iterator[Item]:
        """Every stored item first seen in [since, until], relevant or not, oldest first."""
        sql = (
            "SELECT first_seen, data FROM items WHERE first_seen > ? AND first_seen <= ? AND expires_at > ?"
            " ORDER BY first_seen LIMIT 1000"
        )
        # In pages, so a year of history is never held in memory at once; each page resumes after the
        # last key read (not at an offset, which items written or purged meanwhile would shift).
        lower, upper = iso(since) or "", f"{iso(until)}{_TOP}"
        while True:
            rows = self._rows("read items", sql, [lower, upper, self._now()])
            yield from (from_json(Item, r["data"]) for r in rows)
            if len(rows) < 1000:
                return
            lower = rows[-1]["first_seen"]

    def update_classification(self, item: Item, classification: Classification, relevant_expiry: datetime) -> None:
        """Replace an item's classification, moving it into or out of the relevance index."""
        with self._write("update item") as db:
            row = db.execute("SELECT data, expires_at FROM items WHERE id = ?", (item.id,)).fetchone()
            if row is None:
                raise ConflictError(f"item {item.id} changed concurrently or does not exist")
            stored = dataclasses.replace(from_json(Item, row["data"]), classification=classification)
            relevant = classification.relevant
            db.execute(
                "UPDATE items SET relevant_key = ?, topics = ?, severity = ?, expires_at = ?, data = ? WHERE id = ?",
                (
                    _key(stored.published, stored.id) if relevant else None,
                    _topics(classification.topics),
                    classification.severity,
                    int(relevant_expiry.timestamp()) if relevant else row["expires_at"],
                    to_json(stored),
                    item.id,
                ),
            )

    # stories

    def get_story(self, story_id: str) -> Story | None:
        """One story, or None."""
        rows = self._rows(
            "read story", "SELECT data, alerted FROM stories WHERE id = ? AND expires_at > ?", (story_id, self._now())
        )
        return _story(rows[0]) if rows else None

    def stories_seen_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Story]:
        """Stories last seen in [since, until], newest first, from the last-seen index."""
        sql = (
            "SELECT data, alerted FROM stories WHERE last_key BETWEEN ? AND ? AND expires_at > ? ORDER BY last_key DESC"
        )
        params: list[Any] = [iso(since) or "", f"{iso(until)}{_TOP}", self._now()]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_story(r) for r in self._rows("read stories", sql, params)]

    def save_story(self, story: Story, previous: Story | None) -> None:
        """Write a story; ConflictError when another writer changed it since `previous` was read."""
        values = (
            _key(story.last_seen, story.id),
            len(story.sources),
            int(story.alerted),
            _topics(story.topics),
            story.severity,
            int((story.last_seen + self.story_retention).timestamp()),
            to_json(story),
        )
        with self._write("save story") as db:
            if previous is None:
                # An expired story (not purged yet) is gone as far as readers know: replace it.
                inserted = db.execute(
                    "INSERT INTO stories (last_key, source_count, alerted, topics, severity, expires_at, data, id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_key = excluded.last_key,"
                    " source_count = excluded.source_count, alerted = excluded.alerted, topics = excluded.topics,"
                    " severity = excluded.severity, expires_at = excluded.expires_at, data = excluded.data"
                    " WHERE stories.expires_at <= ?",
                    (*values, story.id, self._now()),
                ).rowcount
            else:
                # alerted is part of the version too: a write must not clear a flag the alert run set.
                inserted = db.execute(
                    "UPDATE stories SET last_key = ?, source_count = ?, alerted = ?, topics = ?, severity = ?,"
                    " expires_at = ?, data = ? WHERE id = ? AND source_count = ? AND alerted = ? AND expires_at > ?",
                    (*values, story.id, len(previous.sources), int(previous.alerted), self._now()),
                ).rowcount
            if inserted != 1:
                raise ConflictError(f"story {story.id} changed concurrently")

    def mark_story_alerted(self, story_id: str) -> None:
        """Flag a story as alerted (its alerts have been sent)."""
        with self._write("mark story alerted") as db:
            marked = db.execute(
                "UPDATE stories SET alerted = 1 WHERE id = ? AND expires_at > ?", (story_id, self._now())
            ).rowcount
            if marked != 1:
                raise ConflictError(f"story {story_id} changed concurrently or does not exist")

    # subscriptions

    def save_subscription(self, sub: Subscription) -> None:
        """Write a subscription's whole record."""
        with self._write("save subscription") as db:
            db.execute(
                "INSERT INTO subscriptions (id, created_key, status, cadence, next_digest_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET created_key = excluded.created_key,"
                " status = excluded.status, cadence = excluded.cadence, next_digest_at = excluded.next_digest_at,"
                " data = excluded.data",
                _subscription_row(sub),
            )

    def get_subscription(self, sub_id: str) -> Subscription | None:
        """One subscription, or None."""
        rows = self._rows("read subscription", "SELECT data FROM subscriptions WHERE id = ?", (sub_id,))
        return from_json(Subscription, rows[0]["data"]) if rows else None

    def list_subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        rows = self._rows("list subscriptions", "SELECT data FROM subscriptions ORDER BY created_key")
        return [from_json(Subscription, r["data"]) for r in rows]

    def delete_subscription(self, sub_id: str) -> bool:
        """Delete a subscription record; True when it existed."""
        with self._write("delete subscription") as db:
            return db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,)).rowcount == 1

    def due_subscriptions(self, cadence: str, now: datetime) -> list[Subscription]:
        """Active subscriptions of a digest cadence whose next digest is due at or before now."""
        rows = self._rows(
            "read due subscriptions",
            "SELECT data FROM subscriptions WHERE status = 'active' AND cadence = ?"
            " AND (next_digest_at IS NULL OR next_digest_at <= ?) ORDER BY next_digest_at, id",
            (cadence, iso(now)),
        )
        return [from_json(Subscription, r["data"]) for r in rows]

    def active_subscriptions(self) -> list[Subscription]:
        """Every active subscription (for urgent alerts)."""
        found: list[Subscription] = []
        for cadence in CADENCES:
            rows = self._rows(
                "read active subscriptions",
                "SELECT data FROM subscriptions WHERE status = 'active' AND cadence = ? ORDER BY next_digest_at, id",
                (cadence,),
            )
            found.extend(from_json(Subscription, r["data"]) for r in rows)
        return found

    def _write_if_unchanged(self, updated: Subscription, read: Subscription) -> bool:
        with self._write("write subscription") as db:
            return self._replace(db, updated, read)

    @staticmethod
    def _replace(db: sqlite3.Connection, updated: Subscription, read: Subscription) -> bool:
        """Write updated over the record read, unless its status or digest window moved since."""
        row = _subscription_row(updated)
        return (
            db.execute(
                "UPDATE subscriptions SET created_key = ?, status = ?, cadence = ?, next_digest_at = ?, data = ?"
                " WHERE id = ? AND status = ? AND next_digest_at IS ?",
                (*row[1:], updated.id, read.status, iso(read.next_digest_at)),
            ).rowcount
            == 1
        )

    # delivery ledger

    def claim_delivery(self, sub_id: str, key: str, channel: str, now: datetime, lease: timedelta) -> bool:
        """Claim the right to send one message; False when it was sent or another run holds the lease.

        A claim whose lease ran out (its sender died mid-send) can be taken over: the message may then
        go out twice, the only way a duplicate can happen, and only after a crash.
        """
        with self._write("claim delivery") as db:
            return (
                db.execute(
                    "INSERT INTO deliveries (sub_id, key, channel, status, attempts, lease_until, updated_at)"
                    " VALUES (?, ?, ?, 'sending', 1, ?, ?) ON CONFLICT (sub_id, key) DO UPDATE SET"
                    " status = 'sending', channel = excluded.channel, attempts = attempts + 1,"
                    " lease_until = excluded.lease_until, updated_at = excluded.updated_at"
                    " WHERE deliveries.status NOT IN ('sent', 'failed')"
                    " AND deliveries.lease_until < excluded.updated_at",
                    (sub_id, key, channel, iso(now + lease), iso(now)),
                ).rowcount
                == 1
            )

    def record_delivery(
        self, sub_id: str, key: str, *, status: str, attempts: int, detail: str, provider_id: str | None, now: datetime
    ) -> None:
        """Record how a claimed send ended: sent, failed (permanent) or retry (lease released)."""
        with self._write("record delivery") as db:
            changed = db.execute(
                "UPDATE deliveries SET status = ?, send_attempts = ?, detail = ?, provider_id = ?, updated_at = ?,"
                " lease_until = ? WHERE sub_id = ? AND key = ?",
                (status, attempts, detail, provider_id, iso(now), iso(now) if status == "retry" else None, sub_id, key),
            ).rowcount
            if changed != 1:
                raise ConflictError(f"delivery {sub_id}/{key} was never claimed")

    def deliveries(self, sub_id: str) -> list[dict[str, Any]]:
        """The ledger of one subscription, by key, last first."""
        rows = self._rows(
            "read deliveries",
            "SELECT key, channel, status, attempts, send_attempts, detail, provider_id, lease_until, updated_at"
            " FROM deliveries WHERE sub_id = ? ORDER BY key DESC",
            (sub_id,),
        )
        return [{k: v for k, v in zip(r.keys(), r, strict=True) if v is not None} for r in rows]

    # poll runs

    def create_run(self, run_id: str, feed_ids: Sequence[str], batches: int, now: datetime) -> bool:
        """Record a new run of `batches` batches; False when the id is taken."""
        run = {
            "id": run_id,
            "feed_ids": list(feed_ids),
            "batches": batches,
            "created_at": iso(now),
            "updated_at": iso(now),
            "status": "queued",
            "errors": [],
        }
        expires = int((now + RUN_RETENTION).timestamp())
        with self._write("create run") as db:
            return (
                db.execute(
                    "INSERT OR IGNORE INTO runs (id, expires_at, data) VALUES (?, ?, ?)",
                    (run_id, expires, json.dumps(run, ensure_ascii=False)),
                ).rowcount
                == 1
            )

    def record_run_batch(
        self, run_id: str, batch: int, counts: Mapping[str, int], errors: Sequence[Mapping[str, Any]], now: datetime
    ) -> bool:
        """Add one batch's report to its run, once; False when already recorded or the run is unknown."""
        with self._write("record run batch") as db:
            row = db.execute("SELECT data FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return False
            if db.execute("INSERT OR IGNORE INTO run_batches VALUES (?, ?)", (run_id, batch)).rowcount != 1:
                return False
            run = json.loads(row["data"])
            for name in RUN_COUNTERS:
                run[name] = int(run.get(name, 0)) + int(counts.get(name, 0))
            run["errors"] = run.get("errors", []) + [short_error(e) for e in errors[:MAX_ERRORS_PER_BATCH]]
            run["updated_at"] = iso(now)
            db.execute("UPDATE runs SET data = ? WHERE id = ?", (json.dumps(run, ensure_ascii=False), run_id))
            return True

    def fail_run(self, run_id: str, error: str, now: datetime) -> None:
        """Mark a run failed (a local run whose poll raised)."""
        with self._write("fail run") as db:
            row = db.execute("SELECT data FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise ConflictError(f"run {run_id} does not exist")
            run = json.loads(row["data"]) | {
                "status": "failed",
                "error": error[:MAX_ERROR_CHARS],
                "updated_at": iso(now),
            }
            db.execute("UPDATE runs SET data = ? WHERE id = ?", (json.dumps(run, ensure_ascii=False), run_id))

    def get_run(self, run_id: str, now: datetime) -> dict[str, Any] | None:
        """A run with its derived status, or None."""
        rows = self._rows("read run", "SELECT data FROM runs WHERE id = ? AND expires_at > ?", (run_id, self._now()))
        if not rows:
            return None
        batches = self._rows("read run", "SELECT batch FROM run_batches WHERE run_id = ?", (run_id,))
        return run_view(json.loads(rows[0]["data"]) | {"done_batches": [b["batch"] for b in batches]}, now)

    # pages (API)

    def page_items(self, where: PageFilter, limit: int, after: Position | None = None) -> Page[Item]:
        """Relevant items published in the window, newest first."""
        return self._page("items", "relevant_key", "data", where, limit, after, lambda r: from_json(Item, r["data"]))

    def page_stories(self, where: PageFilter, limit: int, after: Position | None = None) -> Page[Story]:
        """Stories last seen in the window, most recently active first."""
        return self._page("stories", "last_key", "data, alerted", where, limit, after, _story)

    def item_counts_by_feed(self, since: datetime, until: datetime) -> dict[str, tuple[int, int]]:
        """(items, relevant items) first seen in [since, until], per feed id."""
        rows = self._rows(
            "count items",
            "SELECT feed_id, count(*) AS total, count(relevant_key) AS relevant FROM items"
            " WHERE first_seen BETWEEN ? AND ? AND expires_at > ? GROUP BY feed_id",
            (iso(since) or "", f"{iso(until)}{_TOP}", self._now()),
        )
        return {r["feed_id"]: (r["total"], r["relevant"]) for r in rows}

    def _page(
        self,
        table: str,
        key: str,
        columns: str,
        where: PageFilter,
        limit: int,
        after: Position | None,
        convert: Callable[[sqlite3.Row], T],
    ) -> Page[T]:
        if limit < 1:
            raise ValueError("page limit must be positive")
        upper = f"{iso(where.until)}{_TOP}"
        sql = f"SELECT {columns}, {key} AS sort_key FROM {table} WHERE {key} BETWEEN ? AND ? AND expires_at > ?"
        params: list[Any] = [iso(where.since) or "", upper, self._now()]
        if after is not None:
            sql += f" AND {key} < ?"  # strictly below the last page's last record
            params.append(after.sort_key)
        if where.topic:
            sql += " AND instr(topics, ?) > 0"
            params.append(f" {where.topic} ")
        if where.severities is not None:
            sql += f" AND severity IN ({','.join('?' * len(where.severities))})"
            params.extend(where.severities)
        sql += f" ORDER BY {key} DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._rows(f"page {table}", sql, params)
        if len(rows) <= limit:
            return Page([convert(r) for r in rows], None)
        last = rows[limit - 1]["sort_key"]
        return Page([convert(r) for r in rows[:limit]], Position(last[:7], last))

    # expiry and backups

    def purge_expired(self) -> int:
        """Delete every row past its expiry, a batch per transaction (other writers get turns); returns how many."""
        purged = 0
        for table in ("items", "stories", "runs"):
            while True:
                with self._write(f"purge {table}") as db:
                    deleted = db.execute(
                        f"DELETE FROM {table} WHERE rowid IN"
                        f" (SELECT rowid FROM {table} WHERE expires_at <= ? LIMIT {_PURGE_BATCH})",
                        (self._now(),),
                    ).rowcount
                    if table == "runs" and deleted:
                        db.execute("DELETE FROM run_batches WHERE run_id NOT IN (SELECT id FROM runs)")
                purged += deleted
                if deleted < _PURGE_BATCH:
                    break
        return purged

    def backup(self, target: Path) -> None:
        """A consistent copy of the database at `target`, taken while other processes may be writing."""
        with self._lock, self._errors(f"backup to {target}"):
            # The copy holds subscribers' addresses: created user-only, never over an existing file.
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as exc:
                raise StoreError(f"cannot create the backup {target}: {exc.strerror}") from exc
            copy = sqlite3.connect(target)
            try:
                self._db.backup(copy)
            finally:
                copy.close()

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (operations and benchmarks)."""
        if table not in ("feeds", "items", "stories", "subscriptions", "deliveries", "runs"):
            raise ValueError(f"no table {table!r}")
        return int(self._rows("count", f"SELECT count(*) FROM {table}")[0][0])


# Insert-if-new; a row past its expiry counts as gone and is replaced.
_PUT_ITEM = (
    "INSERT INTO items (id, feed_id, first_seen, relevant_key, topics, severity, expires_at, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET feed_id = excluded.feed_id, first_seen = excluded.first_seen,"
    " relevant_key = excluded.relevant_key, topics = excluded.topics, severity = excluded.severity,"
    " expires_at = excluded.expires_at, data = excluded.data WHERE items.expires_at <= ?"
)


def _item_row(item: Item, expires_at: datetime) -> tuple[Any, ...]:
    c = item.classification
    return (
        item.id,
        item.feed_id,
        _key(item.first_seen, item.id),
        _key(item.published, item.id) if item.relevant else None,
        _topics(c.topics),
        c.severity,
        int(expires_at.timestamp()),
        to_json(item),
    )


def _story(row: sqlite3.Row) -> Story:
    return dataclasses.replace(from_json(Story, row["data"]), alerted=bool(row["alerted"]))


def _subscription_row(sub: Subscription) -> tuple[Any, ...]:
    return (sub.id, _key(sub.created_at, sub.id), sub.status, sub.cadence, iso(sub.next_digest_at), to_json(sub))
