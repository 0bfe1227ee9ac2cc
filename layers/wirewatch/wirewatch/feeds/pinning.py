"""HTTP transports that connect only to the addresses the SSRF check approved (no DNS rebinding).

httpx would otherwise resolve the host name a second time when it connects, so a name that answers
a public address to the check and 127.0.0.1 to the connect would reach loopback. Here the network
backend itself resolves once, checks every address, and opens the TCP connection to one of exactly
those addresses. The URL keeps its host name, so the Host header, TLS SNI and certificate
verification are still for the name, not the address. Every connection of the client goes through
this, so each redirect hop, keep-alive reconnect and retry is checked and pinned too.
"""

from __future__ import annotations

import ssl
import typing
from functools import partial

import anyio.to_thread
import httpcore
import httpx

from wirewatch.feeds.ssrf import Address, Resolver, UnsafeUrlError, checked_addresses, resolve_host

SocketOptions = typing.Iterable[httpcore.SOCKET_OPTION] | None


class RefusedAddress(UnsafeUrlError, httpcore.ConnectError):
    """A connection refused before it was opened; httpx raises it as httpx.ConnectError from this."""


def refusal(exc: BaseException) -> UnsafeUrlError | None:
    """The SSRF refusal behind an httpx error, if that is what it was."""
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    return cause if isinstance(cause, UnsafeUrlError) else None


def _check(host: str, port: int, allow_loopback: bool, resolve: Resolver) -> list[Address]:
    try:
        return checked_addresses(host, port, allow_loopback=allow_loopback, resolve=resolve)
    except RefusedAddress:
        raise
    except UnsafeUrlError as exc:
        raise RefusedAddress(str(exc)) from None


class PinnedAsyncBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks and connects to the checked address."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolve: Resolver = resolve_host,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._resolve = resolve
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        check = partial(_check, host, port, self._allow_loopback, self._resolve)
        addresses = await anyio.to_thread.run_sync(check)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("unix sockets are never connected to")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedBackend(httpcore.NetworkBackend):
    """The synchronous PinnedAsyncBackend (Slack webhooks)."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolve: Resolver = resolve_host,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._resolve = resolve
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in _check(host, port, self._allow_loopback, self._resolve):
            try:
                return self._inner.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.NetworkStream:
        raise RefusedAddress("unix sockets are never connected to")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _PoolOptions(typing.TypedDict):
    """httpcore pool arguments both pinned transports share (typed, so mypy checks the ** call)."""

    ssl_context: ssl.SSLContext
    max_connections: int | None
    max_keepalive_connections: int | None
    keepalive_expiry: float | None
    http1: bool
    http2: bool


def _pool_options(limits: httpx.Limits) -> _PoolOptions:
    """The pool httpx would build for `limits`: HTTP/1.1 only, certifi's CAs whatever SSL_CERT_FILE says."""
    return {
        "ssl_context": httpx.create_ssl_context(trust_env=False),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": True,
        "http2": False,
    }


class PinnedAsyncTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport over PinnedAsyncBackend; never uses a proxy (that would skip the check)."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolve: Resolver = resolve_host,
        limits: httpx.Limits | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        limits = limits or httpx.Limits()
        super().__init__(trust_env=False, limits=limits)
        # httpx takes no network backend, so its pool is rebuilt with ours; handle_async_request uses _pool.
        self._pool = httpcore.AsyncConnectionPool(
            **_pool_options(limits),
            network_backend=backend or PinnedAsyncBackend(allow_loopback=allow_loopback, resolve=resolve),
        )


class PinnedTransport(httpx.HTTPTransport):
    """The synchronous PinnedAsyncTransport."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolve: Resolver = resolve_host,
        limits: httpx.Limits | None = None,
        backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        limits = limits or httpx.Limits()
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            **_pool_options(limits),
            network_backend=backend or PinnedBackend(allow_loopback=allow_loopback, resolve=resolve),
        )
