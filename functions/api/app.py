"""API handler: API Gateway HTTP API (payload v2) events → the router in wirewatch.api.routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from wirewatch.api.routes import app
from wirewatch.logs import logger


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route one request; every outcome, errors included, is an HTTP response."""
    return app.resolve(event, context)
