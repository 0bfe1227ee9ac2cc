"""The API's one resolver: routes parse and validate, call one use case, shape the JSON.

Management routes need an authorizer in the event (IAM/SigV4 or JWT, set up by the template); the
check here is defence in depth, switched off only by WIREWATCH_API_AUTH=none (local `serve`).
Public routes act only on valid signed tokens. Errors become responses in errors.py, nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from wirewatch import runtime
from wirewatch.api import pages, requests
from wirewatch.api.cursor import Cursor, decode_cursor, encode_cursor
from wirewatch.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ResourceNotFound,
    html_response,
    json_response,
    register_error_handlers,
)
from wirewatch.api.runs import start_run
from wirewatch.models import PREFERENCE_FIELDS, Subscription
from wirewatch.paging import Page, PageFilter, Position
from wirewatch.tokens import InvalidToken, verify_token
from wirewatch.usecases.feeds import MAX_URL, FeedRequest
from wirewatch.usecases.subscriptions import (
    SubscriptionRequest,
    confirm,
    unsubscribe,
    unsubscribe_by_token,
    update_preferences,
)
from wirewatch.views import delivery_view, feed_view, item_view, story_view, subscription_view

T = TypeVar("T")
Handler = Callable[..., Response[str]]

app = APIGatewayHttpResolver()

MAX_POLL_FEEDS = 500
MAX_DELIVERIES_SHOWN = 20
# Where relevant items (and stories) can still be in the table; older `since` values are clamped to it.
MIN_HORIZON = timedelta(days=366)

# (method, rule) of every route; the public ones need no authorizer.
ROUTES: list[tuple[str, str]] = []
PUBLIC_ROUTES: set[tuple[str, str]] = set()
_MATCHERS: list[tuple[str, str, re.Pattern[str]]] = []


def route(method: str, rule: str, *, public: bool = False) -> Callable[[Handler], Handler]:
    """Register a route with the resolver, and in the tables that auth, 405s and the OpenAPI test read."""

    def register(func: Handler) -> Handler:
        ROUTES.append((method, rule))
        if public:
            PUBLIC_ROUTES.add((method, rule))
        _MATCHERS.append((method, rule, re.compile("^" + re.sub(r"<\w+>", "[^/]+", rule) + "$")))
        return app.route(rule, method)(func)

    return register


def allowed_methods(path: str) -> list[str]:
    """The methods routed for a request path (empty: no such path)."""
    return sorted({method for method, _, pattern in _MATCHERS if pattern.match(path)})


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


app.use(middlewares=[authenticate])
register_error_handlers(app, allowed_methods)


def _now() -> datetime:
    return datetime.now(UTC)


def _event() -> Any:
    return app.current_event


# public


@route("GET", "/health", public=True)
def health() -> Response[str]:
    return json_response(HTTPStatus.OK, {"status": "ok"})


@route("GET", "/confirm", public=True)
def confirm_page() -> Response[str]:
    # Only checks the link: opening it (as link scanners do) must not confirm anyone.
    verify_token(runtime.token_key(), _token(), "confirm", _now())
    return html_response(HTTPStatus.OK, pages.confirm_form())


@route("POST", "/confirm", public=True)
def confirm_subscription() -> Response[str]:
    sub = confirm(_token(), token_key=runtime.token_key(), store=runtime.repository(), now=_now())
    if sub.status in ("active", "failing"):
        return html_response(HTTPStatus.OK, pages.confirmed(sub.channel))
    return html_response(HTTPStatus.CONFLICT, pages.not_confirmed(sub.status))


@route("GET", "/unsubscribe", public=True)
def unsubscribe_page() -> Response[str]:
    # Only checks the link: opening it (as mail scanners do) must not unsubscribe.
    verify_token(runtime.token_key(), _token(), "unsubscribe", _now())
    return html_response(HTTPStatus.OK, pages.unsubscribe_form())


@route("POST", "/unsubscribe", public=True)
def unsubscribe_one_click() -> Response[str]:
    token = _token()
    try:
        body = _event().decoded_body or ""
    except ValueError:
        body = ""
    if parse_qs(body).get("List-Unsubscribe") != ["One-Click"]:
        return html_response(HTTPStatus.BAD_REQUEST, pages.bad_unsubscribe_request())
    unsubscribe_by_token(
        token,
        token_key=runtime.token_key(),
        store=runtime.repository(),
        secret_store=runtime.secret_store(),
        now=_now(),
    )
    return html_response(HTTPStatus.OK, pages.unsubscribed())


def _token() -> str:
    # Public links may pick up tracking parameters on the way; only `token` matters.
    token = (_event().query_string_parameters or {}).get("token")
    if not token:
        raise InvalidToken("the link has no token")
    return str(token)


# runs


@route("POST", "/poll")
def poll_now() -> Response[str]:
    requests.query(_event(), ())
    data = requests.json_object(_event(), optional=("feed_ids",), empty_ok=True)
    wanted = requests.string_list(data, "feed_ids", max_items=MAX_POLL_FEEDS, max_length=64)
    repo, now, config = runtime.repository(), _now(), runtime.settings()
    feeds = runtime.select_feeds(now, feed_ids=wanted).due
    run_id = start_run(
        feeds,
        runs=repo,
        queue=runtime.poll_queue() if config.poll_queue_url else None,
        poll=runtime.run_poll,
        feeds_per_message=config.feeds_per_message,
        now=now,
    )
    body = {"run_id": run_id, "feeds": len(feeds)}
    return json_response(HTTPStatus.ACCEPTED, body, {"Location": f"/runs/{run_id}"})


@route("GET", "/runs/<run_id>")
def get_run(run_id: str) -> Response[str]:
    requests.query(_event(), ())
    run = runtime.repository().get_run(requests.path_id(run_id, "run_id"), _now())
    if run is None:
        raise ResourceNotFound("not_found", f"no run {run_id!r}")
    return json_response(HTTPStatus.OK, run)


# items and stories


@route("GET", "/items")
def list_items() -> Response[str]:
    items, cursor = _paged("items", runtime.repository().page_items)
    return json_response(HTTPStatus.OK, {"items": [item_view(i) for i in items], "next_cursor": cursor})


@route("GET", "/stories")
def list_stories() -> Response[str]:
    stories, cursor = _paged("stories", runtime.repository().page_stories)
    return json_response(HTTPStatus.OK, {"stories": [story_view(s) for s in stories], "next_cursor": cursor})


@route("GET", "/stories/<story_id>")
def get_story(story_id: str) -> Response[str]:
    requests.query(_event(), ())
    story = runtime.repository().get_story(requests.path_id(story_id, "story_id"))
    if story is None:
        raise ResourceNotFound("not_found", f"no story {story_id!r}")
    return json_response(HTTPStatus.OK, story_view(story))


def _paged(kind: str, read: Callable[[PageFilter, int, Position | None], Page[T]]) -> tuple[list[T], str | None]:
    params = requests.query(_event(), ("topic", "severity", "since", "limit", "cursor"))
    now = _now()
    topic, severities, size = requests.topic(params), requests.min_severity(params), requests.limit(params)
    horizon = max(MIN_HORIZON, timedelta(days=runtime.settings().relevant_ttl_days))
    since = requests.since(params, now, horizon)
    # The cursor is bound to the filters as given, so a page never silently changes query.
    filters = (topic, params.get("severity"), params.get("since"))
    after = None
    if "cursor" in params:
        cursor = decode_cursor(params["cursor"], kind, filters)
        since, after = cursor.since, cursor.position
    since = since or now - requests.DEFAULT_SINCE
    page = read(PageFilter(since=since, until=now, topic=topic, severities=severities), size, after)
    following = encode_cursor(Cursor(kind, page.next, since, filters)) if page.next else None
    return page.records, following


# feeds


@route("GET", "/feeds")
def list_feeds() -> Response[str]:
    requests.query(_event(), ())
    repo, now = runtime.repository(), _now()
    counts = repo.item_counts_by_feed(now - timedelta(hours=24), now)
    feeds = [feed_view(f, *counts.get(f.id, (0, 0))) for f in repo.list_feeds()]
    return json_response(HTTPStatus.OK, {"feeds": feeds})


@route("POST", "/feeds")
def add_feed() -> Response[str]:
    requests.query(_event(), ())
    data = requests.json_object(_event(), required=("url",), optional=("name", "language", "id"))
    request = FeedRequest(
        url=requests.string(data, "url", max_length=MAX_URL) or "",
        name=requests.string(data, "name"),
        language=requests.string(data, "language", max_length=12, default="en") or "en",
        id=requests.string(data, "id", max_length=63),
    )
    feed, added = runtime.add_feed(request)
    if not added:
        raise Conflict("conflict", f"feed {feed.id!r} exists", "id")
    return json_response(HTTPStatus.CREATED, feed_view(feed), {"Location": f"/feeds/{feed.id}"})


@route("DELETE", "/feeds/<feed_id>")
def delete_feed(feed_id: str) -> Response[str]:
    requests.query(_event(), ())
    if not runtime.repository().delete_feed(requests.path_id(feed_id, "feed_id")):
        raise ResourceNotFound("not_found", f"no feed {feed_id!r}")
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body=None)


# subscriptions

_SETTINGS_FIELDS = PREFERENCE_FIELDS


@route("GET", "/subscriptions")
def list_subscriptions() -> Response[str]:
    requests.query(_event(), ())
    subs = runtime.repository().list_subscriptions()
    return json_response(HTTPStatus.OK, {"subscriptions": [subscription_view(s) for s in subs]})


@route("POST", "/subscriptions")
def create_subscription() -> Response[str]:
    requests.query(_event(), ())
    data = requests.json_object(_event(), required=("channel", "target"), optional=_SETTINGS_FIELDS)
    channel = requests.string(data, "channel", max_length=16) or ""
    target = requests.string(data, "target", max_length=2048) or ""
    sub = runtime.subscribe(SubscriptionRequest(channel=channel, target=target, **_settings(data)), _now())
    return json_response(HTTPStatus.CREATED, subscription_view(sub), {"Location": f"/subscriptions/{sub.id}"})


@route("GET", "/subscriptions/<sub_id>")
def get_subscription(sub_id: str) -> Response[str]:
    requests.query(_event(), ())
    repo = runtime.repository()
    sub = _subscription(sub_id)
    deliveries = [delivery_view(d) for d in repo.deliveries(sub.id)[:MAX_DELIVERIES_SHOWN]]
    return json_response(HTTPStatus.OK, subscription_view(sub) | {"deliveries": deliveries})


@route("PATCH", "/subscriptions/<sub_id>")
def update_subscription(sub_id: str) -> Response[str]:
    requests.query(_event(), ())
    data = requests.json_object(_event(), optional=_SETTINGS_FIELDS)
    if not data:
        raise BadRequest("missing_field", f"give at least one of {', '.join(_SETTINGS_FIELDS)}")
    sub = update_preferences(
        requests.path_id(sub_id, "sub_id"), _settings(data), store=runtime.repository(), now=_now()
    )
    return json_response(HTTPStatus.OK, subscription_view(sub))


@route("DELETE", "/subscriptions/<sub_id>")
def delete_subscription(sub_id: str) -> Response[str]:
    requests.query(_event(), ())
    sub = unsubscribe(
        requests.path_id(sub_id, "sub_id"), store=runtime.repository(), secret_store=runtime.secret_store()
    )
    return json_response(HTTPStatus.OK, subscription_view(sub))


@route("POST", "/subscriptions/<sub_id>/digest")
def digest_now(sub_id: str) -> Response[str]:
    params = requests.query(_event(), ("preview",))
    preview = requests.flag(params, "preview")
    requests.json_object(_event(), empty_ok=True)
    sub_id = requests.path_id(sub_id, "sub_id")
    if preview:
        return json_response(HTTPStatus.OK, runtime.preview_digest(sub_id, _now()).to_dict())
    sub, outcome = runtime.send_digest_now(sub_id, _now())
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


def route_table() -> Sequence[tuple[str, str, bool]]:
    """Every (method, rule, public) routed, for the OpenAPI check and the template's route list."""
    return [(method, rule, (method, rule) in PUBLIC_ROUTES) for method, rule in ROUTES]
