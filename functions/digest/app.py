"""Digest handler: on schedule, send every digest that is due (each window once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wirewatch import runtime
from wirewatch.logs import logger
from wirewatch.metrics import count, metrics


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, object]:
    """Run the due digests; pending sends stay due and are retried on the next tick."""
    report = runtime.run_digests(datetime.now(UTC))
    count("DigestsSent", report.sent)
    logger.info("digests done", extra=report.to_dict())
    return report.to_dict()
