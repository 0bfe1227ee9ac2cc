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


def test_missing_table_is_named() -> None:
    with pytest.raises(ConfigError, match="WIREWATCH_TABLE"):
        Settings.from_env({})


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
