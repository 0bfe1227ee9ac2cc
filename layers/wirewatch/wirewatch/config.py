"""Typed settings, read once from the environment; a bad value fails at start naming the variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    poll_queue_url: str | None = None
    allow_loopback: bool = False
    concurrency: int = 32
    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    max_body_bytes: int = 5_000_000
    first_run_max_age_hours: float = 24.0
    relevant_ttl_days: int = 365
    other_ttl_days: int = 14
    summary_max_chars: int = 500
    backoff_base_seconds: float = 120.0
    backoff_max_seconds: float = 6 * 3600.0
    feeds_per_message: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables (WIREWATCH_*)."""
        table = env.get("WIREWATCH_TABLE", "").strip()
        if not table:
            raise ConfigError("WIREWATCH_TABLE is required: the DynamoDB table name")
        return cls(
            table_name=table,
            poll_queue_url=env.get("WIREWATCH_POLL_QUEUE_URL") or None,
            allow_loopback=_read(env, "WIREWATCH_ALLOW_LOOPBACK", _flag, False),
            concurrency=_read(env, "WIREWATCH_CONCURRENCY", _positive(int), 32),
            connect_timeout=_read(env, "WIREWATCH_CONNECT_TIMEOUT", _positive(float), 5.0),
            total_timeout=_read(env, "WIREWATCH_FETCH_TIMEOUT", _positive(float), 20.0),
            max_body_bytes=_read(env, "WIREWATCH_MAX_BODY_BYTES", _positive(int), 5_000_000),
            first_run_max_age_hours=_read(env, "WIREWATCH_FIRST_RUN_MAX_AGE_HOURS", _positive(float), 24.0),
            relevant_ttl_days=_read(env, "WIREWATCH_RELEVANT_TTL_DAYS", _positive(int), 365),
            other_ttl_days=_read(env, "WIREWATCH_OTHER_TTL_DAYS", _positive(int), 14),
            summary_max_chars=_read(env, "WIREWATCH_SUMMARY_MAX_CHARS", _positive(int), 500),
            backoff_base_seconds=_read(env, "WIREWATCH_BACKOFF_BASE_SECONDS", _positive(float), 120.0),
            backoff_max_seconds=_read(env, "WIREWATCH_BACKOFF_MAX_SECONDS", _positive(float), 21600.0),
            feeds_per_message=_read(env, "WIREWATCH_FEEDS_PER_MESSAGE", _positive(int), 10),
        )


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from exc


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(raw: str) -> T:
        value = kind(raw)
        if value <= 0:  # type: ignore[operator]
            raise ValueError("must be greater than zero")
        return value

    return parse
