"""DNS rebinding: the address that passed the SSRF check is the one connected to, on every hop and target.

The stub resolver stands in for the system one (socket.getaddrinfo), so it also answers any second
lookup httpx or anyio would make on their own. No test here connects outside 127.0.0.0/8: a public
answer is only ever given to the check, and the loopback answer is refused before a connection.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from loopback.feed_server import FeedServer
from wirewatch.delivery.slack import SlackSender, webhook_client
from wirewatch.feeds.fetch import FetchLimits, fetch_all_sync
from wirewatch.models import Feed

pytestmark = pytest.mark.integration

PUBLIC = "93.184.215.14"
LIMITS = FetchLimits(allow_loopback=False, connect_timeout=1.0, total_timeout=3.0)


class CountingListener:
    """A loopback TCP listener that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def __enter__(self) -> CountingListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    with CountingListener() as counting:
        yield counting


def _is_ip(host: object) -> bool:
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(str(host))
        return True
    return False


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch, listener: CountingListener) -> list[str]:
    """socket.getaddrinfo answering a public address to the first lookup of a name, loopback after."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is None or _is_ip(host) or host == "localhost":
            return real(host, port, *args, **kwargs)
        name = host.decode() if isinstance(host, bytes) else str(host)
        lookups.append(name)
        address = PUBLIC if len(lookups) == 1 else "127.0.0.1"
        target_port = int(port) if len(lookups) == 1 else listener.port
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, target_port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_that_rebinds_to_loopback_after_the_check_is_never_connected_to(
    rebinding_dns: list[str], listener: CountingListener
) -> None:
    # Given a feed host whose first answer is public and every later answer is 127.0.0.1
    url = f"http://rebind.example:{listener.port}/feed"
    # When the feed is fetched with loopback refused
    (result,) = fetch_all_sync([Feed(id="f1", url=url, name="f1")], LIMITS)
    # Then the lookup the connection would use is checked and refused, and nothing reached loopback
    assert result.outcome == "error"
    assert result.error == f"unsafe URL {url}: refused rebind.example (127.0.0.1): loopback address"
    assert rebinding_dns == ["rebind.example", "rebind.example"]
    assert listener.accepted == 0


def test_a_redirect_hop_is_pinned_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a loopback feed (allowed here) redirecting to a name that answers public, then private
    answers = iter([[PUBLIC], ["10.0.0.5"]])
    seen: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append(host)
        return next(answers)

    with FeedServer() as server:
        server.route("/hop", status=302, headers={"Location": "http://rebind.example/feed"})
        # When it is fetched
        limits = FetchLimits(allow_loopback=True, connect_timeout=1.0, total_timeout=3.0)
        (result,) = fetch_all_sync([Feed(id="f1", url=server.url("/hop"), name="f1")], limits, resolve=resolve)
        paths = [r.path for r in server.requests]
    # Then the second lookup, the one the connection uses, is refused before connecting
    assert result.error == "unsafe URL http://rebind.example/feed: refused rebind.example (10.0.0.5): private address"
    assert seen == ["rebind.example", "rebind.example"]
    assert paths == ["/hop"]


def test_slack_webhook_posts_never_follow_dns_to_loopback(
    monkeypatch: pytest.MonkeyPatch, listener: CountingListener
) -> None:
    # Given hooks.slack.com resolving to the loopback listener (a poisoned resolver)
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("hooks.slack.com", b"hooks.slack.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", listener.port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    # When a payload is posted to a real-looking webhook
    with webhook_client() as client:
        result = SlackSender(client, sleep=lambda _s: None).send(
            "https://hooks.slack.com/services/T0/B0/secret", {"text": "x"}
        )
    # Then the address is refused before any connection, and the result names no secret
    assert result.status == "retry"
    assert result.detail == "unsafe address: refused hooks.slack.com (127.0.0.1): loopback address"
    assert listener.accepted == 0


def test_the_webhook_client_still_posts_to_an_allowed_loopback_catcher() -> None:
    from loopback.slack_catcher import SlackCatcher

    with SlackCatcher() as catcher, webhook_client(allow_loopback=True) as client:
        result = SlackSender(client, allow_loopback=True).send(catcher.url("/services/T/B/x"), {"text": "hi"})
    assert result.status == "sent"


def test_the_runtime_slack_sender_posts_through_the_pinned_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from wirewatch import runtime
    from wirewatch.feeds.pinning import PinnedTransport

    monkeypatch.setenv("WIREWATCH_STORE", "sqlite")
    runtime.reset()
    try:
        sender = runtime.postman()._slack()  # type: ignore[attr-defined]
    except AttributeError:
        pytest.skip("Postman keeps its Slack sender elsewhere")
    finally:
        runtime.reset()
    assert isinstance(sender._client._transport, PinnedTransport)
