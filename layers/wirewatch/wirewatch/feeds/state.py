"""Pure feed-state transitions after a fetch: validators, redirects, 410, retry and backoff."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wirewatch.models import Feed

if TYPE_CHECKING:
    from wirewatch.feeds.fetch import FetchResult


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff per feed: base * 2**(failures-1), capped; Retry-After is capped the same."""

    base_seconds: float = 120
    max_seconds: float = 6 * 3600


def backoff_seconds(failures: int, policy: BackoffPolicy) -> float:
    """Delay before the next attempt after `failures` consecutive failures."""
    if failures <= 0:
        return 0.0
    # Cap the exponent first so a feed failing for months cannot overflow the float.
    return float(min(policy.base_seconds * 2.0 ** min(failures - 1, 62), policy.max_seconds))


def next_feed_state(feed: Feed, result: FetchResult, now: datetime, policy: BackoffPolicy) -> Feed:
    """The feed record after one fetch result (no I/O)."""
    if result.outcome in ("ok", "not_modified"):
        keep = result.outcome == "not_modified"
        return replace(
            feed,
            url=result.permanent_url or feed.url,
            etag=result.etag or (feed.etag if keep else None),
            last_modified=result.last_modified or (feed.last_modified if keep else None),
            last_success=now,
            last_attempt=now,
            last_status=result.status,
            last_error=None,
            consecutive_failures=0,
            next_attempt=now,
        )
    if result.outcome == "gone":
        reason = f"410 Gone from {result.url} at {now.isoformat(timespec='seconds')}"
        return replace(
            feed,
            enabled=False,
            disabled_reason=reason,
            last_attempt=now,
            last_status=result.status,
            last_error=reason,
            next_attempt=None,
        )
    failures = feed.consecutive_failures + 1
    # A hostile Retry-After must not park a feed forever: it is capped like the backoff.
    retry_after = min(result.retry_after or 0.0, policy.max_seconds)
    delay = max(retry_after, backoff_seconds(failures, policy))
    return replace(
        feed,
        last_attempt=now,
        last_status=result.status,
        last_error=result.error or "unknown error",
        consecutive_failures=failures,
        next_attempt=now + timedelta(seconds=delay),
    )
