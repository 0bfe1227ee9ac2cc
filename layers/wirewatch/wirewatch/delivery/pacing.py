"""A token bucket that blocks until a send is allowed (injectable clock and sleep for tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` acquisitions per second with at most `burst` back to back."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds waited."""
        with self._lock:
            self._refill()
            waited = 0.0
            # A loop, not one sleep: a sleep may return a little early.
            while self._tokens < 1 - 1e-9:
                wait = (1 - self._tokens) / self.rate
                self._sleep(wait)
                waited += wait
                self._refill()
            self._tokens -= 1
            return waited

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
