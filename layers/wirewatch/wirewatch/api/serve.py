"""`wirewatch serve`: the API's resolver over plain HTTP on loopback, for local mode and curl.

Each request becomes an API Gateway HTTP API (payload 2.0) event and the resolver's answer goes
back as the HTTP response, so what runs here is exactly what runs in Lambda. There is no
authorizer locally, so management routes are open: the server refuses to listen beyond loopback,
and since any web page the user opens can reach loopback too, it also refuses requests a browser
sends on another site's behalf: a Host that is not a loopback name (DNS rebinding), an Origin that
is not this server, and bodies that are not JSON (a cross-site form or text/plain POST needs no
CORS preflight; JSON does). Only the public link routes take the HTML form's urlencoded body.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import socket
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wirewatch import runtime
from wirewatch.feeds.ssrf import is_loopback_host
from wirewatch.logs import logger

MAX_BODY_BYTES = 1_000_000
# The public link routes: their pages post an HTML form, and RFC 8058 one-click posts are urlencoded.
_FORM_PATHS = frozenset({"/unsubscribe", "/confirm"})
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
# The resolver keeps the current event on the class: one request at a time goes through it.
_RESOLVE_LOCK = threading.Lock()


@dataclass
class LocalContext:
    """The parts of a Lambda context the handler reads."""

    aws_request_id: str
    function_name: str = "wirewatch-api-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:wirewatch-api-local"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def to_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event for one request."""
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        else:
            merged[key] = f"{merged[key]},{value}" if key in merged else value
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if parts.query:
        # As API Gateway does: repeated parameters are joined with commas.
        event["queryStringParameters"] = {
            k: ",".join(v) for k, v in parse_qs(parts.query, keep_blank_values=True).items()
        }
    if cookies:
        event["cookies"] = cookies
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


class ServeHostError(ValueError):
    """serve was asked to listen where it must not (beyond loopback), or on an address it cannot use."""


class Refusal(Exception):
    """A request refused before it reaches the API, with the status and JSON error it gets."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> bytes:
    """The API's error body (api/errors.py error_response), for answers given before the resolver."""
    return json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode()


def _split_host(value: str) -> tuple[str, int | None]:
    """host and port of a Host header value; ValueError when it is not one."""
    parts = urlsplit(f"//{value}")
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        raise ValueError(value)
    return parts.hostname, parts.port


def check_request(method: str, path: str, headers: Any, port: int) -> int:
    """Refuse what a browser might send on another site's behalf; return the body length to read.

    headers is the request's http.client.HTTPMessage (case-insensitive, repeated names kept).
    """
    hosts = headers.get_all("Host") or []
    try:
        if len(hosts) != 1:
            raise ValueError("no single Host")
        host, _port = _split_host(hosts[0].strip())
    except ValueError:
        raise Refusal(HTTPStatus.BAD_REQUEST, "bad_host", "the request needs one valid Host header") from None
    if not is_loopback_host(host):
        # A DNS-rebinding page reaches 127.0.0.1 under its own name; that name is what Host carries.
        raise Refusal(HTTPStatus.FORBIDDEN, "forbidden_host", "this server answers only loopback Host names")
    for origin in headers.get_all("Origin") or []:
        try:
            parts = urlsplit(origin.strip())
            ours = parts.scheme == "http" and is_loopback_host(parts.hostname or "") and (parts.port or 80) == port
        except ValueError:
            ours = False
        if not ours or parts.path not in ("", "/"):
            raise Refusal(HTTPStatus.FORBIDDEN, "forbidden_origin", "cross-origin requests are refused")
    if headers.get_all("Transfer-Encoding"):
        raise Refusal(HTTPStatus.LENGTH_REQUIRED, "length_required", "send the body with a Content-Length")
    lengths = headers.get_all("Content-Length") or ["0"]
    if len(set(lengths)) != 1 or not lengths[0].strip().isdigit() or not lengths[0].strip().isascii():
        raise Refusal(HTTPStatus.BAD_REQUEST, "bad_content_length", "Content-Length must be one whole number")
    length = int(lengths[0])
    if length > MAX_BODY_BYTES:
        raise Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    if length:
        media = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        allowed = (_JSON, _FORM) if path in _FORM_PATHS else (_JSON,)
        if media not in allowed:
            raise Refusal(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                f"send the body as {' or '.join(allowed)}",
            )
    return length


