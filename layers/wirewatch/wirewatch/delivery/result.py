"""What one send attempt sequence ended in, and the backoff and retry loop shared by the senders."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from wirewatch.logs import logger

SendStatus = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class SendResult:
    """Outcome of a send: `sent`, `retry` (transient, try again later) or `failed`.

    `permanent` marks failures that retrying cannot fix (a deleted channel, a rejected message);
    `detail` is safe to store and show (never a webhook URL, never a message body).
    `retry_after` is the provider's requested wait in seconds when it asked for one.
    `sender_side` marks permanent failures of our own sending setup (a paused account, an unverified
    domain): the operator fixes those, so they must not mark the subscriber's subscription failing.
    """

    status: SendStatus
    attempts: int
    detail: str
    provider_id: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    sender_side: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "sent"


def backoff_delay(attempt: int, base: float, cap: float = 30.0) -> float:
    """Exponential backoff with jitter before retry number `attempt` (1-based): in [d/2, d]."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def retry_send(
    attempt: Callable[[int], SendResult],
    *,
    max_attempts: int,
    backoff_base: float,
    sleep: Callable[[float], None],
    name: str,
    context: Mapping[str, object] | None = None,
) -> SendResult:
    """Call `attempt(1)`, `attempt(2)` ... with backoff between, until one is not `retry` or the last was made."""
    for number in range(1, max_attempts):
        result = attempt(number)
        if result.status != "retry":
            return result
        wait = backoff_delay(number, backoff_base)
        extra = {**(context or {}), "attempt": number, "wait": round(wait, 3), "why": result.detail}
        logger.info(f"{name} send retry", extra=extra)
        sleep(wait)
    return attempt(max_attempts)
