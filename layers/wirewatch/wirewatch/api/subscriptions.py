"""Subscriptions: create, read, change preferences, unsubscribe, and digests now (preview or send)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response

from wirewatch import runtime
from wirewatch.api import requests
from wirewatch.api.errors import BadRequest, ResourceNotFound, json_response
from wirewatch.api.routing import Routes, current_time
from wirewatch.delivery.webhooks import new_signing_secret
from wirewatch.models import PREFERENCE_FIELDS, Subscription
from wirewatch.usecases.subscriptions import (
    SubscriptionRequest,
    unsubscribe,
    update_preferences,
)
from wirewatch.views import delivery_view, subscription_view

T = TypeVar("T")

routes = Routes()

MAX_DELIVERIES_SHOWN = 20


@routes.route("GET", "/subscriptions")
def list_subscriptions() -> Response[str]:
    requests.query(routes.event(), ())
    subs = runtime.repository().list_subscriptions()
    return json_response(HTTPStatus.OK, {"subscriptions": [subscription_view(s) for s in subs]})


@routes.route("POST", "/subscriptions")
def create_subscription() -> Response[str]:
    requests.query(routes.event(), ())
    data = requests.json_object(routes.event(), required=("channel", "target"), optional=(*PREFERENCE_FIELDS, "token"))
    channel = requests.string(data, "channel", max_length=16) or ""
    target = requests.string(data, "target", max_length=2048) or ""
    # slack-app: the bot token; webhook: a signing secret made here and shown in this answer only.
    secret = requests.string(data, "token", max_length=256) if channel == "slack-app" else None
    if channel == "webhook":
        secret = new_signing_secret()
    request = SubscriptionRequest(channel=channel, target=target, secret=secret, **_settings(data))
    sub = runtime.subscribe(request, current_time())
    view = subscription_view(sub) | ({"signing_secret": secret} if channel == "webhook" else {})
    return json_response(HTTPStatus.CREATED, view, {"Location": f"/subscriptions/{sub.id}"})


@routes.route("GET", "/subscriptions/<sub_id>")
def get_subscription(sub_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    repo = runtime.repository()
    sub = _subscription(sub_id)
    deliveries = [delivery_view(d) for d in repo.deliveries(sub.id)[:MAX_DELIVERIES_SHOWN]]
    return json_response(HTTPStatus.OK, subscription_view(sub) | {"deliveries": deliveries})


@routes.route("PATCH", "/subscriptions/<sub_id>")
def update_subscription(sub_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    data = requests.json_object(routes.event(), optional=PREFERENCE_FIELDS)
    if not data:
        raise BadRequest("missing_field", f"give at least one of {', '.join(PREFERENCE_FIELDS)}")
    sub = update_preferences(
        requests.path_id(sub_id, "sub_id"), _settings(data), store=runtime.repository(), now=current_time()
    )
    return json_response(HTTPStatus.OK, subscription_view(sub))


@routes.route("DELETE", "/subscriptions/<sub_id>")
def delete_subscription(sub_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    sub = unsubscribe(
        requests.path_id(sub_id, "sub_id"), store=runtime.repository(), secret_store=runtime.secret_store()
    )
    return json_response(HTTPStatus.OK, subscription_view(sub))


@routes.route("POST", "/subscriptions/<sub_id>/digest")
def digest_now(sub_id: str) -> Response[str]:
    params = requests.query(routes.event(), ("preview",))
    preview = requests.flag(params, "preview")
    requests.json_object(routes.event(), empty_ok=True)
    sub_id = requests.path_id(sub_id, "sub_id")
    if preview:
        return json_response(HTTPStatus.OK, runtime.preview_digest(sub_id, current_time()).to_dict())
    sub, outcome = runtime.send_digest_now(sub_id, current_time())
    return json_response(HTTPStatus.OK, {"subscription_id": sub.id, "outcome": outcome})


def _subscription(raw_id: str) -> Subscription:
    sub_id = requests.path_id(raw_id, "sub_id")
    sub = runtime.repository().get_subscription(sub_id)
    if sub is None:
        raise ResourceNotFound("not_found", f"no subscription {sub_id!r}")
    return sub


def _settings(data: dict[str, Any]) -> dict[str, Any]:
    """The subscription settings present in a body, type-checked (their values are checked by validate())."""
    found: dict[str, Any] = {}
    if "topics" in data:
        found["topics"] = tuple(_required(requests.string_list(data, "topics", max_items=10, max_length=32), "topics"))
    for name in ("min_severity", "cadence", "timezone"):
        if name in data:
            found[name] = _required(requests.string(data, name, max_length=64), name)
    if "daily_at" in data:
        found["daily_at"] = _required(requests.clock(data, "daily_at"), "daily_at")
    if "quiet_hours" in data:
        hours = None if data["quiet_hours"] is None else requests.string_list(data, "quiet_hours", max_items=2)
        if hours is not None and (len(hours) != 2 or not all(map(requests.is_clock, hours))):
            raise BadRequest("invalid_field", 'quiet_hours must be ["HH:MM", "HH:MM"] or null', "quiet_hours")
        found["quiet_hours"] = (hours[0], hours[1]) if hours else None
    if "urgent_in_quiet_hours" in data:
        found["urgent_in_quiet_hours"] = _required(
            requests.boolean(data, "urgent_in_quiet_hours"), "urgent_in_quiet_hours"
        )
    return found


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise BadRequest("invalid_field", f"{name} must not be null", name)
    return value
