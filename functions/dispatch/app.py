"""Dispatch handler: on schedule, send the feeds that are due to the poll queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wirewatch import runtime
from wirewatch.feedlist import default_feeds
from wirewatch.logs import logger
from wirewatch.usecases import dispatch


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Select due feeds and enqueue them in batches; seed the initial feed list on first run."""
    report = dispatch(
        catalog=runtime.repository(),
        queue=runtime.poll_queue(),
        initial_feeds=default_feeds,
        feeds_per_message=runtime.settings().feeds_per_message,
        now=datetime.now(UTC),
    )
    logger.info("dispatch done", extra=report.to_dict())
    return report.to_dict()
