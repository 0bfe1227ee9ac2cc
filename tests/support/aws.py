"""Test helpers for AWS: a moto server over HTTP, handler loading, Lambda context, request counting."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tests.support.paths import REPO

SENDER = "wirewatch@example.com"
TOKEN_KEY_PARAMETER = "/wirewatch/token-key"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on a loopback port; yields its endpoint URL (tests and benchmarks only)."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; the emulator should be as quiet as the real thing.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def prepare_accounts() -> None:
    """What a deployed stack has and an empty moto lacks: a verified sender and a link-signing key."""
    from wirewatch.adapters.aws import clients

    clients.client("sesv2").create_email_identity(EmailIdentity=os.environ.get("WIREWATCH_SENDER", SENDER))
    ssm = clients.client("ssm")
    name = os.environ.get("WIREWATCH_TOKEN_KEY_PARAMETER", TOKEN_KEY_PARAMETER)
    try:
        ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(Name=name, Value=secrets.token_hex(32), Type="SecureString")


@dataclass
class FakeLambdaContext:
    function_name: str = "wirewatch-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:wirewatch-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_handler(function: str) -> ModuleType:
    """Import functions/<function>/app.py as its own module (every function's file is named app.py)."""
    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"wirewatch_fn_{function}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/."""
    return json.loads((REPO / "events" / name).read_text("utf-8"))


class RequestCounter:
    """Counts AWS API calls made through a client (botocore event hooks).

    `calls` counts by operation; `puts` counts PutItem by record kind (the pk prefix: ITEM, FEED, STORY).
    """

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.puts: Counter[str] = Counter()
        client.meta.events.register("before-parameter-build.*.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "PutItem":
            self.puts[params["Item"]["pk"]["S"].split("#", 1)[0]] += 1

    def reset(self) -> None:
        self.calls.clear()
