"""The API's one resolver: the resources' routers (api/<resource>.py), auth, and the error mapping.

A route parses and validates, calls one use case and shapes the JSON. Management routes need an
authorizer in the event (IAM/SigV4 or JWT, set up by the template); the check here is defence in
depth, switched off only by WIREWATCH_API_AUTH=none (local `serve`). Public routes act only on valid
signed tokens. Errors become responses in errors.py, nowhere else.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from wirewatch import runtime
from wirewatch.api import feeds, items, public, runs, subscriptions
from wirewatch.api.errors import Forbidden, register_error_handlers
from wirewatch.api.routing import PUBLIC_ROUTES, ROUTES, allowed_methods, route_table

__all__ = ["allowed_methods", "app", "route_table"]

app = APIGatewayHttpResolver()


def auth_required() -> bool:
    """Whether management routes need an authorizer in the event (WIREWATCH_API_AUTH, default iam)."""
    return runtime.settings().api_auth != "none"


def authenticate(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Refuse a management request that API Gateway did not authorize (IAM or JWT)."""
    matched = resolver.context.get("_route")
    key = (resolver.current_event.http_method.upper(), getattr(matched, "path", ""))
    if key in ROUTES and key not in PUBLIC_ROUTES and auth_required():
        context = resolver.current_event.raw_event.get("requestContext") or {}
        authorizer = context.get("authorizer") or {}
        if not (authorizer.get("iam") or authorizer.get("jwt")):
            raise Forbidden("forbidden", "this route needs IAM (SigV4) or JWT authorization")
    return next_middleware(resolver)


for resource in (public, runs, items, feeds, subscriptions):
    app.include_router(resource.routes.router)
app.use(middlewares=[authenticate])
register_error_handlers(app, allowed_methods)
