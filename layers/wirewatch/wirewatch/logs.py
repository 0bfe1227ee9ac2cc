"""The one structured logger (JSON, correlation id, quiet by default)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="wirewatch")
