"""Feeds: list with health, add (the add-feed use case), remove."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import TypeVar

from aws_lambda_powertools.event_handler import Response

from wirewatch import runtime
from wirewatch.api import requests
from wirewatch.api.errors import Conflict, ResourceNotFound, json_response
from wirewatch.api.routing import Routes, current_time
from wirewatch.usecases.feeds import MAX_URL, FeedRequest
from wirewatch.views import feed_view

T = TypeVar("T")

routes = Routes()


@routes.route("GET", "/feeds")
def list_feeds() -> Response[str]:
    requests.query(routes.event(), ())
    repo, now = runtime.repository(), current_time()
    counts = repo.item_counts_by_feed(now - timedelta(hours=24), now)
    feeds = [feed_view(f, *counts.get(f.id, (0, 0))) for f in repo.list_feeds()]
    return json_response(HTTPStatus.OK, {"feeds": feeds})


@routes.route("POST", "/feeds")
def add_feed() -> Response[str]:
    requests.query(routes.event(), ())
    data = requests.json_object(routes.event(), required=("url",), optional=("name", "language", "id"))
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


@routes.route("DELETE", "/feeds/<feed_id>")
def delete_feed(feed_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    if not runtime.repository().delete_feed(requests.path_id(feed_id, "feed_id")):
        raise ResourceNotFound("not_found", f"no feed {feed_id!r}")
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=None, body=None)
