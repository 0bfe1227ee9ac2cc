"""Alert handler: DynamoDB stream records of urgent stories → one alert per story per subscription."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wirewatch import runtime
from wirewatch.logs import logger
from wirewatch.metrics import count, metrics


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Alert for each story record; records with sends still pending are reported for retry."""
    now = datetime.now(UTC)
    failures = []
    for record in event.get("Records", []):
        image = record.get("dynamodb", {}).get("NewImage", {})
        story_id = image.get("id", {}).get("S")
        if not story_id:
            continue  # the event source filter sends only story records; anything else is ignored
        report = runtime.run_alert(story_id, now)
        count("AlertsSent", report.sent)
        logger.info("alert done", extra=report.to_dict())
        if report.pending:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
