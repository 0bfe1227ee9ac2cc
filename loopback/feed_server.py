"""A loopback HTTP server for feed tests: registered routes, recorded requests, delays and slow drips.

It can listen on several loopback hosts at once (127.0.0.1, 127.0.0.2, ...: Linux routes all of
127/8 to lo), one port each, sharing the routes: feeds spread over hosts look like feeds from
different sites to a client that limits its connections per host.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class Request:
    """One request the server received (header names lowercased)."""

    method: str
    path: str
    headers: Mapping[str, str]
    host: str = "127.0.0.1"  # the loopback address it arrived on


@dataclass(frozen=True)
class Response:
    """What a route answers: status, headers and body, optionally late or dripped slowly."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    # Seconds between chunks of drip_size bytes; None sends the body at once.
    drip: float | None = None
    drip_size: int = 1
    # Omit Content-Length and close the connection to end the body.
    omit_length: bool = False


Handler = Callable[[Request], Response]
Route = Response | Handler


class FeedServer:
    """Threaded stdlib HTTP server on 127.0.0.1:<free port> (and 127.0.0.2.. with hosts > 1); a context manager."""

    def __init__(self, hosts: int = 1) -> None:
        if not 1 <= hosts <= 254:
            raise ValueError("hosts must be 1..254 (127.0.0.1 to 127.0.0.254)")
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.in_flight_by_host: dict[str, int] = {}
        self.max_in_flight_by_host: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._servers = [_Server((f"127.0.0.{n}", 0), _make_handler(self)) for n in range(1, hosts + 1)]
        self._server = self._servers[0]
        self._threads = [
            threading.Thread(
                target=s.serve_forever, kwargs={"poll_interval": 0.05}, name=f"feed-server-{n}", daemon=True
            )
            for n, s in enumerate(self._servers, 1)
        ]

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def hosts(self) -> list[str]:
        """The loopback addresses listened on, 127.0.0.1 first."""
        return [f"127.0.0.{n}" for n in range(1, len(self._servers) + 1)]

    def url(self, path: str, host: int = 0) -> str:
        """Absolute URL of path on this server (on its host-th address, 127.0.0.1 being 0)."""
        return f"http://{self.hosts[host]}:{self._servers[host].server_address[1]}{path}"

    def route(self, path: str, route: Route | None = None, **response: object) -> None:
        """Register path → a Response, a handler callable, or Response(**response)."""
        self.routes[path] = route if route is not None else Response(**response)  # type: ignore[arg-type]

    def requests_for(self, path: str) -> list[Request]:
        """Requests received for path, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def count(self, path: str) -> int:
        """How many requests path received."""
        return len(self.requests_for(path))

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _answer(self, request: Request) -> Response:
        route = self.routes.get(request.path) or self.routes.get(request.path.split("?", 1)[0])
        if route is None:
            return Response(status=404, body=b"not found")
        return route if isinstance(route, Response) else route(request)

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            here = self.in_flight_by_host[request.host] = self.in_flight_by_host.get(request.host, 0) + 1
            self.max_in_flight_by_host[request.host] = max(self.max_in_flight_by_host.get(request.host, 0), here)

    def _leave(self, request: Request) -> None:
        with self._lock:
            self.in_flight -= 1
            self.in_flight_by_host[request.host] -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops SYNs when many clients connect at once (1 s retransmit).
    request_queue_size = 128


def _make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            # A client that hangs up between requests on a kept-alive connection needs no answer.
            with contextlib.suppress(ConnectionError, TimeoutError):
                super().handle()

        def do_GET(self) -> None:
            request = Request(
                method="GET",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                host=str(self.connection.getsockname()[0]),
            )
            server._enter(request)
            try:
                self._respond(server._answer(request))
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the client gave up; that is what several tests do
            finally:
                server._leave(request)

        def _respond(self, response: Response) -> None:
            if response.delay and server._stopping.wait(response.delay):
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.omit_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "content-length" not in {k.lower() for k in response.headers}:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.drip is None:
                self.wfile.write(response.body)
                return
            for start in range(0, len(response.body), response.drip_size):
                self.wfile.write(response.body[start : start + response.drip_size])
                self.wfile.flush()
                if server._stopping.wait(response.drip):
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return _Handler


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll predicate until it is true or timeout passes (for server-side effects after a client returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
