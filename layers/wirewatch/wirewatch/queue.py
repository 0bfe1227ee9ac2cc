"""The SQS adapter for the poll queue: one message per batch of feed ids."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


class QueueError(RuntimeError):
    """Messages could not be sent."""


class SqsPollQueue:
    """Sends feed-id batches to the poll queue, ten messages per request."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send_batches(self, batches: Sequence[Sequence[str]]) -> int:
        """Send each batch as one message; returns how many were sent."""
        sent = 0
        for start in range(0, len(batches), 10):
            chunk = batches[start : start + 10]
            entries = [
                {"Id": str(n), "MessageBody": json.dumps({"feed_ids": list(ids)})} for n, ids in enumerate(chunk)
            ]
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                reasons = "; ".join(f.get("Message", f.get("Code", "?")) for f in response["Failed"])
                raise QueueError(f"{len(response['Failed'])} poll messages not sent: {reasons}")
            sent += len(response.get("Successful", []))
        return sent


def feed_ids_from_message(body: str) -> list[str]:
    """Feed ids carried by a poll message body; ValueError when it is not one."""
    data = json.loads(body)
    ids = data.get("feed_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError('poll message must be {"feed_ids": ["..."]}')
    return ids
