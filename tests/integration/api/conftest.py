"""The API handler driven with API Gateway HTTP API events, against moto (tables, SSM, SES, SQS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopback.feed_server import FeedServer
from tests.support.api import Api
from wirewatch import runtime


@pytest.fixture()
def api_env(delivery_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """moto with a verified sender and a link-signing key; IAM auth required; no poll queue (local runs)."""
    monkeypatch.delenv("WIREWATCH_API_AUTH", raising=False)
    monkeypatch.delenv("WIREWATCH_POLL_QUEUE_URL", raising=False)
    runtime.reset()
    return delivery_env


@pytest.fixture()
def api(api_env: dict[str, str]) -> Api:
    return Api()


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
