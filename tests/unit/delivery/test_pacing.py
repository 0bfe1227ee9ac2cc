"""The token bucket that paces SES sends."""

from __future__ import annotations

import itertools

import pytest

from tests.support.fakes import FakeClock
from wirewatch.delivery.pacing import TokenBucket


def test_first_acquire_is_immediate_then_spaced_by_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock, sleep=clock.sleep)
    times = []

    for _ in range(5):
        bucket.acquire()
        times.append(clock.now)

    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.25] * 4
    assert times[0] == 1000.0


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=2.0, clock=clock, sleep=clock.sleep)
    clock.advance(60)

    waits = [bucket.acquire() for _ in range(3)]

    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(1.0)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
