"""Fetch feeds concurrently with conditional GET, manual SSRF-checked redirects and hard limits."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Literal
from urllib.parse import urlsplit

# httpx imports its command-line client (rich, click, pygments: ~70 ms) whenever those happen to be
# installed, as in a dev venv; we never run it, so it is kept from loading (no effect where they are not).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
import httpx  # noqa: E402

from wirewatch.feeds.pinning import PinnedAsyncTransport, refusal  # noqa: E402
from wirewatch.feeds.ssrf import Resolver, UnsafeUrlError, check_url, resolve_host  # noqa: E402
from wirewatch.models import Feed  # noqa: E402

Outcome = Literal["ok", "not_modified", "gone", "error"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class FetchLimits:
    """Per-run fetch limits; one explicit switch allows loopback for local runs and tests.

    concurrency bounds the feeds fetched at once; per_host bounds those of one host name among them,
    so a list with many feeds from one site does not open dozens of connections to it (politeness).
    """

    concurrency: int = 32
    per_host: int = 4
    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_loopback: bool = False
    user_agent: str = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"


@dataclass(frozen=True)
class FetchResult:
    """What one fetch of one feed produced; failures are results, never exceptions."""

    feed_id: str
    outcome: Outcome
    status: int | None
    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    permanent_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    error: str | None = None
    elapsed: float = 0.0


class _FetchFailed(Exception):
    """Internal: ends a fetch with a short error message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _conditional_headers(feed: Feed) -> dict[str, str]:
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _FetchFailed(f"body too large: {declared} bytes declared, limit {max_bytes}", response.status_code)
    chunks: list[bytes] = []
    size = 0
    # Counted after decompression, so a small gzip bomb is stopped too.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _FetchFailed(f"body too large: over {max_bytes} bytes", response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


