"""On-demand poll runs: RUN#<id> / RUN.

A run is split into batches (one SQS message each). Every batch adds its counts once: the batch
number goes into a string set in the same conditional update, so a redelivered message is a no-op.
The status is derived when read (queued → running → done), so no writer has to know it finished last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from wirewatch.adapters.aws.dynamodb.schema import TTL_ATTRIBUTE
from wirewatch.adapters.aws.dynamodb.table import StoreError, Table, encode, iso
from wirewatch.runlog import MAX_ERROR_CHARS, MAX_ERRORS_PER_BATCH, RUN_COUNTERS, RUN_RETENTION, run_view, short_error


class RunStore(Table):
    """Poll runs requested through the API."""

    def create_run(self, run_id: str, feed_ids: Sequence[str], batches: int, now: datetime) -> bool:
        """Record a new run of `batches` batches; False when the id is taken."""
        return self._put_if_absent(
            {
                "pk": f"RUN#{run_id}",
                "sk": "RUN",
                "type": "run",
                "id": run_id,
                "feed_ids": list(feed_ids),
                "batches": batches,
                "created_at": iso(now),
                "updated_at": iso(now),
                "status": "queued",
                TTL_ATTRIBUTE: int((now + RUN_RETENTION).timestamp()),
            }
        )

    def record_run_batch(
        self,
        run_id: str,
        batch: int,
        counts: Mapping[str, int],
        errors: Sequence[Mapping[str, Any]],
        now: datetime,
    ) -> bool:
        """Add one batch's report to its run, once; False when already recorded or the run is unknown."""
        names = {"#done": "done_batches", "#errors": "errors", "#updated": "updated_at"}
        values: dict[str, Any] = {
            ":b": str(batch),
            ":errors": [short_error(e) for e in errors[:MAX_ERRORS_PER_BATCH]],
            ":empty": [],
            ":now": iso(now),
        }
        adds = ["#done :batch"]
        for name in RUN_COUNTERS:
            names[f"#{name}"] = name
            values[f":{name}"] = int(counts.get(name, 0))
            adds.append(f"#{name} :{name}")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=encode({"pk": f"RUN#{run_id}", "sk": "RUN"}),
                UpdateExpression=(
                    "SET #errors = list_append(if_not_exists(#errors, :empty), :errors), #updated = :now "
                    f"ADD {', '.join(adds)}"
                ),
                ConditionExpression="attribute_exists(pk) AND NOT contains(#done, :b)",
                ExpressionAttributeNames=names,
                # A string set, written out: ADD on a set is what makes a batch count once.
                ExpressionAttributeValues=encode(values) | {":batch": {"SS": [str(batch)]}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"update RUN#{run_id} failed: {exc}") from exc
        return True

    def fail_run(self, run_id: str, error: str, now: datetime) -> None:
        """Mark a run failed (a local run whose poll raised)."""
        fields = {"status": "failed", "error": error[:MAX_ERROR_CHARS], "updated_at": iso(now)}
        self._update(f"RUN#{run_id}", "RUN", fields)

    def get_run(self, run_id: str, now: datetime) -> dict[str, Any] | None:
        """A run as a plain record with its derived status, or None.

        A run whose batches are still unfinished after RUN_EXPIRY will not finish: its messages went
        to the poll DLQ (three receives of six minutes each), so it reads as expired.
        """
        record = self._get(f"RUN#{run_id}", "RUN")
        if record is None:
            return None
        return run_view(record, now)
