"""Routes by resource: each api/<resource>.py has a Routes, a Powertools Router plus the route tables.

The tables (every method and rule, which are public) are what auth, 405 answers, the OpenAPI check
and the template's route list read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

Handler = Callable[..., Response[str]]

ROUTES: list[tuple[str, str]] = []
PUBLIC_ROUTES: set[tuple[str, str]] = set()
_MATCHERS: list[tuple[str, str, re.Pattern[str]]] = []


class Routes:
    """One resource's routes."""

    def __init__(self) -> None:
        self.router = Router()

    def route(self, method: str, rule: str, *, public: bool = False) -> Callable[[Handler], Handler]:
        """Register a route with the router, and in the tables."""

        def register(func: Handler) -> Handler:
            ROUTES.append((method, rule))
            if public:
                PUBLIC_ROUTES.add((method, rule))
            _MATCHERS.append((method, rule, re.compile("^" + re.sub(r"<\w+>", "[^/]+", rule) + "$")))
            return self.router.route(rule, method)(func)

        return register

    def event(self) -> Any:
        """The request being routed."""
        return self.router.current_event


def current_time() -> datetime:
    return datetime.now(UTC)


def allowed_methods(path: str) -> list[str]:
    """The methods routed for a request path (empty: no such path)."""
    return sorted({method for method, _, pattern in _MATCHERS if pattern.match(path)})


def route_table() -> Sequence[tuple[str, str, bool]]:
    """Every (method, rule, public) routed, for the OpenAPI check and the template's route list."""
    return [(method, rule, (method, rule) in PUBLIC_ROUTES) for method, rule in ROUTES]
