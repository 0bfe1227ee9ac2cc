"""fetch_all and fetch_each against a loopback feed server: statuses, redirects, limits, SSRF and concurrency."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from loopback.feed_server import FeedServer, Request, Response
from wirewatch.feeds.fetch import FetchLimits, FetchResult, fetch_all_sync, fetch_each, parse_retry_after
from wirewatch.models import Feed

pytestmark = pytest.mark.integration

LIMITS = FetchLimits(allow_loopback=True, connect_timeout=1.0, total_timeout=2.0, max_bytes=100_000)
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><title>N. Korea fires missile</title><guid>g-1</guid></item></channel></rss>"
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        yield feed_server


def feed(url: str, feed_id: str = "f1", **kwargs: object) -> Feed:
    return Feed(id=feed_id, url=url, name=feed_id, **kwargs)  # type: ignore[arg-type]


def fetch_one(target: Feed, limits: FetchLimits = LIMITS, **kwargs: object) -> FetchResult:
    (result,) = fetch_all_sync([target], limits, **kwargs)  # type: ignore[arg-type]
    return result


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"unexpected DNS lookup of {host}")


def test_ok_returns_body_validators_and_sends_our_headers(server: FeedServer) -> None:
    server.route("/rss", body=RSS, headers={"ETag": '"v1"', "Last-Modified": "Wed, 05 Nov 2025 00:00:00 GMT"})
    result = fetch_one(feed(server.url("/rss")))
    assert (result.outcome, result.status, result.body, result.error) == ("ok", 200, RSS, None)
    assert (result.etag, result.last_modified) == ('"v1"', "Wed, 05 Nov 2025 00:00:00 GMT")
    assert result.url == server.url("/rss")
    assert result.permanent_url is None
    assert result.headers["etag"] == '"v1"'
    assert result.elapsed > 0
    sent = server.requests_for("/rss")[0].headers
    assert sent["user-agent"].startswith("wirewatch/")
    assert "application/rss+xml" in sent["accept"]
    assert "gzip" in sent["accept-encoding"]
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_gzip_body_is_decoded(server: FeedServer) -> None:
    server.route("/gz", body=gzip.compress(RSS), headers={"Content-Encoding": "gzip"})
    assert fetch_one(feed(server.url("/gz"))).body == RSS


def test_not_modified_sends_conditional_headers_and_returns_no_body(server: FeedServer) -> None:
    def conditional(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body=RSS, headers={"ETag": '"v1"'})

    server.route("/rss", conditional)
    target = feed(server.url("/rss"), etag='"v1"', last_modified="Wed, 05 Nov 2025 00:00:00 GMT")
    result = fetch_one(target)
    assert (result.outcome, result.status, result.body, result.etag) == ("not_modified", 304, b"", '"v1"')
    sent = server.requests_for("/rss")[0].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 05 Nov 2025 00:00:00 GMT"
    # Without validators the same server sends the body.
    assert fetch_one(feed(server.url("/rss"))).outcome == "ok"


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_reports_the_new_url(server: FeedServer, status: int) -> None:
    server.route("/old", status=status, headers={"Location": "/new"})
    server.route("/new", body=RSS)
    result = fetch_one(feed(server.url("/old")))
    assert (result.outcome, result.body) == ("ok", RSS)
    assert result.url == result.permanent_url == server.url("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_has_no_permanent_url(server: FeedServer, status: int) -> None:
    server.route("/old", status=status, headers={"Location": server.url("/new")})
    server.route("/new", body=RSS)
    result = fetch_one(feed(server.url("/old")))
    assert (result.outcome, result.url, result.permanent_url) == ("ok", server.url("/new"), None)


def test_permanent_url_stops_at_the_first_temporary_hop(server: FeedServer) -> None:
    server.route("/a", status=301, headers={"Location": "/b"})
    server.route("/b", status=302, headers={"Location": "/c"})
    server.route("/c", body=RSS)
    result = fetch_one(feed(server.url("/a")))
    assert (result.url, result.permanent_url) == (server.url("/c"), server.url("/b"))


def test_conditional_headers_follow_redirects(server: FeedServer) -> None:
    server.route("/old", status=301, headers={"Location": "/new"})
    server.route("/new", status=304)
    result = fetch_one(feed(server.url("/old"), etag='"e"'))
    assert result.outcome == "not_modified"
    assert server.requests_for("/new")[0].headers["if-none-match"] == '"e"'


def test_redirect_loop_is_an_error(server: FeedServer) -> None:
    server.route("/loop", status=302, headers={"Location": "/loop"})
    result = fetch_one(feed(server.url("/loop")), replace(LIMITS, max_redirects=3))
    assert (result.outcome, result.error) == ("error", "too many redirects (more than 3)")
    assert server.count("/loop") == 4


def test_gone(server: FeedServer) -> None:
    server.route("/gone", status=410, body=b"gone")
    result = fetch_one(feed(server.url("/gone")))
    assert (result.outcome, result.status, result.error) == ("gone", 410, "HTTP 410 Gone")


def test_too_many_requests_with_retry_after_seconds(server: FeedServer) -> None:
    server.route("/busy", status=429, headers={"Retry-After": "120"})
    result = fetch_one(feed(server.url("/busy")))
    assert (result.outcome, result.status, result.retry_after) == ("error", 429, 120.0)
    assert result.error == "HTTP 429 Too Many Requests"


def test_unavailable_with_retry_after_date(server: FeedServer) -> None:
    server.route("/down", status=503, headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"})
    result = fetch_one(feed(server.url("/down")))
    assert (result.outcome, result.status, result.error) == ("error", 503, "HTTP 503 Service Unavailable")
    assert result.retry_after is not None and result.retry_after > 365 * 86400


def test_unavailable_without_retry_after(server: FeedServer) -> None:
    server.route("/down", status=503)
    assert fetch_one(feed(server.url("/down"))).retry_after is None


@pytest.mark.parametrize(("status", "error"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")])
def test_other_http_errors(server: FeedServer, status: int, error: str) -> None:
    server.route("/bad", status=status)
    result = fetch_one(feed(server.url("/bad")))
    assert (result.outcome, result.status, result.error, result.body) == ("error", status, error, b"")


def test_slow_server_times_out(server: FeedServer) -> None:
    server.route("/slow", body=RSS, delay=3.0)
    result = fetch_one(feed(server.url("/slow")), replace(LIMITS, total_timeout=0.5))
    assert (result.outcome, result.error) == ("error", "timed out after 0.5s")
    assert result.elapsed < 2.0


def test_slow_drip_is_cut_by_the_total_timeout(server: FeedServer) -> None:
    # 1 byte every 50 ms: each read is quick, so only the whole-fetch deadline stops it.
    server.route("/drip", body=RSS, drip=0.05)
    result = fetch_one(feed(server.url("/drip")), replace(LIMITS, total_timeout=0.5))
    assert (result.outcome, result.error) == ("error", "timed out after 0.5s")
    assert result.elapsed < 2.0
    assert server.count("/drip") == 1


def test_declared_oversized_body_is_refused(server: FeedServer) -> None:
    server.route("/big", body=b"x" * 200_000)
    result = fetch_one(feed(server.url("/big")))
    assert result.outcome == "error"
    assert result.error == "body too large: 200000 bytes declared, limit 100000"
    assert result.body == b""


def test_streamed_oversized_body_is_aborted(server: FeedServer) -> None:
    server.route("/big", body=b"x" * 1_000_000, omit_length=True)
    result = fetch_one(feed(server.url("/big")))
    assert (result.outcome, result.error, result.status) == (
        "error",
        "body too large: over 100000 bytes",
        200,
    )


def test_gzip_bomb_is_stopped_after_decompression(server: FeedServer) -> None:
    server.route("/bomb", body=gzip.compress(b"\0" * 5_000_000), headers={"Content-Encoding": "gzip"})
    result = fetch_one(feed(server.url("/bomb")))
    assert (result.outcome, result.error) == ("error", "body too large: over 100000 bytes")


def test_loopback_is_refused_without_a_request_when_not_allowed(server: FeedServer) -> None:
    server.route("/rss", body=RSS)
    result = fetch_one(feed(server.url("/rss")), replace(LIMITS, allow_loopback=False), resolve=no_dns)
    assert result.outcome == "error"
    assert result.error == f"unsafe URL {server.url('/rss')}: refused 127.0.0.1: loopback address"
    assert server.requests == []


def test_redirect_to_a_private_name_is_refused_before_connecting(server: FeedServer) -> None:
    looked_up: list[str] = []

    def fake_dns(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return {"intranet.example": ["10.0.0.5"]}[host]

    server.route("/hop", status=302, headers={"Location": "http://intranet.example/admin/feed"})
    result = fetch_one(feed(server.url("/hop")), resolve=fake_dns)
    assert result.outcome == "error"
    assert result.error == (
        "unsafe URL http://intranet.example/admin/feed: refused intranet.example (10.0.0.5): private address"
    )
    assert looked_up == ["intranet.example"]
    assert [r.path for r in server.requests] == ["/hop"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata address"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata host"),
        ("file:///etc/passwd", "only http and https URLs are fetched"),
    ],
)
def test_redirect_to_metadata_or_other_schemes_is_refused(server: FeedServer, location: str, reason: str) -> None:
    server.route("/hop", status=301, headers={"Location": location})
    result = fetch_one(feed(server.url("/hop")), resolve=no_dns)
    assert result.outcome == "error"
    assert result.error is not None and reason in result.error
    assert result.permanent_url is None  # a refused target is never recorded as the new feed URL
    assert server.count("/hop") == 1


def test_connection_refused_is_an_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch_one(feed(f"http://127.0.0.1:{port}/rss"))
    assert result.outcome == "error"
    assert result.error is not None and result.error.startswith("connection failed")


def test_unresolvable_host_is_an_error() -> None:
    def fake_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = fetch_one(feed("https://nowhere.invalid/rss"), resolve=fake_dns)
    assert result.outcome == "error"
    assert result.error == (
        "unsafe URL https://nowhere.invalid/rss: cannot resolve host nowhere.invalid: "
        "[Errno -2] Name or service not known"
    )


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/feed", "http://user:pw@127.0.0.1/"])
def test_bad_feed_urls_become_errors(url: str) -> None:
    result = fetch_one(feed(url), resolve=no_dns)
    assert result.outcome == "error"
    assert result.error is not None and result.error.startswith("unsafe URL")


def test_fetches_run_concurrently_and_within_the_limit(server: FeedServer) -> None:
    feeds = []
    for n in range(20):
        server.route(f"/f{n}", body=RSS, delay=0.3)
        feeds.append(feed(server.url(f"/f{n}"), feed_id=f"f{n}"))
    results = fetch_all_sync(feeds, replace(LIMITS, concurrency=8))
    assert [r.feed_id for r in results] == [f"f{n}" for n in range(20)]
    assert [r.error for r in results if r.outcome != "ok"] == []
    assert 1 < server.max_in_flight <= 8


def test_fetches_to_one_host_stay_within_the_per_host_limit() -> None:
    # Given 12 slow feeds on one loopback host and 4 on another, 3 connections allowed per host
    with FeedServer(hosts=2) as server:
        feeds = []
        for n in range(16):
            server.route(f"/f{n}", body=RSS, delay=0.3)
            feeds.append(feed(server.url(f"/f{n}", host=0 if n < 12 else 1), feed_id=f"f{n}"))
        # When they are fetched with room for 8 at once
        results = fetch_all_sync(feeds, replace(LIMITS, concurrency=8, per_host=3))
        busiest = dict(server.max_in_flight_by_host)
    # Then every feed is fetched, neither host ever saw more than 3 requests at once,
    # and the busy host's queue did not keep the other host waiting
    assert [r.error for r in results if r.outcome != "ok"] == []
    assert busiest == {"127.0.0.1": 3, "127.0.0.2": 3}
    assert server.max_in_flight == 6


def test_per_host_limit_counts_every_port_of_a_host_together() -> None:
    # Given four feeds on one host name, each behind its own port, counting requests in flight together
    lock, in_flight, most = threading.Lock(), [0], [0]

    def slow(request: Request) -> Response:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        return Response(body=RSS)

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(FeedServer()) for _ in range(4)]
        for srv in servers:
            srv.route("/rss", slow)
        feeds = [feed(srv.url("/rss"), feed_id=f"f{n}") for n, srv in enumerate(servers)]
        # When they are fetched with 2 connections allowed per host
        results = fetch_all_sync(feeds, replace(LIMITS, concurrency=8, per_host=2))
    # Then all four are fetched, never more than 2 at once
    assert [r.outcome for r in results] == ["ok"] * 4
    assert most[0] == 2


def test_one_bad_feed_does_not_stop_the_others(server: FeedServer) -> None:
    server.route("/good", body=RSS)
    server.route("/bad", status=500)
    server.route("/slow", body=RSS, delay=3.0)
    feeds = [
        feed(server.url("/bad"), "bad"),
        feed(server.url("/good"), "good"),
        feed("http://10.0.0.1/x", "private"),
        feed(server.url("/slow"), "slow"),
    ]
    results = fetch_all_sync(feeds, replace(LIMITS, total_timeout=0.5), resolve=no_dns)
    assert [(r.feed_id, r.outcome) for r in results] == [
        ("bad", "error"),
        ("good", "ok"),
        ("private", "error"),
        ("slow", "error"),
    ]


def test_fetch_each_yields_each_result_as_it_completes(server: FeedServer) -> None:
    server.route("/slow", body=RSS, delay=1.0)
    server.route("/fast", body=RSS)
    started = time.monotonic()
    arrivals = [
        (r.feed_id, time.monotonic() - started)
        for r in fetch_each([feed(server.url("/slow"), "slow"), feed(server.url("/fast"), "fast")], LIMITS)
    ]
    assert [feed_id for feed_id, _ in arrivals] == ["fast", "slow"]
    # The fast feed is in the caller's hands while the slow one is still downloading.
    assert arrivals[0][1] < 0.8 <= arrivals[1][1]


def test_closing_fetch_each_early_cancels_the_downloads_left(server: FeedServer) -> None:
    server.route("/fast", body=RSS)
    server.route("/slow", body=RSS, delay=1.5)
    results = fetch_each([feed(server.url("/fast"), "fast"), feed(server.url("/slow"), "slow")], LIMITS)
    started = time.monotonic()
    assert next(results).feed_id == "fast"
    results.close()
    assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name == "wirewatch-fetch"]


def test_fetch_each_raises_what_broke_the_fetch_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_client(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no client today")

    monkeypatch.setattr("wirewatch.feeds.fetch.make_client", broken_client)
    with pytest.raises(RuntimeError, match="no client today"):
        list(fetch_each([feed("http://127.0.0.1:9/x")], LIMITS))


def test_parse_retry_after() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
