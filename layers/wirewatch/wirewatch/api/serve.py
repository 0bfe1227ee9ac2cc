"""`wirewatch serve`: the API's resolver over plain HTTP on loopback, for local mode and curl.

Each request becomes an API Gateway HTTP API (payload 2.0) event and the resolver's answer goes
back as the HTTP response, so what runs here is exactly what runs in Lambda. There is no
authorizer locally, so management routes are open: the server refuses to listen beyond loopback.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wirewatch import runtime
from wirewatch.logs import logger

MAX_BODY_BYTES = 1_000_000
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


def _handler_class(resolve: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "wirewatch-serve"
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = self.headers.get("Content-Length", "0")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"Content-Type": "application/json"}, b"")
                return
            body = self.rfile.read(int(length)) if int(length) else b""
            event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            request_id = event["requestContext"]["requestId"]
            with _RESOLVE_LOCK:
                logger.set_correlation_id(request_id)
                result = resolve(event, LocalContext(aws_request_id=request_id))
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


def make_server(port: int = 3000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for the API on a loopback address (port 0: any free port); not yet serving."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"serve has no authentication, so it only listens on loopback, not {host!r}")
    from wirewatch.api.routes import app

    return ThreadingHTTPServer((host, port), _handler_class(app.resolve))


def serve(port: int = 3000, host: str = "127.0.0.1") -> None:
    """Serve the API over HTTP until interrupted (management routes need no authorizer here)."""
    os.environ["WIREWATCH_API_AUTH"] = "none"
    runtime.settings.cache_clear()  # settings are read once; this process now serves without an authorizer
    server = make_server(port, host)
    print(f"wirewatch API on http://{host}:{server.server_address[1]} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
