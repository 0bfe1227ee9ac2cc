"""The one EMF metrics instance (CloudWatch embedded metric format, flushed by the handlers)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(namespace="wirewatch", service="wirewatch")


def count(name: str, value: float = 1) -> None:
    """Add to a count metric of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
