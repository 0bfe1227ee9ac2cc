"""api/openapi.yaml documents exactly the routes the router serves, with the same public routes."""

from __future__ import annotations

import re

import yaml
from openapi_spec_validator import validate

from tests.support.paths import REPO
from wirewatch.api.routes import route_table

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def load() -> dict:  # type: ignore[type-arg]
    return dict(yaml.safe_load((REPO / "api" / "openapi.yaml").read_text("utf-8")))


def documented() -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {
        (method.upper(), path): operation
        for path, item in load()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def routed() -> dict[tuple[str, str], bool]:
    return {(method, re.sub(r"<(\w+)>", r"{\1}", rule)): public for method, rule, public in route_table()}


def test_openapi_document_is_valid() -> None:
    validate(load())


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
        item = load()["paths"][path]
        declared = {
            p["name"] for p in operation.get("parameters", []) + item.get("parameters", []) if p.get("in") == "path"
        }
        assert declared == names, path
