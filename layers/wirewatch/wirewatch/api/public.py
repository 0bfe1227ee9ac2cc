"""Public routes: health, and the confirm and unsubscribe links (they act only on valid signed tokens)."""

from __future__ import annotations

from http import HTTPStatus
from typing import TypeVar
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response

from wirewatch import runtime
from wirewatch.api import html
from wirewatch.api.errors import html_response, json_response
from wirewatch.api.routing import Routes, current_time
from wirewatch.tokens import InvalidToken, verify_token
from wirewatch.usecases.subscriptions import (
    confirm,
    unsubscribe_by_token,
)

T = TypeVar("T")

routes = Routes()


@routes.route("GET", "/health", public=True)
def health() -> Response[str]:
    return json_response(HTTPStatus.OK, {"status": "ok"})


@routes.route("GET", "/confirm", public=True)
def confirm_page() -> Response[str]:
    # Only checks the link: opening it (as link scanners do) must not confirm anyone.
    verify_token(runtime.token_key(), _token(), "confirm", current_time())
    return html_response(HTTPStatus.OK, html.confirm_form())


@routes.route("POST", "/confirm", public=True)
def confirm_subscription() -> Response[str]:
    sub = confirm(_token(), token_key=runtime.token_key(), store=runtime.repository(), now=current_time())
    if sub.status in ("active", "failing"):
        return html_response(HTTPStatus.OK, html.confirmed(sub.channel))
    return html_response(HTTPStatus.CONFLICT, html.not_confirmed(sub.status))


@routes.route("GET", "/unsubscribe", public=True)
def unsubscribe_page() -> Response[str]:
    # Only checks the link: opening it (as mail scanners do) must not unsubscribe.
    verify_token(runtime.token_key(), _token(), "unsubscribe", current_time())
    return html_response(HTTPStatus.OK, html.unsubscribe_form())


@routes.route("POST", "/unsubscribe", public=True)
def unsubscribe_one_click() -> Response[str]:
    token = _token()
    try:
        body = routes.event().decoded_body or ""
    except ValueError:
        body = ""
    if parse_qs(body).get("List-Unsubscribe") != ["One-Click"]:
        return html_response(HTTPStatus.BAD_REQUEST, html.bad_unsubscribe_request())
    unsubscribe_by_token(
        token,
        token_key=runtime.token_key(),
        store=runtime.repository(),
        secret_store=runtime.secret_store(),
        now=current_time(),
    )
    return html_response(HTTPStatus.OK, html.unsubscribed())


def _token() -> str:
    # Public links may pick up tracking parameters on the way; only `token` matters.
    token = (routes.event().query_string_parameters or {}).get("token")
    if not token:
        raise InvalidToken("the link has no token")
    return str(token)
