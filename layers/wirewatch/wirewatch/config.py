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
    story_window_hours: float = 72.0
    sender: str | None = None
    ses_configuration_set: str | None = None
    public_url: str | None = None
    token_key_parameter: str = "/wirewatch/token-key"
    slack_secret_prefix: str = "/wirewatch/slack/"
    send_empty_digests: bool = False
    ses_max_send_rate: float | None = None
    api_auth: str = "iam"

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
            story_window_hours=_read(env, "WIREWATCH_STORY_WINDOW_HOURS", _positive(float), 72.0),
            sender=env.get("WIREWATCH_SENDER") or None,
            ses_configuration_set=env.get("WIREWATCH_SES_CONFIGURATION_SET") or None,
            public_url=_read(env, "WIREWATCH_PUBLIC_URL", _https_url, None),
            token_key_parameter=env.get("WIREWATCH_TOKEN_KEY_PARAMETER") or "/wirewatch/token-key",
            slack_secret_prefix=env.get("WIREWATCH_SLACK_SECRET_PREFIX") or "/wirewatch/slack/",
            send_empty_digests=_read(env, "WIREWATCH_SEND_EMPTY_DIGESTS", _flag, False),
            ses_max_send_rate=_read(env, "WIREWATCH_SES_MAX_SEND_RATE", _positive(float), None),
            api_auth=_read(env, "WIREWATCH_API_AUTH", _choice("iam", "jwt", "none"), "iam"),
        )

    def require(self, name: str) -> str:
        """A setting that this code path needs; ConfigError naming its variable when unset."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(f"WIREWATCH_{name.upper()} is required here")
        return str(value)


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


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in allowed:
            raise ValueError(f"choose from {', '.join(allowed)}")
        return raw.lower()

    return parse


def _https_url(raw: str) -> str:
    # Plain http is accepted only on loopback, for local runs of the API.
    if not raw.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError("must be an https:// URL")
    return raw.rstrip("/")


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(raw: str) -> T:
        value = kind(raw)
        if value <= 0:  # type: ignore[operator]
            raise ValueError("must be greater than zero")
        return value

    return parse
