"""Items and stories: read-only, filtered, paged newest first with a signed cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import TypeVar

from aws_lambda_powertools.event_handler import Response

from wirewatch import runtime
from wirewatch.api import requests
from wirewatch.api.cursor import Cursor, decode_cursor, encode_cursor
from wirewatch.api.errors import ResourceNotFound, json_response
from wirewatch.api.routing import Routes, current_time
from wirewatch.paging import Page, PageFilter, Position
from wirewatch.views import item_view, story_view

T = TypeVar("T")

routes = Routes()

# Where relevant items (and stories) can still be in the table; older `since` values are clamped to it.
MIN_HORIZON = timedelta(days=366)


@routes.route("GET", "/items")
def list_items() -> Response[str]:
    items, cursor = _paged("items", runtime.repository().page_items)
    return json_response(HTTPStatus.OK, {"items": [item_view(i) for i in items], "next_cursor": cursor})


@routes.route("GET", "/stories")
def list_stories() -> Response[str]:
    stories, cursor = _paged("stories", runtime.repository().page_stories)
    return json_response(HTTPStatus.OK, {"stories": [story_view(s) for s in stories], "next_cursor": cursor})


@routes.route("GET", "/stories/<story_id>")
def get_story(story_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    story = runtime.repository().get_story(requests.path_id(story_id, "story_id"))
    if story is None:
        raise ResourceNotFound("not_found", f"no story {story_id!r}")
    return json_response(HTTPStatus.OK, story_view(story))


def _paged(kind: str, read: Callable[[PageFilter, int, Position | None], Page[T]]) -> tuple[list[T], str | None]:
    params = requests.query(routes.event(), ("topic", "severity", "since", "limit", "cursor"))
    now = current_time()
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
