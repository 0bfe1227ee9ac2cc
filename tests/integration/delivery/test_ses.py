"""SesSender against the moto server over HTTP: sent messages are read back from moto's state."""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.support.fakes import FakeClock
from wirewatch.adapters.aws import clients as aws
from wirewatch.adapters.aws.ses import DEFAULT_SEND_RATE, SesSender

pytestmark = pytest.mark.integration

UNSUBSCRIBE = "https://api.wirewatch.example/unsubscribe?token=unsubscribe.c3ViLTE.-.AAAA"
HTML = "<html><body><h1>DPRK launches ICBM</h1><p>Kyodo &amp; Reuters</p></body></html>"
TEXT = "DPRK launches ICBM\nKyodo & Reuters\n"


class Canned:
    """Short-circuits the next calls of one operation with canned answers, then lets calls through to moto."""

    def __init__(self, client: Any, operation: str) -> None:
        self._answers: list[tuple[int, dict[str, Any]]] = []
        self.calls = 0
        self._client = client
        self._event = f"before-call.sesv2.{operation}"
        self._id = f"canned-{uuid.uuid4().hex}"
        client.meta.events.register(self._event, self._answer, unique_id=self._id)

    def then(self, status: int, parsed: dict[str, Any]) -> Canned:
        self._answers.append((status, parsed))
        return self

    def error(self, status: int, code: str) -> Canned:
        return self.then(status, {"Error": {"Code": code, "Message": f"canned {code}"}, "ResponseMetadata": {}})

    def close(self) -> None:
        self._client.meta.events.unregister(self._event, unique_id=self._id)

    def _answer(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.calls += 1
        if not self._answers:
            return None
        status, parsed = self._answers.pop(0)
        parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = status
        return AWSResponse("https://canned.invalid", status, {}, None), parsed


class WireLog:
    """The SendEmail request bodies as they went over HTTP to moto, with the fake clock's time."""

    def __init__(self, client: Any, clock: FakeClock | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._client, self._clock = client, clock
        self._id = f"wire-{uuid.uuid4().hex}"
        client.meta.events.register("before-send.sesv2.SendEmail", self._record, unique_id=self._id)

    def close(self) -> None:
        self._client.meta.events.unregister("before-send.sesv2.SendEmail", unique_id=self._id)

    def _record(self, request: Any, **_: Any) -> None:
        self.bodies.append(json.loads(request.body))
        if self._clock is not None:
            self.times.append(self._clock())


@pytest.fixture()
def ses(aws_env: dict[str, str]) -> Any:
    return aws.client("sesv2")


@pytest.fixture()
def sender_address(ses: Any) -> str:
    """A verified sender identity of its own (moto's state lives for the whole session)."""
    address = f"digest-{uuid.uuid4().hex[:8]}@wirewatch.example"
    ses.create_email_identity(EmailIdentity=address)
    return address


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def wire(ses: Any) -> Iterator[WireLog]:
    log = WireLog(ses)
    yield log
    log.close()


@pytest.fixture()
def quota(ses: Any) -> Iterator[Canned]:
    """moto has no sesv2 GetAccount: answer it with a send rate of 14/s unless a test says otherwise."""
    canned = Canned(ses, "GetAccount")
    yield canned
    canned.close()


def _sent(endpoint: str, message_id: str) -> dict[str, Any]:
    """The message moto's SES backend recorded under message_id (moto-api state dump)."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:
        state = json.load(response)
    for kind in ("RawMessage", "Message"):
        for message in state["ses"][kind]:
            if message["id"] == message_id:
                return {"kind": kind, **message}
    raise AssertionError(f"moto has no sent message {message_id}")


def _quota(canned: Canned, rate: float) -> None:
    canned.then(200, {"SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": rate, "SentLast24Hours": 0.0}})


def test_simple_send_carries_one_click_unsubscribe_headers(
    aws_env: dict[str, str], ses: Any, sender_address: str, wire: WireLog, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 14)
    sender = SesSender(ses, sender=sender_address, configuration_set="wirewatch", sleep=clock.sleep, clock=clock)

    result = sender.send_email(
        "analyst@example.org", "DPRK digest", HTML, TEXT, unsubscribe_url=UNSUBSCRIBE, idempotency_key="SUB#1#w1"
    )

    assert (result.status, result.attempts, result.permanent) == ("sent", 1, False)
    assert result.provider_id
    stored = _sent(aws_env["AWS_ENDPOINT_URL"], result.provider_id)
    assert stored["source"] == sender_address
    assert stored["destinations"] == {"ToAddresses": ["analyst@example.org"]}
    assert (stored["subject"], stored["body"]) == ("DPRK digest", HTML)
    [request] = wire.bodies
    simple = request["Content"]["Simple"]
    assert simple["Body"]["Text"]["Data"] == TEXT
    assert simple["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": f"<{UNSUBSCRIBE}>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]
    assert request["ConfigurationSetName"] == "wirewatch"
    assert request["EmailTags"] == [{"Name": "wirewatch-key", "Value": "SUB_1_w1"}]


def test_raw_mime_send_is_read_back_with_its_headers_and_both_parts(
    aws_env: dict[str, str], ses: Any, sender_address: str, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 14)
    sender = SesSender(ses, sender=sender_address, raw_mime=True, sleep=clock.sleep, clock=clock)

    result = sender.send_email(
        "analyst@example.org",
        "DPRK digest:\r\nBcc: evil@example.com",
        HTML,
        TEXT,
        unsubscribe_url=UNSUBSCRIBE,
        idempotency_key="k1",
    )

    assert result.status == "sent" and result.provider_id
    stored = _sent(aws_env["AWS_ENDPOINT_URL"], result.provider_id)
    assert stored["kind"] == "RawMessage"
    message = email.message_from_string(stored["raw_data"], policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "DPRK digest: Bcc: evil@example.com"
    assert message["Bcc"] is None
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # SMTP wire format: CRLF line ends.
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().strip() == HTML


def test_confirmation_email_without_unsubscribe_has_no_list_headers(
    ses: Any, sender_address: str, wire: WireLog, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 14)
    sender = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock)

    result = sender.send_email("a@example.org", "Confirm", HTML, TEXT, unsubscribe_url=None, idempotency_key="c1")

    assert result.status == "sent"
    assert "Headers" not in wire.bodies[0]["Content"]["Simple"]
    assert "ConfigurationSetName" not in wire.bodies[0]


def test_unverified_sender_is_a_permanent_failure_with_the_code_only(ses: Any, quota: Canned, clock: FakeClock) -> None:
    _quota(quota, 14)
    sender = SesSender(ses, sender="nobody-verified@elsewhere.example", sleep=clock.sleep, clock=clock)

    result = sender.send_email("a@example.org", "s", HTML, TEXT, unsubscribe_url=UNSUBSCRIBE, idempotency_key="k")

    assert (result.status, result.permanent, result.attempts) == ("failed", True, 1)
    assert result.detail == "MessageRejected"
    assert clock.sleeps == []


def test_throttling_is_retried_with_backoff_then_sent(
    aws_env: dict[str, str], ses: Any, sender_address: str, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 14)
    sends = Canned(ses, "SendEmail").error(429, "TooManyRequestsException").error(400, "Throttling")
    try:
        sender = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock)

        result = sender.send_email("a@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key="k")
    finally:
        sends.close()

    assert (result.status, result.attempts) == ("sent", 3)
    assert result.provider_id and _sent(aws_env["AWS_ENDPOINT_URL"], result.provider_id)
    backoffs = [s for s in clock.sleeps if s > 1 / 14]
    assert len(backoffs) == 2 and backoffs[1] > backoffs[0] / 2


def test_persistent_throttling_is_left_for_a_later_retry(
    ses: Any, sender_address: str, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 14)
    sends = Canned(ses, "SendEmail")
    for _ in range(3):
        sends.error(400, "LimitExceededException")
    try:
        sender = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock, max_attempts=3)

        result = sender.send_email("a@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key="k")
    finally:
        sends.close()

    assert (result.status, result.attempts, result.permanent) == ("retry", 3, False)
    assert result.detail == "LimitExceededException" and sends.calls == 3


@pytest.mark.parametrize("code", ["AccountSuspendedException", "MailFromDomainNotVerifiedException"])
def test_sender_side_rejections_are_permanent(
    ses: Any, sender_address: str, quota: Canned, clock: FakeClock, code: str
) -> None:
    _quota(quota, 14)
    sends = Canned(ses, "SendEmail").error(400, code)
    try:
        result = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock).send_email(
            "a@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key="k"
        )
    finally:
        sends.close()

    assert (result.status, result.permanent, result.detail) == ("failed", True, code)


def test_sends_are_paced_to_the_accounts_max_send_rate(
    ses: Any, sender_address: str, quota: Canned, clock: FakeClock
) -> None:
    _quota(quota, 2)
    wire = WireLog(ses, clock)
    try:
        sender = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock)
        results = [
            sender.send_email(f"r{i}@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key=f"k{i}")
            for i in range(5)
        ]
    finally:
        wire.close()

    assert [r.status for r in results] == ["sent"] * 5
    assert sender.send_rate == 2
    assert quota.calls == 1  # the quota is read once
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(wire.times)]
    assert gaps == [0.5] * 4


def test_unreadable_quota_falls_back_to_the_sandbox_rate(
    ses: Any, sender_address: str, quota: Canned, clock: FakeClock
) -> None:
    quota.error(403, "AccessDeniedException")
    sender = SesSender(ses, sender=sender_address, sleep=clock.sleep, clock=clock)

    first = sender.send_email("a@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key="k1")
    second = sender.send_email("b@example.org", "s", HTML, TEXT, unsubscribe_url=None, idempotency_key="k2")

    assert (first.status, second.status) == ("sent", "sent")
    assert sender.send_rate == DEFAULT_SEND_RATE
    assert clock.sleeps == [pytest.approx(1 / DEFAULT_SEND_RATE)]


@pytest.mark.parametrize(
    "url", ["http://api.wirewatch.example/u", "https://a.example/u>, <mailto:x@example.com", "https://a b"]
)
def test_unsubscribe_url_must_be_a_plain_https_url(ses: Any, sender_address: str, url: str) -> None:
    sender = SesSender(ses, sender=sender_address, max_send_rate=10)

    with pytest.raises(ValueError):
        sender.send_email("a@example.org", "s", HTML, TEXT, unsubscribe_url=url, idempotency_key="k")
