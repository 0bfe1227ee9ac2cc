"""The plumbing the loopback stand-ins share: a threaded stdlib HTTP server on 127.0.0.1 in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Serves `handler` on 127.0.0.1 (never another address) at `port`, 0 for a free one; a context manager."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, port: int, name: str, backlog: int = 128) -> None:
        self._server = _Server(("127.0.0.1", port), handler, backlog)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """http://127.0.0.1:<port>, which every URL of this server starts with."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], backlog: int) -> None:
        self.request_queue_size = backlog  # listen() reads it while the base constructor binds
        super().__init__(address, handler)
