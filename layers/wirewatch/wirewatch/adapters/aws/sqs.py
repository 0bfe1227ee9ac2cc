"""The SQS adapter for the poll queue: one message per batch of feed ids."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wirewatch.errors import QueueError

__all__ = ["PollMessage", "QueueError", "SqsPollQueue", "parse_poll_message"]

_RUN_ID = re.compile(r"run-[0-9a-z-]{1,64}")


class SqsPollQueue:
    """Sends feed-id batches to the poll queue, ten messages per request."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send_batches(self, batches: Sequence[Sequence[str]], run_id: str | None = None) -> int:
        """Send each batch as one message (numbered, when part of an API run); returns how many were sent."""
        sent = 0
        for start in range(0, len(batches), 10):
            chunk = batches[start : start + 10]
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(_body(ids, run_id, start + n))} for n, ids in enumerate(chunk)
            ]
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                reasons = "; ".join(f.get("Message", f.get("Code", "?")) for f in response["Failed"])
                raise QueueError(f"{len(response['Failed'])} poll messages not sent: {reasons}")
            sent += len(response.get("Successful", []))
        return sent


@dataclass(frozen=True)
class PollMessage:
    """One poll message: the feeds to poll and, for a run started by POST /poll, its (run id, batch)."""

    feed_ids: list[str]
    run_batch: tuple[str, int] | None = None


def parse_poll_message(body: str) -> PollMessage:
    """Read a poll message body; ValueError when it is not one."""
    data = json.loads(body)
    ids = data.get("feed_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError('poll message must be {"feed_ids": ["..."]}')
    if data.get("run_id") is None:
        return PollMessage(ids)
    run_id, batch = data["run_id"], data.get("batch")
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or type(batch) is not int or batch < 0:
        raise ValueError('a run\'s poll message must carry "run_id" and a "batch" number')
    return PollMessage(ids, (run_id, batch))


def _body(feed_ids: Sequence[str], run_id: str | None, batch: int) -> dict[str, Any]:
    body: dict[str, Any] = {"feed_ids": list(feed_ids)}
    if run_id:
        body |= {"run_id": run_id, "batch": batch}
    return body
