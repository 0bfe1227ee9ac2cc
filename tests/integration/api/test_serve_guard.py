"""`wirewatch serve` refuses what a browser sends on another site's behalf, and bad framing, with JSON errors."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wirewatch import runtime
from wirewatch.api.serve import MAX_BODY_BYTES, ServeHostError, make_server, serve

pytestmark = pytest.mark.integration

SUBSCRIBE = json.dumps({"channel": "slack", "target": "http://127.0.0.1:9/services/T/B/x"}).encode()


def _run(server: Any) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """serve on the local SQLite store in a fresh state directory."""
    for name in ("WIREWATCH_TABLE", "AWS_ENDPOINT_URL", "WIREWATCH_AWS_ENDPOINT", "WIREWATCH_POLL_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WIREWATCH_STORE", "sqlite")
    monkeypatch.setenv("WIREWATCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("WIREWATCH_API_AUTH", "none")
    monkeypatch.setenv("WIREWATCH_ALLOW_LOOPBACK", "1")
    runtime.reset()
    yield from _run(make_server(port=0))
    runtime.reset()


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], Any]:
    """Send request bytes as they are and read one response (JSON bodies decoded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
    if headers.get("content-type", "").startswith("application/json"):
        return response.status, headers, json.loads(body)
    return response.status, headers, body


def request(
    port: int, method: str, path: str, body: bytes = b"", host: str | None = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Connection: close"]
    if body and "Content-Length" not in headers:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def subscriptions(port: int) -> list[Any]:
    status, _, body = request(port, "GET", "/subscriptions")
    assert status == 200
    return list(body["subscriptions"])


def error_code(answer: tuple[int, dict[str, str], Any]) -> tuple[int, str]:
    status, headers, body = answer
    assert headers["content-type"].startswith("application/json")
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return status, body["error"]["code"]


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:3000", "10.0.0.1", "127.0.0.1.nip.io"])
def test_a_host_that_is_not_loopback_is_refused(port: int, host: str) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name, which is the Host it sends.
    assert error_code(request(port, "GET", "/feeds", host=host)) == (403, "forbidden_host")
    assert (
        error_code(request(port, "POST", "/subscriptions", SUBSCRIBE, host=host, Content_Type="application/json"))[0]
        == 403
    )
    assert subscriptions(port) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}"])
def test_loopback_hosts_are_served(port: int, host: str) -> None:
    assert request(port, "GET", "/health", host=host.format(port=port))[0] == 200


def test_a_missing_host_is_a_bad_request(port: int) -> None:
    answer = raw(port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert error_code(answer) == (400, "bad_host")


@pytest.mark.parametrize(
    "origin", ["http://attacker.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"]
)
def test_a_foreign_origin_is_refused(port: int, origin: str) -> None:
    answer = request(
        port, "POST", "/subscriptions", SUBSCRIBE, Origin=origin.format(port=port), Content_Type="application/json"
    )
    assert error_code(answer) == (403, "forbidden_origin")
    assert subscriptions(port) == []


def test_our_own_origin_is_accepted(port: int) -> None:
    answer = request(
        port, "POST", "/subscriptions", SUBSCRIBE, Origin=f"http://127.0.0.1:{port}", Content_Type="application/json"
    )
    assert answer[0] == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
def test_a_body_that_is_not_json_is_refused(port: int, content_type: str) -> None:
    # text/plain and form posts are what a cross-site page can send without a CORS preflight.
    headers = {"Content_Type": content_type} if content_type else {}
    answer = request(port, "POST", "/subscriptions", SUBSCRIBE, **headers)
    assert error_code(answer) == (415, "unsupported_media_type")
    assert subscriptions(port) == []


def test_the_one_click_route_still_takes_its_form(port: int) -> None:
    status, headers, _ = request(
        port,
        "POST",
        "/unsubscribe?token=forged",
        b"List-Unsubscribe=One-Click",
        Content_Type="application/x-www-form-urlencoded",
    )
    assert status == 400 and headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content_Length": "abc"}, (400, "bad_content_length")),
        ({"Content_Length": "-1"}, (400, "bad_content_length")),
        ({"Content_Length": "١٢"}, (400, "bad_content_length")),
        ({"Transfer_Encoding": "chunked"}, (411, "length_required")),
        ({"Content_Length": str(MAX_BODY_BYTES + 1)}, (413, "too_large")),
    ],
)
def test_bad_framing_gets_a_clear_json_4xx(port: int, headers: dict[str, str], expected: tuple[int, str]) -> None:
    answer = request(port, "POST", "/subscriptions", b"", Content_Type="application/json", **headers)
    assert error_code(answer) == expected
    assert answer[1]["connection"] == "close"


def test_serve_refuses_a_public_address_with_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        serve(port=0, host="0.0.0.0")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "only listens on loopback" in err and "Traceback" not in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_make_server_refuses_anything_but_loopback(host: str) -> None:
    with pytest.raises(ServeHostError, match="loopback"):
        make_server(port=0, host=host)


def test_serve_listens_on_ipv6_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = make_server(port=0, host="::1")
    except ServeHostError as exc:
        pytest.skip(f"::1 is not configured here: {exc}")
    monkeypatch.setenv("WIREWATCH_API_AUTH", "none")
    for port in _run(server):
        with socket.create_connection(("::1", port), timeout=5) as sock:
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: [::1]:{port}\r\nConnection: close\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.1 200")


def test_serve_reopens_the_store_when_the_state_dir_is_deleted(port: int, tmp_path: Path) -> None:
    # Given a running server that has used its store
    assert request(port, "POST", "/subscriptions", SUBSCRIBE, Content_Type="application/json")[0] == 201
    # When the state directory is deleted under it
    shutil.rmtree(tmp_path / "state")
    # Then the next request is answered from a reopened (empty) store, which is usable
    assert subscriptions(port) == []
    assert request(port, "POST", "/subscriptions", SUBSCRIBE, Content_Type="application/json")[0] == 201
    assert len(subscriptions(port)) == 1
    assert (tmp_path / "state" / "wirewatch.db").exists()


def test_serve_answers_503_not_500_while_the_db_file_is_corrupt_then_recovers(port: int, tmp_path: Path) -> None:
    assert subscriptions(port) == []
    db = tmp_path / "state" / "wirewatch.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    corrupt.replace(db)
    answer = request(port, "GET", "/subscriptions")
    assert error_code(answer) == (503, "unavailable")
    assert error_code(request(port, "GET", "/subscriptions")) == (503, "unavailable")
    db.unlink()
    assert subscriptions(port) == []
    with sqlite3.connect(db) as check:
        assert check.execute("pragma integrity_check").fetchone() == ("ok",)
