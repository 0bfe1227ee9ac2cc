"""Typed settings, read once from the environment; a bad value fails at start naming the variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

LOCAL_SENDER = "wirewatch@localhost"
# `wirewatch serve`'s default address: the link base of confirm and unsubscribe links in local mode.
LOCAL_PUBLIC_URL = "http://127.0.0.1:3000"


class ConfigError(ValueError):
    """A setting is missing or malformed."""


# The table an AWS endpoint of one's own (moto, DynamoDB Local) gets when WIREWATCH_TABLE is unset.
LOCAL_TABLE = "wirewatch-local"


@dataclass(frozen=True)
class Settings:
    table_name: str = LOCAL_TABLE
    store: str = "dynamodb"  # dynamodb | sqlite
    state_dir: str = ""  # sqlite: the directory holding the database, secrets and outbox
    aws_endpoint: str | None = None
    smtp_url: str | None = None
    poll_queue_url: str | None = None
    allow_loopback: bool = False
    concurrency: int = 32
    per_host_connections: int = 4
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
    # The Slack Web API the slack-app channel calls (a loopback stand-in only with allow_loopback).
    slack_api_url: str = "https://slack.com/api/"
    send_empty_digests: bool = False
    ses_max_send_rate: float | None = None
    api_auth: str = "iam"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables (WIREWATCH_*)."""
        table = env.get("WIREWATCH_TABLE", "").strip()
        endpoint = env.get("AWS_ENDPOINT_URL", "").strip() or None
        # No table and no endpoint of one's own: one machine, on the embedded store.
        store = _read(
            env, "WIREWATCH_STORE", _choice("sqlite", "dynamodb"), "dynamodb" if table or endpoint else "sqlite"
        )
        if store == "dynamodb" and not table and not endpoint:
            raise ConfigError("WIREWATCH_TABLE is required with WIREWATCH_STORE=dynamodb: the DynamoDB table name")
        local = store == "sqlite"
        defaults = cls()  # the field defaults above are the only place a default is written
        return cls(
            table_name=table or LOCAL_TABLE,
            store=store,
            state_dir=env.get("WIREWATCH_STATE_DIR", "").strip() or _default_state_dir(env),
            aws_endpoint=endpoint,
            smtp_url=_read(env, "WIREWATCH_SMTP_URL", _smtp_url, None, secret=True),
            poll_queue_url=env.get("WIREWATCH_POLL_QUEUE_URL") or None,
            allow_loopback=_read(env, "WIREWATCH_ALLOW_LOOPBACK", _flag, defaults.allow_loopback),
            concurrency=_read(env, "WIREWATCH_CONCURRENCY", _positive(int), defaults.concurrency),
            per_host_connections=_read(
                env, "WIREWATCH_PER_HOST_CONNECTIONS", _positive(int), defaults.per_host_connections
            ),
            connect_timeout=_read(env, "WIREWATCH_CONNECT_TIMEOUT", _positive(float), defaults.connect_timeout),
            total_timeout=_read(env, "WIREWATCH_FETCH_TIMEOUT", _positive(float), defaults.total_timeout),
            max_body_bytes=_read(env, "WIREWATCH_MAX_BODY_BYTES", _positive(int), defaults.max_body_bytes),
            first_run_max_age_hours=_read(
                env, "WIREWATCH_FIRST_RUN_MAX_AGE_HOURS", _positive(float), defaults.first_run_max_age_hours
            ),
            relevant_ttl_days=_read(env, "WIREWATCH_RELEVANT_TTL_DAYS", _positive(int), defaults.relevant_ttl_days),
            other_ttl_days=_read(env, "WIREWATCH_OTHER_TTL_DAYS", _positive(int), defaults.other_ttl_days),
            summary_max_chars=_read(env, "WIREWATCH_SUMMARY_MAX_CHARS", _positive(int), defaults.summary_max_chars),
            backoff_base_seconds=_read(
                env, "WIREWATCH_BACKOFF_BASE_SECONDS", _positive(float), defaults.backoff_base_seconds
            ),
            backoff_max_seconds=_read(
                env, "WIREWATCH_BACKOFF_MAX_SECONDS", _positive(float), defaults.backoff_max_seconds
            ),
            feeds_per_message=_read(env, "WIREWATCH_FEEDS_PER_MESSAGE", _positive(int), defaults.feeds_per_message),
            story_window_hours=_read(
                env, "WIREWATCH_STORY_WINDOW_HOURS", _positive(float), defaults.story_window_hours
            ),
            sender=env.get("WIREWATCH_SENDER") or (LOCAL_SENDER if local else None),
            ses_configuration_set=env.get("WIREWATCH_SES_CONFIGURATION_SET") or None,
            public_url=_read(env, "WIREWATCH_PUBLIC_URL", _https_url, LOCAL_PUBLIC_URL if local else None),
            token_key_parameter=env.get("WIREWATCH_TOKEN_KEY_PARAMETER") or defaults.token_key_parameter,
            slack_secret_prefix=env.get("WIREWATCH_SLACK_SECRET_PREFIX") or defaults.slack_secret_prefix,
            slack_api_url=env.get("WIREWATCH_SLACK_API_URL") or defaults.slack_api_url,
            send_empty_digests=_read(env, "WIREWATCH_SEND_EMPTY_DIGESTS", _flag, defaults.send_empty_digests),
            ses_max_send_rate=_read(env, "WIREWATCH_SES_MAX_SEND_RATE", _positive(float), None),
            api_auth=_read(env, "WIREWATCH_API_AUTH", _choice("iam", "jwt", "none"), defaults.api_auth),
        )

    def require(self, name: str) -> str:
        """A setting that this code path needs; ConfigError naming its variable when unset."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(f"WIREWATCH_{name.upper()} is required here")
        return str(value)


def _default_state_dir(env: Mapping[str, str]) -> str:
    # The per-user data directory (XDG_DATA_HOME aware).
    base = env.get("XDG_DATA_HOME") or f"{env.get('HOME') or '~'}/.local/share"
    return f"{base}/wirewatch"


def _smtp_url(raw: str) -> str:
    if not raw.startswith(("smtp://", "smtps://")):
        raise ValueError("must be smtp://[user[:password]@]host[:port] (STARTTLS) or smtps://... (TLS)")
    return raw


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T, *, secret: bool = False) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        # A value that may carry a password is never echoed.
        shown = "(value hidden)" if secret else repr(raw)
        raise ConfigError(f"{name}={shown} is not valid: {exc}") from None


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
