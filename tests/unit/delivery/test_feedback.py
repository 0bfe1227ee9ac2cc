"""Reading SES bounce and complaint events (pure)."""

from __future__ import annotations

import json

import pytest

from tests.support.aws import load_event
from wirewatch.usecases.feedback import EmailFeedback, parse_ses_event


def ses_messages() -> list[str]:
    return [record["Sns"]["Message"] for record in load_event("ses_feedback_sns.json")["Records"]]


def test_sample_event_carries_a_permanent_bounce_and_a_complaint() -> None:
    bounce, complaint = (parse_ses_event(m) for m in ses_messages())
    assert bounce == EmailFeedback("bounce", ("analyst@example.org",), "permanent bounce (General)")
    assert complaint == EmailFeedback("complaint", ("desk@example.org",), "complaint (abuse)")


def test_notification_form_is_read_too_and_addresses_are_folded() -> None:
    message = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "NoEmail",
            "bouncedRecipients": [{"emailAddress": " Desk@Example.org "}, {"emailAddress": "desk@example.org"}],
        },
    }
    feedback = parse_ses_event(json.dumps(message))
    assert feedback == EmailFeedback("bounce", ("desk@example.org",), "permanent bounce (NoEmail)")


@pytest.mark.parametrize(
    "message",
    [
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "a@b.c"}]},
        },
        {"eventType": "Bounce", "bounce": {"bounceType": "Undetermined"}},
        {"eventType": "Delivery", "delivery": {"recipients": ["a@b.c"]}},
        {"eventType": "Send"},
    ],
)
def test_events_that_need_no_action(message: dict[str, object]) -> None:
    assert parse_ses_event(json.dumps(message)) is None


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[]",
        json.dumps({"hello": "world"}),
        json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": []}}),
        json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"x": 1}]}}),
    ],
)
def test_what_is_not_an_ses_event_is_refused(message: str) -> None:
    with pytest.raises(ValueError):
        parse_ses_event(message)
