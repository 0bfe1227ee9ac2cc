"""How SesSender builds its sesv2 request, with an in-memory client (no network)."""

from __future__ import annotations

import email
import email.policy
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.fakes import FakeClock
from wirewatch.adapters.aws.ses import SesSender

UNSUBSCRIBE = "https://api.wirewatch.example/unsubscribe?t=abc"


class FakeSes:
    """Records send_email calls; its API model says whether Simple content has Headers."""

    def __init__(self, *, headers_supported: bool = True, rate: float = 10.0) -> None:
        members = {"Subject": 0, "Body": 0, **({"Headers": 0} if headers_supported else {})}
        shapes = {"Message": SimpleNamespace(members=members)}
        self.meta = SimpleNamespace(service_model=SimpleNamespace(shape_for=shapes.__getitem__))
        self.requests: list[dict[str, Any]] = []
        self.rate = rate

    def get_account(self) -> dict[str, Any]:
        return {"SendQuota": {"MaxSendRate": self.rate}}

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"MessageId": f"m{len(self.requests)}"}


def _send(client: FakeSes, **kwargs: Any) -> Any:
    clock = FakeClock()
    sender = SesSender(client, sender="Wirewatch <digest@wirewatch.example>", sleep=clock.sleep, clock=clock)
    args = {"unsubscribe_url": UNSUBSCRIBE, "idempotency_key": "sub-1:2025-03-01T08"} | kwargs
    return sender.send_email("a@example.org", "Subject", "<p>h</p>", "t", **args)


def test_old_botocore_without_simple_headers_falls_back_to_raw_mime() -> None:
    client = FakeSes(headers_supported=False)

    result = _send(client)

    assert result.provider_id == "m1"
    raw = client.requests[0]["Content"]["Raw"]["Data"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"] == "Wirewatch <digest@wirewatch.example>"


def test_current_botocore_uses_simple_content_with_headers() -> None:
    client = FakeSes()

    _send(client)

    content = client.requests[0]["Content"]
    assert list(content) == ["Simple"]
    assert {h["Name"] for h in content["Simple"]["Headers"]} == {"List-Unsubscribe", "List-Unsubscribe-Post"}


def test_idempotency_key_becomes_a_valid_email_tag() -> None:
    client = FakeSes()

    _send(client)

    assert client.requests[0]["EmailTags"] == [{"Name": "wirewatch-key", "Value": "sub-1_2025-03-01T08"}]


@pytest.mark.parametrize("to", ["", "a@example.org\r\nBcc: b@example.org"])
def test_recipient_must_be_one_line(to: str) -> None:
    sender = SesSender(FakeSes(), sender="d@wirewatch.example", max_send_rate=1)

    with pytest.raises(ValueError):
        sender.send_email(to, "s", "h", "t", unsubscribe_url=None, idempotency_key="k")


def test_explicit_send_rate_skips_the_account_lookup() -> None:
    client = FakeSes(rate=99)

    sender = SesSender(client, sender="d@wirewatch.example", max_send_rate=3)

    assert sender.send_rate == 3
