"""api/openapi.yaml documents exactly the routes the router serves, with the same public routes."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from tests.support.openapi import document, webhook_events
from wirewatch.api.routes import route_table
from wirewatch.delivery.webhooks import EVENT_TYPES

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def documented() -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {
        (method.upper(), path): operation
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def routed() -> dict[tuple[str, str], bool]:
    return {(method, re.sub(r"<(\w+)>", r"{\1}", rule)): public for method, rule, public in route_table()}


def test_openapi_document_is_valid_openapi_3_1() -> None:
    assert document()["openapi"].startswith("3.1.")
    validate(document(), cls=OpenAPIV31SpecValidator)


def test_every_event_the_webhook_channel_sends_is_in_the_webhooks_section() -> None:
    events = webhook_events()
    assert set(events) == set(EVENT_TYPES)
    for operation in events.values():
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header" and p["required"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        assert {"2XX", "4XX", "5XX"} <= set(operation["responses"])


def test_every_documented_operation_is_routed_and_every_route_documented() -> None:
    assert set(documented()) == set(routed())


def test_public_routes_are_the_ones_documented_without_security() -> None:
    public = {key for key, operation in documented().items() if operation.get("security") == []}
    assert public == {key for key, is_public in routed().items() if is_public}
    assert public == {
        ("GET", "/health"),
        ("GET", "/confirm"),
        ("POST", "/confirm"),
        ("GET", "/unsubscribe"),
        ("POST", "/unsubscribe"),
    }


def test_path_parameters_match_the_router() -> None:
    for (_, path), operation in documented().items():
        names = set(re.findall(r"{(\w+)}", path))
        item = document()["paths"][path]
        declared = {
            p["name"] for p in operation.get("parameters", []) + item.get("parameters", []) if p.get("in") == "path"
        }
        assert declared == names, path
