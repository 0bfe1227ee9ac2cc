"""The composition root: builds adapters from settings once per process, for handlers and the CLI."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from wirewatch import aws
from wirewatch.classify import classify
from wirewatch.config import ConfigError, Settings
from wirewatch.feeds.fetch import FetchLimits, FetchResult, fetch_all_sync
from wirewatch.models import Feed
from wirewatch.queue import SqsPollQueue
from wirewatch.store import Repository
from wirewatch.usecases import PollReport, poll


@functools.cache
def settings() -> Settings:
    """Settings from the process environment, validated once."""
    return Settings.from_env(os.environ)


@functools.cache
def repository() -> Repository:
    """The table repository."""
    return Repository(aws.client("dynamodb"), settings().table_name)


def poll_queue() -> SqsPollQueue:
    """The poll queue adapter (dispatch only)."""
    url = settings().poll_queue_url
    if not url:
        raise ConfigError("WIREWATCH_POLL_QUEUE_URL is required to dispatch polls")
    return SqsPollQueue(aws.client("sqs"), url)


def fetch_limits(config: Settings) -> FetchLimits:
    """Fetch limits from settings."""
    return FetchLimits(
        concurrency=config.concurrency,
        connect_timeout=config.connect_timeout,
        total_timeout=config.total_timeout,
        max_bytes=config.max_body_bytes,
        allow_loopback=config.allow_loopback,
    )


def fetcher(config: Settings) -> Callable[[Sequence[Feed]], list[FetchResult]]:
    """A fetch function bound to the configured limits."""
    limits = fetch_limits(config)

    def fetch(feeds: Sequence[Feed]) -> list[FetchResult]:
        return fetch_all_sync(feeds, limits)

    return fetch


def run_poll(feeds: Sequence[Feed], now: datetime | None = None) -> PollReport:
    """Poll these feeds with the process's adapters."""
    config = settings()
    return poll(
        feeds,
        store=repository(),
        fetch=fetcher(config),
        classify=classify,
        settings=config,
        now=now or datetime.now(UTC),
    )


def reset() -> None:
    """Forget cached settings and adapters (tests, local mode)."""
    settings.cache_clear()
    repository.cache_clear()
    aws.reset_clients()
