"""SES feedback: stop mailing addresses that bounce for good, and people who report us as spam.

SES publishes bounce and complaint events of our configuration set to an SNS topic; the feedback
function hands each message here. Mailing on regardless would hurt the account's sending reputation
(SES reviews, then pauses, accounts with high bounce or complaint rates) and so everyone's digests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

from wirewatch.models import Subscription
from wirewatch.usecases.subscriptions import SecretPort, SubscriptionStorePort, unsubscribe

_STILL_MAILED = ("pending", "active", "failing")


@dataclass(frozen=True)
class EmailFeedback:
    """What SES told us about some recipients of one message."""

    kind: Literal["bounce", "complaint"]
    addresses: tuple[str, ...]  # lower-cased
    detail: str


class FeedbackStore(SubscriptionStorePort, Protocol):
    def list_subscriptions(self) -> list[Subscription]: ...
    def set_status(self, sub_id: str, status: str, reason: str | None = None) -> Subscription | None: ...


def parse_ses_event(message: str) -> EmailFeedback | None:
    """The feedback in an SES event (event publishing's "eventType" or a notification's "notificationType").

    None for what needs no action: deliveries, sends, transient and undetermined bounces (SES retries
    those itself). ValueError when the message is not an SES event at all.
    """
    try:
        data = json.loads(message)
    except ValueError as exc:
        raise ValueError("SES feedback message is not JSON") from exc
    kind = (data.get("eventType") or data.get("notificationType")) if isinstance(data, dict) else None
    if not isinstance(kind, str):
        raise ValueError("not an SES event: no eventType or notificationType")
    if kind == "Bounce":
        bounce = data.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None
        recipients = bounce.get("bouncedRecipients")
        detail = f"permanent bounce ({bounce.get('bounceSubType') or 'General'})"
    elif kind == "Complaint":
        complaint = data.get("complaint") or {}
        recipients = complaint.get("complainedRecipients")
        detail = f"complaint ({complaint.get('complaintFeedbackType') or 'unspecified'})"
    else:
        return None
    addresses = tuple(
        dict.fromkeys(
            r["emailAddress"].strip().lower()
            for r in recipients or ()
            if isinstance(r, dict) and isinstance(r.get("emailAddress"), str) and r["emailAddress"].strip()
        )
    )
    if not addresses:
        raise ValueError(f"SES {kind.lower()} event names no recipient")
    return EmailFeedback("bounce" if kind == "Bounce" else "complaint", addresses, detail)


def apply_feedback(feedback: EmailFeedback, *, store: FeedbackStore, secret_store: SecretPort) -> list[Subscription]:
    """Stop mail to the addresses: a permanent bounce marks their email subscriptions failing, a
    complaint unsubscribes them. Returns the subscriptions changed; replaying an event changes nothing.

    Subscriptions are found with the one index query that lists them all (no index by address:
    bounces are rare and subscribers few).
    """
    changed = []
    for sub in store.list_subscriptions():
        if sub.channel != "email" or sub.target.strip().lower() not in feedback.addresses:
            continue
        if sub.status not in _STILL_MAILED or (feedback.kind == "bounce" and sub.status == "failing"):
            continue
        if feedback.kind == "complaint":
            changed.append(unsubscribe(sub.id, store=store, secret_store=secret_store))
        elif updated := store.set_status(sub.id, "failing", f"email {feedback.detail}"):
            changed.append(updated)
    return changed
