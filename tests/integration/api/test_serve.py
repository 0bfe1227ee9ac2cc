"""`serve()`'s server over real HTTP on a loopback port: the same resolver, translated both ways."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from wirewatch.api.serve import make_server

pytestmark = pytest.mark.integration


@pytest.fixture()
def base_url(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WIREWATCH_API_AUTH", "none")
    server = make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http(method: str, url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers, error.read()
    if headers.get("Content-Type", "").startswith("application/json"):
        return status, json.loads(payload)
    return status, payload.decode()


def test_serve_answers_over_http_like_the_lambda_handler(base_url: str) -> None:
    assert http("GET", f"{base_url}/health") == (200, {"status": "ok"})
    with FeedServer() as feeds:
        url = feeds.url("/wire.xml")
        status, feed = http("POST", f"{base_url}/feeds", json.dumps({"url": url, "id": "wire"}).encode())
        assert status == 201 and feed["id"] == "wire"
    status, listed = http("GET", f"{base_url}/feeds")
    assert status == 200 and [f["id"] for f in listed["feeds"]] == ["wire"]
    status, page = http("GET", f"{base_url}/items?topic=missile&limit=5")
    assert status == 200 and page == {"items": [], "next_cursor": None}
    status, error = http("GET", f"{base_url}/items?limit=500")
    assert status == 400 and error["error"]["field"] == "limit"
    assert http("DELETE", f"{base_url}/feeds/wire")[0] == 204
    assert http("GET", f"{base_url}/nowhere")[1]["error"]["code"] == "not_found"


def test_serve_passes_form_bodies_to_the_one_click_route(base_url: str) -> None:
    status, page = http(
        "POST",
        f"{base_url}/unsubscribe?token=forged",
        b"List-Unsubscribe=One-Click",
        "application/x-www-form-urlencoded",
    )
    assert status == 400 and "not valid" in page


def test_serve_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_server(port=0, host="0.0.0.0")
