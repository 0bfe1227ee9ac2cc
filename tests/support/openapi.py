"""api/openapi.yaml as tests read it, and the check that a webhook delivery is what its `webhooks` entry says."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema
import yaml

from tests.support.paths import REPO


@cache
def document() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "api" / "openapi.yaml").read_text("utf-8")))


def _component(ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    return dict(document()["components"]["schemas"][ref.removeprefix(prefix)])


def webhook_events() -> dict[str, dict[str, Any]]:
    """Event type (story.alert ...) -> its `webhooks` operation, read from the type's `const` in the schema."""
    events = {}
    for operation in (item["post"] for item in document()["webhooks"].values()):
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        (kind,) = {part["properties"]["type"]["const"] for part in _component(ref)["allOf"] if "properties" in part}
        events[kind] = operation
    return events


def check_webhook_delivery(headers: Mapping[str, str], body: Any) -> None:
    """Raise unless body validates against its event type's schema (JSON Schema 2020-12, as OpenAPI 3.1
    uses) and every header that event documents as required is present."""
    operation = webhook_events()[body["type"]]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator
    schema = {**body_schema, "components": document()["components"]}
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(body)
    lowered = {name.lower() for name in headers}
    required = {p["name"] for p in operation["parameters"] if p["in"] == "header" and p.get("required")}
    assert required <= lowered, f"missing headers: {sorted(required - lowered)}"
