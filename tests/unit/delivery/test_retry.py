"""The retry loop the SES and SMTP senders share."""

from __future__ import annotations

from collections.abc import Callable

from wirewatch.delivery.result import SendResult, SendStatus, retry_send


def _scripted(*statuses: SendStatus) -> tuple[Callable[[int], SendResult], list[int]]:
    """An attempt function answering with `statuses` in turn, and the attempt numbers it was called with."""
    calls: list[int] = []

    def attempt(number: int) -> SendResult:
        calls.append(number)
        status = statuses[number - 1]
        return SendResult(status, attempts=number, detail=f"{status} {number}")

    return attempt, calls


def test_retries_with_backoff_until_an_attempt_is_sent() -> None:
    attempt, calls = _scripted("retry", "retry", "sent")
    sleeps: list[float] = []

    result = retry_send(attempt, max_attempts=5, backoff_base=2.0, sleep=sleeps.append, name="test")

    assert result == SendResult("sent", attempts=3, detail="sent 3")
    assert calls == [1, 2, 3]
    assert len(sleeps) == 2 and 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0


def test_a_permanent_failure_is_not_retried() -> None:
    attempt, calls = _scripted("failed")
    sleeps: list[float] = []

    result = retry_send(attempt, max_attempts=3, backoff_base=1.0, sleep=sleeps.append, name="test")

    assert result.status == "failed" and calls == [1] and sleeps == []


def test_the_last_attempt_answer_is_returned_without_a_sleep_after_it() -> None:
    attempt, calls = _scripted("retry", "retry", "retry")
    sleeps: list[float] = []

    result = retry_send(attempt, max_attempts=3, backoff_base=1.0, sleep=sleeps.append, name="test")

    assert result == SendResult("retry", attempts=3, detail="retry 3")
    assert calls == [1, 2, 3] and len(sleeps) == 2
