"""On-demand poll runs as every store keeps them: limits, and the status derived when a run is read.

The status is derived (queued → running → done, or expired), so no batch writer has to know it
finished last. Pure: the stores hand in the record they read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

RUN_RETENTION = timedelta(days=30)
RUN_COUNTERS = ("feeds", "fetched", "not_modified", "failed", "new_items", "relevant_items", "stories")
# A run's record must stay well under DynamoDB's 400 KB item limit, whatever the feeds report.
MAX_ERRORS_PER_BATCH = 25
MAX_ERROR_CHARS = 300
# A run whose batches are unfinished after this will not finish: its messages went to the poll DLQ
# (three receives of six minutes each).
RUN_EXPIRY = timedelta(minutes=30)


def run_view(record: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A run as the API shows it, from its stored fields (done_batches: the batch numbers recorded)."""
    batches = int(record.get("batches", 0))
    done = len(record.get("done_batches", ()))
    status = record.get("status", "queued")
    if status != "failed":
        status = "done" if done >= batches else "running" if done else "queued"
    created = datetime.fromisoformat(record["created_at"]) if record.get("created_at") else None
    if status in ("queued", "running") and created and now - created > RUN_EXPIRY:
        status = "expired"
    return {
        "id": record["id"],
        "status": status,
        "feed_ids": list(record.get("feed_ids", [])),
        "batches": batches,
        "batches_done": done,
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
        "error": record.get("error"),
        "report": {name: int(record.get(name, 0)) for name in RUN_COUNTERS}
        | {"errors": [short_error(e) for e in record.get("errors", [])]},
    }


def short_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One feed error of a run, bounded in size."""
    status = error.get("status")
    return {
        "feed": str(error.get("feed", "")),
        "status": int(status) if status is not None else None,
        "error": str(error.get("error") or "")[:MAX_ERROR_CHARS],
    }
