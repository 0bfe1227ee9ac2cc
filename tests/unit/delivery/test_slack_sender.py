"""SlackSender decisions with an in-memory transport (no network): URLs, Retry-After, transport errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tests.support.fakes import FakeClock
from wirewatch.delivery.slack import InvalidWebhookUrl, SlackSender, validate_webhook_url

HOOK = "https://hooks.slack.com/services/T0001/B0001/s3cr3tT0k3n"
PAYLOAD = {"text": "hello"}


def _sender(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **kwargs: object
) -> tuple[SlackSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    return SlackSender(client, sleep=clock.sleep, **kwargs), seen  # type: ignore[arg-type]


def _script(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com:443/services/T/B/x",
        "https://hooks.slack.com/workflows/T/A/1/x",
    ],
)
def test_slack_webhook_urls_are_accepted(url: str) -> None:
    validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com.evil.example/services/T/B/x",
        "https://evil.example/hooks.slack.com/services/T/B/x",
        "https://user:pw@hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com:8443/services/T/B/x",
        "https://hooks.slack.com/",
        "http://127.0.0.1:8080/services/T/B/x",
        "http://localhost:8080/hook",
        "ftp://hooks.slack.com/x",
        "not a url",
        "",
    ],
)
def test_other_urls_are_refused_without_quoting_them(url: str) -> None:
    with pytest.raises(InvalidWebhookUrl) as raised:
        validate_webhook_url(url)

    assert "/services/T/B/x" not in str(raised.value)


def test_loopback_is_accepted_only_when_allowed() -> None:
    validate_webhook_url("http://127.0.0.1:8080/services/T/B/x", allow_loopback=True)
    with pytest.raises(InvalidWebhookUrl):
        validate_webhook_url("http://127.0.0.2:8080/x", allow_loopback=True)
    with pytest.raises(InvalidWebhookUrl):
        validate_webhook_url("http://127.0.0.1/x", allow_loopback=True)


def test_refused_url_is_a_permanent_failure_without_a_request() -> None:
    clock = FakeClock()
    sender, seen = _sender(_script(), clock)

    result = sender.send("https://example.com/services/T/B/secret", PAYLOAD)

    assert (result.status, result.permanent, result.attempts) == ("failed", True, 0)
    assert "secret" not in result.detail
    assert seen == []


def test_retry_after_as_http_date_is_honoured() -> None:
    clock = FakeClock()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    sender, _ = _sender(_script(httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200)), clock)

    result = sender.send(HOOK, PAYLOAD)

    assert result.status == "sent"
    assert len(clock.sleeps) == 1 and 3.0 <= clock.sleeps[0] <= 5.0


def test_retry_after_beyond_the_cap_is_handed_back_to_the_caller() -> None:
    clock = FakeClock()
    sender, seen = _sender(_script(httpx.Response(429, headers={"Retry-After": "120"})), clock)

    result = sender.send(HOOK, PAYLOAD)

    assert (result.status, result.attempts, result.retry_after, result.permanent) == ("retry", 1, 120.0, False)
    assert clock.sleeps == [] and len(seen) == 1


def test_429_without_retry_after_backs_off() -> None:
    clock = FakeClock()
    sender, _ = _sender(_script(httpx.Response(429), httpx.Response(200, text="ok")), clock, backoff_base=0.5)

    result = sender.send(HOOK, PAYLOAD)

    assert result.status == "sent" and result.attempts == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5


def test_transport_errors_are_retried_then_left_for_later_without_the_url() -> None:
    clock = FakeClock()
    error = httpx.ConnectError(f"cannot connect to {HOOK}")
    sender, seen = _sender(_script(error, error, error), clock, max_attempts=3)

    result = sender.send(HOOK, PAYLOAD)

    assert (result.status, result.attempts, result.permanent) == ("retry", 3, False)
    assert result.detail == "transport error: ConnectError"
    assert len(seen) == 3 and len(clock.sleeps) == 2
    assert clock.sleeps[1] > clock.sleeps[0] / 2  # exponential: the second window is twice the first


def test_timeout_then_success_is_sent() -> None:
    clock = FakeClock()
    sender, _ = _sender(_script(httpx.ReadTimeout("slow"), httpx.Response(200, text="ok")), clock)

    assert sender.send(HOOK, PAYLOAD).status == "sent"


def test_error_body_echoing_the_webhook_is_scrubbed() -> None:
    clock = FakeClock()
    sender, _ = _sender(_script(httpx.Response(404, text=f"no_service for {HOOK}")), clock)

    result = sender.send(HOOK, PAYLOAD)

    assert result.permanent and "s3cr3tT0k3n" not in result.detail
    assert result.detail.startswith("no_service")


def test_posts_json_with_a_timeout() -> None:
    clock = FakeClock()
    sender, seen = _sender(_script(httpx.Response(200, text="ok")), clock)

    sender.send(HOOK, {"text": "a & b"})

    assert seen[0].headers["content-type"] == "application/json"
    assert seen[0].extensions["timeout"]["read"] == 10.0


def test_unexpected_redirect_is_permanent() -> None:
    clock = FakeClock()
    sender, seen = _sender(_script(httpx.Response(301, headers={"Location": "https://example.com/"})), clock)

    result = sender.send(HOOK, PAYLOAD)

    assert (result.status, result.permanent, result.detail) == ("failed", True, "http 301")
    assert len(seen) == 1


def test_last_429_hands_its_retry_after_to_the_caller() -> None:
    clock = FakeClock()
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    sender, _ = _sender(_script(limited, limited), clock, max_attempts=2)

    result = sender.send(HOOK, PAYLOAD)

    assert (result.status, result.attempts, result.retry_after) == ("retry", 2, 2.0)
    assert clock.sleeps == [2.0]
