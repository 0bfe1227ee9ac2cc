"""Shared test doubles: one place for the fakes the unit and integration tests use."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock whose sleep advances time instantly and records every wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
