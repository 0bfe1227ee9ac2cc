"""Settings fail fast, naming the variable."""

from __future__ import annotations

import pytest

from wirewatch.config import ConfigError, Settings


def test_defaults_apply_when_only_the_table_is_set() -> None:
    settings = Settings.from_env({"WIREWATCH_TABLE": "t"})
    assert (settings.concurrency, settings.max_body_bytes, settings.allow_loopback) == (32, 5_000_000, False)
    assert (settings.relevant_ttl_days, settings.other_ttl_days, settings.first_run_max_age_hours) == (
        365,
        14,
        24.0,
    )


def test_missing_table_is_named_when_dynamodb_is_asked_for() -> None:
    with pytest.raises(ConfigError, match="WIREWATCH_TABLE"):
        Settings.from_env({"WIREWATCH_STORE": "dynamodb"})


def test_no_table_and_no_endpoint_means_the_embedded_store_with_local_defaults() -> None:
    settings = Settings.from_env({"HOME": "/home/analyst"})
    assert settings.store == "sqlite"
    assert settings.state_dir == "/home/analyst/.local/share/wirewatch"
    assert settings.public_url == "http://127.0.0.1:3000"
    assert settings.sender == "wirewatch@localhost"


def test_a_table_or_an_endpoint_means_dynamodb() -> None:
    assert Settings.from_env({"WIREWATCH_TABLE": "t"}).store == "dynamodb"
    endpoint = Settings.from_env({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert (endpoint.store, endpoint.table_name) == ("dynamodb", "wirewatch-local")
    assert Settings.from_env({"WIREWATCH_TABLE": "t", "WIREWATCH_STORE": "sqlite"}).store == "sqlite"


def test_a_bad_smtp_url_is_refused_without_echoing_its_password() -> None:
    with pytest.raises(ConfigError, match="WIREWATCH_SMTP_URL") as raised:
        Settings.from_env({"WIREWATCH_SMTP_URL": "http://user:hunter2@mail.example"})
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WIREWATCH_CONCURRENCY", "lots"),
        ("WIREWATCH_CONCURRENCY", "0"),
        ("WIREWATCH_ALLOW_LOOPBACK", "maybe"),
    ],
)
def test_malformed_values_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"WIREWATCH_TABLE": "t", name: value})


def test_loopback_is_allowed_only_explicitly() -> None:
    assert Settings.from_env({"WIREWATCH_TABLE": "t", "WIREWATCH_ALLOW_LOOPBACK": "1"}).allow_loopback
