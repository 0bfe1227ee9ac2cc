"""Poll runs: POST /poll starts one (queued, or in a local thread), GET /runs/{id} follows it."""

from __future__ import annotations

from http import HTTPStatus
from typing import TypeVar

from aws_lambda_powertools.event_handler import Response

from wirewatch import runtime
from wirewatch.api import requests
from wirewatch.api.errors import ResourceNotFound, json_response
from wirewatch.api.routing import Routes, current_time
from wirewatch.usecases.runs import start_run

T = TypeVar("T")

routes = Routes()

MAX_POLL_FEEDS = 500


@routes.route("POST", "/poll")
def pollnow() -> Response[str]:
    requests.query(routes.event(), ())
    data = requests.json_object(routes.event(), optional=("feed_ids",), empty_ok=True)
    wanted = requests.string_list(data, "feed_ids", max_items=MAX_POLL_FEEDS, max_length=64)
    repo, now, config = runtime.repository(), current_time(), runtime.settings()
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


@routes.route("GET", "/runs/<run_id>")
def get_run(run_id: str) -> Response[str]:
    requests.query(routes.event(), ())
    run = runtime.repository().get_run(requests.path_id(run_id, "run_id"), current_time())
    if run is None:
        raise ResourceNotFound("not_found", f"no run {run_id!r}")
    return json_response(HTTPStatus.OK, run)
