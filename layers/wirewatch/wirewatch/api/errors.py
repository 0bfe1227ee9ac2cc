"""API errors, and the one place where domain exceptions become HTTP responses."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from wirewatch.api import html
from wirewatch.config import ConfigError
from wirewatch.errors import (
    ConflictError,
    NotActive,
    NotFound,
    QueueError,
    StoreError,
    UnknownFeed,
    ValidationError,
)
from wirewatch.logs import logger
from wirewatch.tokens import InvalidToken
from wirewatch.usecases.feeds import UnsafeFeedUrl


class ApiError(Exception):
    """A request the API refuses; the message is shown to the caller, so it never carries secrets."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class BadRequest(ApiError):
    status = HTTPStatus.BAD_REQUEST


class Forbidden(ApiError):
    status = HTTPStatus.FORBIDDEN


class ResourceNotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT


class MethodNotAllowed(ApiError):
    status = HTTPStatus.METHOD_NOT_ALLOWED

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("method_not_allowed", f"use {', '.join(allowed)} on this path")
        self.allowed = allowed


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON response (the API's serialisation, in one place)."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers=headers or {},
    )


def error_response(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> Response[str]:
    """The error body every 4xx and 5xx carries: {"error": {"code", "message", "field"?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return json_response(status, {"error": error | extra})


def register_error_handlers(app: APIGatewayHttpResolver, allowed_methods: Any) -> None:
    """Map every exception a route can raise to its response; `allowed_methods(path)` serves 405s."""

    @app.exception_handler(ApiError)
    def api_error(exc: ApiError) -> Response[str]:
        response = error_response(exc.status, exc.code, exc.message, exc.field)
        if isinstance(exc, MethodNotAllowed):
            response.headers["Allow"] = ", ".join(exc.allowed)
        return response

    @app.exception_handler(ValidationError)
    def invalid_field(exc: ValidationError) -> Response[str]:
        message = str(exc).removeprefix(f"{exc.field}: ")
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_field", message, exc.field)

    @app.exception_handler(UnknownFeed)
    def unknown_feed(exc: UnknownFeed) -> Response[str]:
        return error_response(HTTPStatus.BAD_REQUEST, "unknown_feed", str(exc).removeprefix("feed_ids: "), "feed_ids")

    @app.exception_handler(UnsafeFeedUrl)
    def unsafe_url(exc: UnsafeFeedUrl) -> Response[str]:
        return error_response(HTTPStatus.BAD_REQUEST, "unsafe_url", str(exc).removeprefix("url: "), "url")

    @app.exception_handler(NotFound)
    def no_subscription(exc: NotFound) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", f"no subscription {exc.args[0]!r}")

    @app.exception_handler(NotActive)
    def not_active(exc: NotActive) -> Response[str]:
        return error_response(HTTPStatus.CONFLICT, "not_active", str(exc), "status")

    @app.exception_handler(ConflictError)
    def concurrent_write(exc: ConflictError) -> Response[str]:
        return error_response(HTTPStatus.CONFLICT, "conflict", "the record changed concurrently; retry")

    @app.exception_handler(InvalidToken)
    def invalid_token(exc: InvalidToken) -> Response[str]:
        # Only the public link routes verify tokens, and people open those in a browser.
        return html_response(HTTPStatus.BAD_REQUEST, html.invalid_link(exc.reason))

    @app.exception_handler(QueueError)
    def queue_down(exc: QueueError) -> Response[str]:
        logger.error("poll queue refused messages", extra={"error": str(exc)})
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", "the poll queue is unavailable; retry")

    @app.exception_handler(StoreError)
    def store_down(exc: StoreError) -> Response[str]:
        # The message names the file or table; the caller gets a retry hint, the log the cause.
        logger.error("store unavailable", extra={"error": str(exc)})
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", "the store is unavailable; retry")

    @app.not_found
    def not_found(exc: NotFoundError) -> Response[str]:
        path = app.current_event.path
        allowed = allowed_methods(path)
        if allowed:
            return api_error(MethodNotAllowed(allowed))
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    @app.exception_handler(Exception)
    def internal_error(exc: Exception) -> Response[str]:
        request_id = app.current_event.request_context.request_id
        # The trace goes to the logs, never to the caller; ConfigError is an operator's problem too.
        logger.exception("request failed", extra={"request_id": request_id, "config": isinstance(exc, ConfigError)})
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error", request_id=request_id
        )


def html_response(status: int, html: str) -> Response[str]:
    """A small HTML page (public link routes)."""
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=html,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "no-store",
        },
    )
