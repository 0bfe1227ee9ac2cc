"""SecretStore against moto SSM over HTTP: SecureString round trip, TTL cache, missing parameters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.aws import RequestCounter
from tests.support.fakes import FakeClock
from wirewatch.adapters.aws import clients as aws
from wirewatch.adapters.aws.ssm import SecretError, SecretNotFound, SecretStore

pytestmark = pytest.mark.integration

WEBHOOK = "https://hooks.slack.com/services/T0001/B0001/s3cr3tT0k3n"


@pytest.fixture()
def ssm(aws_env: dict[str, str]) -> Any:
    return aws.client("ssm")


@pytest.fixture()
def name() -> str:
    return f"/wirewatch/test/slack/{uuid.uuid4().hex[:8]}"


def test_put_stores_a_secure_string_that_get_reads_back(ssm: Any, name: str) -> None:
    SecretStore(ssm).put(name, WEBHOOK)

    fresh = SecretStore(ssm)
    assert fresh.get(name) == WEBHOOK
    assert ssm.get_parameter(Name=name)["Parameter"]["Type"] == "SecureString"


def test_put_overwrites_an_existing_value(ssm: Any, name: str) -> None:
    store = SecretStore(ssm)
    store.put(name, "first")
    store.put(name, WEBHOOK)

    assert SecretStore(ssm).get(name) == WEBHOOK


def test_cached_value_is_served_without_calling_ssm(ssm: Any, name: str) -> None:
    ssm.put_parameter(Name=name, Value=WEBHOOK, Type="SecureString")
    clock = FakeClock()
    store = SecretStore(ssm, ttl_seconds=300, clock=clock)
    counter = RequestCounter(ssm)

    values = [store.get(name)]
    clock.advance(299)
    values.append(store.get(name))

    assert values == [WEBHOOK, WEBHOOK]
    assert counter.calls["GetParameter"] == 1


def test_value_is_refetched_after_the_ttl(ssm: Any, name: str) -> None:
    ssm.put_parameter(Name=name, Value="old", Type="SecureString")
    clock = FakeClock()
    store = SecretStore(ssm, ttl_seconds=300, clock=clock)
    counter = RequestCounter(ssm)
    assert store.get(name) == "old"
    ssm.put_parameter(Name=name, Value="new", Type="SecureString", Overwrite=True)

    clock.advance(300)

    assert store.get(name) == "new"
    assert counter.calls["GetParameter"] == 2


def test_missing_parameter_raises_secret_not_found_naming_it(ssm: Any, name: str) -> None:
    with pytest.raises(SecretNotFound) as raised:
        SecretStore(ssm).get(name)

    assert raised.value.name == name
    assert str(raised.value) == f"secret not found: {name}"
    assert isinstance(raised.value, SecretError)


def test_misses_are_not_cached(ssm: Any, name: str) -> None:
    store = SecretStore(ssm)
    with pytest.raises(SecretNotFound):
        store.get(name)
    ssm.put_parameter(Name=name, Value=WEBHOOK, Type="SecureString")

    assert store.get(name) == WEBHOOK


def test_delete_removes_the_secret_and_is_idempotent(ssm: Any, name: str) -> None:
    store = SecretStore(ssm)
    store.put(name, WEBHOOK)

    store.delete(name)
    store.delete(name)

    with pytest.raises(SecretNotFound):
        store.get(name)


def test_errors_never_carry_the_value(ssm: Any) -> None:
    store = SecretStore(ssm)

    with pytest.raises(SecretError) as raised:
        store.put("aws-reserved-prefix", WEBHOOK)

    assert "aws-reserved-prefix" in str(raised.value) and "ValidationException" in str(raised.value)
    assert WEBHOOK not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
