"""The one EMF metrics instance (CloudWatch embedded metric format, flushed by the handlers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wirewatch.logs import logger

if TYPE_CHECKING:
    from wirewatch.usecases.poll import PollReport

metrics = Metrics(namespace="wirewatch", service="wirewatch")


def count(name: str, value: float = 1) -> None:
    """Add to a count metric of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def record_poll(report: PollReport) -> None:
    """Log a poll's summary and emit its metrics (PollsSucceeded feeds the "no successful poll" alarm)."""
    logger.info("poll done", extra=report.to_dict())
    count("FeedsPolled", report.feeds)
    count("ItemsFetched", report.items_fetched)
    count("ItemsNew", report.new_items)
    count("ItemsRelevant", report.relevant_items)
    count("FeedFailures", report.failed)
    count("PollsSucceeded", 1)
