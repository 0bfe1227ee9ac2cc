"""SlackSender against the loopback Slack catcher: real HTTP on 127.0.0.1, instant retries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from loopback.slack_catcher import SlackCatcher, SlackResponse
from tests.support.fakes import FakeClock
from wirewatch.delivery.slack import SlackSender

pytestmark = pytest.mark.integration

HOOK = "/services/T0001/B0001/s3cr3tT0k3n"


@pytest.fixture()
def slack() -> Iterator[SlackCatcher]:
    with SlackCatcher() as catcher:
        yield catcher


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def sender(clock: FakeClock) -> Iterator[SlackSender]:
    with httpx.Client() as client:
        yield SlackSender(client, sleep=clock.sleep, allow_loopback=True)


def _blocks(count: int, text: str = "story") -> dict[str, object]:
    return {
        "text": "digest",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for _ in range(count)],
    }


def test_valid_payload_is_sent_and_recorded(slack: SlackCatcher, sender: SlackSender) -> None:
    payload = _blocks(3)

    result = sender.send(slack.url(HOOK), payload)

    assert (result.status, result.attempts, result.permanent) == ("sent", 1, False)
    assert slack.payloads(HOOK) == [payload]


def test_429_then_success_honours_retry_after(slack: SlackCatcher, sender: SlackSender, clock: FakeClock) -> None:
    slack.queue(HOOK, SlackResponse.rate_limited(retry_after=7))

    result = sender.send(slack.url(HOOK), {"text": "urgent"})

    assert (result.status, result.attempts) == ("sent", 2)
    assert clock.sleeps == [7.0]
    assert slack.count(HOOK) == 2 and slack.payloads(HOOK) == [{"text": "urgent"}]


def test_500_then_success_retries_with_backoff(slack: SlackCatcher, sender: SlackSender, clock: FakeClock) -> None:
    slack.queue(HOOK, SlackResponse.server_error(), SlackResponse.server_error())

    result = sender.send(slack.url(HOOK), {"text": "hi"})

    assert (result.status, result.attempts) == ("sent", 3)
    assert len(clock.sleeps) == 2 and all(0 < s <= 1.0 for s in clock.sleeps)


def test_persistent_500_is_left_for_a_later_retry(slack: SlackCatcher, sender: SlackSender) -> None:
    slack.always(HOOK, SlackResponse.server_error())

    result = sender.send(slack.url(HOOK), {"text": "hi"})

    assert (result.status, result.attempts, result.permanent) == ("retry", 4, False)
    assert "500" in result.detail and slack.count(HOOK) == 4


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (SlackResponse.invalid_payload(), "invalid_payload"),
        (SlackResponse.invalid_token(), "invalid_token"),
        (SlackResponse.channel_not_found(), "channel_not_found"),
        (SlackResponse.no_service(), "no_service"),
        (SlackResponse.archived(), "channel_is_archived"),
    ],
)
def test_permanent_failures_stop_at_once_with_slacks_reason(
    slack: SlackCatcher, sender: SlackSender, clock: FakeClock, response: SlackResponse, reason: str
) -> None:
    slack.queue(HOOK, response)

    result = sender.send(slack.url(HOOK), {"text": "hi"})

    assert (result.status, result.permanent, result.attempts) == ("failed", True, 1)
    assert result.detail == f"{reason} (http {response.status})"
    assert clock.sleeps == [] and slack.count(HOOK) == 1


def test_oversize_section_is_refused_as_invalid_payload(slack: SlackCatcher, sender: SlackSender) -> None:
    result = sender.send(slack.url(HOOK), _blocks(1, text="x" * 3001))

    assert (result.status, result.permanent) == ("failed", True)
    assert result.detail.startswith("invalid_payload")
    assert slack.payloads(HOOK) == []


def test_too_many_blocks_are_refused_as_invalid_payload(slack: SlackCatcher, sender: SlackSender) -> None:
    assert sender.send(slack.url(HOOK), _blocks(51)).detail.startswith("invalid_payload")
    assert sender.send(slack.url(HOOK), _blocks(50)).status == "sent"


def test_non_slack_url_is_refused_before_connecting(slack: SlackCatcher, clock: FakeClock) -> None:
    with httpx.Client() as client:
        strict = SlackSender(client, sleep=clock.sleep)  # allow_loopback not set

        result = strict.send(slack.url(HOOK), {"text": "hi"})

    assert (result.status, result.permanent, result.attempts) == ("failed", True, 0)
    assert "hooks.slack.com" in result.detail
    assert slack.count() == 0


def test_webhook_url_never_appears_in_results_or_logs(
    slack: SlackCatcher, sender: SlackSender, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.queue(HOOK, SlackResponse.server_error(), SlackResponse.rate_limited(1), SlackResponse.archived())
    caplog.set_level(logging.DEBUG)

    results = [sender.send(slack.url(HOOK), {"text": "hi"}), sender.send(slack.url(HOOK + "x"), {"text": ""})]
    with httpx.Client() as client:
        results.append(SlackSender(client).send("http://127.0.0.1:1/services/T/B/s3cr3tT0k3n", {"text": "x"}))

    out = capsys.readouterr()
    text = " ".join(r.detail for r in results) + caplog.text + out.out + out.err
    assert "s3cr3tT0k3n" not in text
    assert [r.status for r in results] == ["failed", "failed", "failed"]


def test_unreachable_loopback_port_is_a_retry_not_a_crash(clock: FakeClock) -> None:
    with SlackCatcher() as gone:
        url = gone.url(HOOK)
    with httpx.Client() as client:
        sender = SlackSender(client, sleep=clock.sleep, allow_loopback=True, max_attempts=2)

        result = sender.send(url, {"text": "hi"})

    assert (result.status, result.attempts) == ("retry", 2)
    assert result.detail == "transport error: ConnectError"


def test_catcher_refuses_payloads_slack_would_refuse(slack: SlackCatcher) -> None:
    bad = [b"not json", b"[]", b"{}", b'{"text": "  "}', b'{"blocks": [{"type": "section"}]}']
    with httpx.Client() as client:
        answers = [client.post(slack.url(HOOK), content=body) for body in bad]
        good = client.post(slack.url(HOOK), content=json.dumps({"text": "ok"}).encode())

    assert [(a.status_code, a.text) for a in answers] == [(400, "invalid_payload")] * len(bad)
    assert (good.status_code, good.text) == (200, "ok")
    assert slack.payloads(HOOK) == [{"text": "ok"}]