async def _fetch(client: httpx.AsyncClient, feed: Feed, limits: FetchLimits, resolve: Resolver) -> FetchResult:
    url = feed.url
    headers = _conditional_headers(feed)
    permanent_url: str | None = None
    all_permanent = True
    for _hop in range(limits.max_redirects + 1):
        try:
            await asyncio.to_thread(check_url, url, allow_loopback=limits.allow_loopback, resolve=resolve)
        except UnsafeUrlError as exc:
            raise _FetchFailed(f"unsafe URL {url}: {exc}") from exc
        request = client.build_request("GET", url, headers=headers)
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError as exc:
            # The pinned transport checks again at connect time, on the lookup it connects with.
            refused = refusal(exc)
            if refused is None:
                raise
            raise _FetchFailed(f"unsafe URL {url}: {refused}") from exc
        try:
            status = response.status_code
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                url = str(response.url.join(location.strip()))
                all_permanent = all_permanent and status in _PERMANENT_REDIRECTS
                if all_permanent:
                    permanent_url = url
                continue
            result_headers = dict(response.headers.items())
            common = {
                "feed_id": feed.id,
                "status": status,
                "url": str(response.url),
                "headers": result_headers,
                "permanent_url": permanent_url,
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
            if status == 304:
                return FetchResult(outcome="not_modified", **common)
            if status == 410:
                return FetchResult(outcome="gone", error=_status_text(status), **common)
            if status in _RETRY_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                return FetchResult(outcome="error", error=_status_text(status), retry_after=retry_after, **common)
            if not 200 <= status < 300:
                return FetchResult(outcome="error", error=_status_text(status), **common)
            body = await _read_limited(response, limits.max_bytes)
            return FetchResult(outcome="ok", body=body, **common)
        finally:
            await response.aclose()
    raise _FetchFailed(f"too many redirects (more than {limits.max_redirects})")


def _describe(exc: httpx.HTTPError) -> str:
    kinds: tuple[tuple[type[httpx.HTTPError], str], ...] = (
        (httpx.ConnectTimeout, "connect timed out"),
        (httpx.ReadTimeout, "read timed out"),
        (httpx.TimeoutException, "timed out"),
        (httpx.ConnectError, "connection failed"),
        (httpx.RemoteProtocolError, "protocol error"),
        (httpx.DecodingError, "bad content encoding"),
        (httpx.UnsupportedProtocol, "unsupported URL"),
    )
    kind = next((text for cls, text in kinds if isinstance(exc, cls)), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind


async def fetch_feed(
    client: httpx.AsyncClient, feed: Feed, limits: FetchLimits, *, resolve: Resolver = resolve_host
) -> FetchResult:
    """Fetch one feed; every feed problem becomes an outcome="error" result, never an exception."""
    started = time.monotonic()
    error: str
    status: int | None = None
    try:
        # One deadline for DNS, connect, redirects and body, so a slow-drip server cannot hold a slot.
        async with asyncio.timeout(limits.total_timeout):
            result = await _fetch(client, feed, limits, resolve)
        return replace(result, elapsed=time.monotonic() - started)
    except TimeoutError:
        error = f"timed out after {limits.total_timeout:g}s"
    except _FetchFailed as exc:
        error, status = str(exc), exc.status
    except httpx.HTTPError as exc:
        error = _describe(exc)
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return FetchResult(
        feed_id=feed.id,
        outcome="error",
        status=status,
        url=feed.url,
        error=error,
        elapsed=time.monotonic() - started,
    )


def _host(url: str) -> str:
    """The host name a feed URL connects to first, lowercased ("" when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def make_client(
    limits: FetchLimits, transport: httpx.AsyncBaseTransport | None = None, *, resolve: Resolver = resolve_host
) -> httpx.AsyncClient:
    """The shared HTTP/1.1 client for a run: pool sized to the concurrency, feed Accept, gzip.

    Without a test transport, every connection goes to an address checked on the lookup it uses
    (PinnedAsyncTransport), so a rebinding name cannot pass check_url and then connect to loopback.
    """
    pool = httpx.Limits(max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency)
    if transport is None:
        transport = PinnedAsyncTransport(allow_loopback=limits.allow_loopback, resolve=resolve, limits=pool)
    return httpx.AsyncClient(
        http1=True,
        http2=False,
        transport=transport,
        follow_redirects=False,
        # Proxy variables would route around the SSRF checks; feeds are fetched directly.
        trust_env=False,
        limits=pool,
        timeout=httpx.Timeout(limits.total_timeout, connect=limits.connect_timeout),
        headers={"User-Agent": limits.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
    )


async def fetch_all(
    feeds: Sequence[Feed],
    limits: FetchLimits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = resolve_host,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch every feed, at most limits.concurrency at once and limits.per_host per host, in the order of feeds.

    on_result, when given, is called with each result as soon as it is complete.
    """
    semaphore = asyncio.Semaphore(limits.concurrency)
    per_host: dict[str, asyncio.Semaphore] = {}
    async with make_client(limits, transport, resolve=resolve) as client:

        async def one(feed: Feed) -> FetchResult:
            host = _host(feed.url)
            host_slot = per_host.setdefault(host, asyncio.Semaphore(limits.per_host))
            # The host's slot first: a feed waiting for its busy host holds none of the global slots,
            # which the other hosts' feeds use meanwhile. The slot covers the redirects of the feed.
            async with host_slot, semaphore:
                result = await fetch_feed(client, feed, limits, resolve=resolve)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(feed) for feed in feeds)))


def fetch_all_sync(
    feeds: Sequence[Feed],
    limits: FetchLimits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = resolve_host,
) -> list[FetchResult]:
    """fetch_all for synchronous callers that want every result at once."""
    return asyncio.run(fetch_all(feeds, limits, transport=transport, resolve=resolve))


def fetch_each(
    feeds: Sequence[Feed],
    limits: FetchLimits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = resolve_host,
) -> Iterator[FetchResult]:
    """Fetch every feed, yielding each result as it completes (Lambda handlers, CLI).

    The downloads run on an event loop in a helper thread, so the caller parses, classifies and
    stores one feed while the others are still in flight instead of waiting for the slowest.
    Closing the iterator early cancels the downloads still running.
    """
    done: queue.SimpleQueue[FetchResult | BaseException | None] = queue.SimpleQueue()
    started = threading.Event()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[list[FetchResult]]]] = []

    async def main() -> None:
        task = asyncio.ensure_future(fetch_all(feeds, limits, transport=transport, resolve=resolve, on_result=done.put))
        running.append((asyncio.get_running_loop(), task))
        started.set()
        await task

    def run() -> None:
        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # handed to the consumer, which re-raises it
            done.put(exc)
        finally:
            started.set()
            done.put(None)

    thread = threading.Thread(target=run, name="wirewatch-fetch", daemon=True)
    thread.start()
    try:
        while (result := done.get()) is not None:
            if isinstance(result, BaseException):
                raise result
            yield result
    finally:
        started.wait()
        if thread.is_alive() and running:
            loop, task = running[0]
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime: nothing left to cancel
                loop.call_soon_threadsafe(task.cancel)
        thread.join()
