"""Feedback handler: SES bounce and complaint events (via SNS) → subscriptions marked failing or unsubscribed."""

from __future__ import annotations

from typing import Any

from wirewatch import runtime
from wirewatch.logs import logger
from wirewatch.metrics import count, metrics
from wirewatch.usecases.feedback import parse_ses_event

_METRIC = {"bounce": "EmailBounces", "complaint": "EmailComplaints"}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Apply each SNS record's SES event; a message that is not one is logged and dropped."""
    changed = 0
    for record in event.get("Records", []):
        try:
            feedback = parse_ses_event(record.get("Sns", {}).get("Message", ""))
        except ValueError as exc:
            logger.warning("not an SES event", extra={"error": str(exc)})
            continue
        if feedback is None:
            continue  # deliveries, transient bounces: nothing to do
        subscriptions = runtime.apply_email_feedback(feedback)
        count(_METRIC[feedback.kind])
        # Subscription ids only: the addresses are personal data and stay out of the logs.
        logger.info(
            "email feedback",
            extra={"kind": feedback.kind, "detail": feedback.detail, "subscriptions": [s.id for s in subscriptions]},
        )
        changed += len(subscriptions)
    return {"subscriptions_changed": changed}
