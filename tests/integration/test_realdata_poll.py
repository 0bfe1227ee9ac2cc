"""Polling the real feed snapshots in ../shared/realdata (skipped when absent), served from loopback."""

from __future__ import annotations

import pytest

from loopback.feed_server import FeedServer, Request, Response
from tests.support.paths import REALDATA, realdata_path
from wirewatch import runtime
from wirewatch.models import Feed

pytestmark = [pytest.mark.integration, pytest.mark.realdata]


def test_every_real_snapshot_polls_into_the_table_once(aws_env: dict[str, str]) -> None:
    realdata_path("SOURCES.md")  # skips the test when the folder is absent
    snapshots = sorted(REALDATA.glob("*.xml"))
    assert snapshots
    with FeedServer() as server:
        for path in snapshots:
            body, etag = path.read_bytes(), f'"{path.stem}"'

            def answer(request: Request, body: bytes = body, etag: str = etag) -> Response:
                if request.headers.get("if-none-match") == etag:
                    return Response(status=304, headers={"ETag": etag})
                return Response(headers={"ETag": etag, "Content-Type": "application/rss+xml"}, body=body)

            server.route(f"/{path.name}", answer)
            runtime.repository().add_feed(
                Feed(id=path.stem[:60].lower(), url=server.url(f"/{path.name}"), name=path.stem)
            )
        feeds = runtime.repository().list_feeds()
        first = runtime.run_poll(feeds)
        second = runtime.run_poll(runtime.repository().list_feeds())

    # Then every snapshot, malformed or oddly encoded, yields items and no feed fails
    assert first.failed == 0, first.errors
    assert all(o.entries > 0 for o in first.outcomes)
    assert first.new_items > 1000
    # the Reuters snapshots carry real North Korean launch reports; all are years or months old, so the
    # first-run flood guard stores them as seen without making stories or alerts of them
    assert first.relevant_items >= 5
    assert first.new_relevant == () and first.stories == ()
    # and a second cycle is all conditional: nothing parsed, nothing stored twice
    assert second.not_modified == len(snapshots) and second.new_items == 0
