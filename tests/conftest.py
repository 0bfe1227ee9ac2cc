"""Shared fixtures: a moto server over HTTP for the whole session, a fresh table per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws import moto_server, prepare_accounts
from wirewatch import runtime
from wirewatch.adapters.aws import clients as aws
from wirewatch.adapters.aws.dynamodb.schema import create_table


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a loopback port, shared by the session's integration tests."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture()
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Environment pointing wirewatch at moto, with a table of its own and loopback feeds allowed."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WIREWATCH_TABLE": f"wirewatch-test-{uuid.uuid4().hex[:8]}",
        "WIREWATCH_ALLOW_LOOPBACK": "1",
        "WIREWATCH_FETCH_TIMEOUT": "2",
        "WIREWATCH_CONNECT_TIMEOUT": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    runtime.reset()
    create_table(aws.client("dynamodb"), env["WIREWATCH_TABLE"])
    yield env
    runtime.reset()


@pytest.fixture()
def dynamodb(aws_env: dict[str, str]) -> Any:
    """The cached DynamoDB client the code under test uses."""
    return aws.client("dynamodb")


@pytest.fixture()
def delivery_env(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """aws_env plus what delivery needs: a verified SES sender, a link-signing key, a public URL."""
    prefix = f"/wirewatch-test-{uuid.uuid4().hex[:8]}"
    extra = {
        "WIREWATCH_SENDER": "alerts@wirewatch.example.com",
        "WIREWATCH_PUBLIC_URL": "https://wirewatch.example.com",
        "WIREWATCH_TOKEN_KEY_PARAMETER": f"{prefix}/token-key",
        "WIREWATCH_SLACK_SECRET_PREFIX": f"{prefix}/slack/",
        "WIREWATCH_SES_MAX_SEND_RATE": "50",
    }
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    prepare_accounts()
    return aws_env | extra