class StoreWatch:
    """Notices when the local SQLite file went away or was replaced, and has it reopened.

    The open connection would otherwise keep working on a deleted file (or fail on every request),
    so the server would answer from, or 500 on, a database that no longer exists.
    """

    def __init__(self) -> None:
        self._seen: tuple[Path, int, int] | None = None

    def check(self) -> None:
        if not runtime.is_local() or runtime.repository.cache_info().currsize == 0:
            self._seen = None
            return
        store = runtime.repository()
        path = getattr(store, "path", None)
        if not isinstance(path, Path):
            return
        try:
            stat = path.stat()
            current = (path, stat.st_dev, stat.st_ino)
        except OSError:
            current = None
        if self._seen is None and current is not None:
            self._seen = current
        elif current is None or current != self._seen:
            logger.warning("local store went away; reopening", extra={"path": str(path)})
            self.reopen()

    def reopen(self) -> None:
        """Drop the cached store (and the state directory's secrets); the next use opens them afresh."""
        if runtime.repository.cache_info().currsize:
            close = getattr(runtime.repository(), "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # the old file is already unusable; closing it is best effort
                    logger.info("closing the old store failed", extra={"error": str(exc)})
        for cached in (runtime.repository, runtime.secret_store, runtime.postman):
            cached.cache_clear()
        self._seen = None


def _handler_class(resolve: Any) -> type[BaseHTTPRequestHandler]:
    watch = StoreWatch()

    class Handler(BaseHTTPRequestHandler):
        server_version = "wirewatch-serve"
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            address = self.server.server_address
            port = int(address[1]) if isinstance(address, tuple) else 0
            try:
                length = check_request(self.command, urlsplit(self.path).path, self.headers, port)
            except Refusal as refusal:
                # The body (if any) is left unread, so the connection cannot be reused.
                self.close_connection = True
                logger.info("request refused", extra={"status": int(refusal.status), "code": refusal.code})
                headers = {"Content-Type": _JSON, "Connection": "close"}
                self._reply(refusal.status, headers, error_body(refusal.code, refusal.message))
                return
            body = self.rfile.read(length) if length else b""
            event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            request_id = event["requestContext"]["requestId"]
            with _RESOLVE_LOCK:
                logger.set_correlation_id(request_id)
                watch.check()
                result = resolve(event, LocalContext(aws_request_id=request_id))
                if int(result["statusCode"]) in (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.SERVICE_UNAVAILABLE):
                    # A broken or corrupted store is reopened on the next request, not kept failing.
                    watch.reopen()
                else:
                    watch.check()  # notes the file a store opened by this request uses
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
            headers = dict(result.get("headers") or {})
            for cookie in result.get("cookies") or []:
                headers.setdefault("Set-Cookie", cookie)
            self._reply(int(result["statusCode"]), headers, data)

        def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method goes to the resolver (as API Gateway's ANY route does), which answers 405.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("request", extra={"line": format % args})

    return Handler


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _listen_address(host: str) -> str:
    """The loopback address literal to bind for host; ServeHostError for anything else."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        raise ServeHostError(f"--host must be a loopback address such as 127.0.0.1 or ::1, not {host!r}") from None
    if not address.is_loopback:
        raise ServeHostError(
            f"serve has no authentication, so it only listens on loopback (127.0.0.1 or ::1), not {host!r}"
        )
    return str(address)


def make_server(port: int = 3000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for the API on a loopback address (port 0: any free port); not yet serving."""
    address = _listen_address(host)
    if not 0 <= port <= 65535:
        raise ServeHostError(f"--port must be between 0 and 65535, not {port}")
    from wirewatch.api.routes import app

    server_class = _IPv6Server if ":" in address else ThreadingHTTPServer
    try:
        return server_class((address, port), _handler_class(app.resolve))
    except OSError as exc:
        raise ServeHostError(f"cannot listen on {address} port {port}: {exc.strerror or exc}") from exc


def _url(server: ThreadingHTTPServer) -> str:
    host, port = str(server.server_address[0]), server.server_address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(port: int = 3000, host: str = "127.0.0.1") -> None:
    """Serve the API over HTTP until interrupted (management routes need no authorizer here)."""
    os.environ["WIREWATCH_API_AUTH"] = "none"
    runtime.settings.cache_clear()  # settings are read once; this process now serves without an authorizer
    try:
        server = make_server(port, host)
    except ServeHostError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    print(f"wirewatch API on {_url(server)} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
