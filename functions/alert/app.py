"""Alert handler: DynamoDB stream records of urgent stories → one alert per story per subscription."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from wirewatch import runtime
from wirewatch.logs import logger
from wirewatch.metrics import count, metrics

# Every failed record is reported for retry, even when all of them fail (sends are claimed in the ledger).
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


class AlertsPending(Exception):
    """Some sends of this story's alert are still pending: the record is retried."""


def alert_record(record: DynamoDBRecord) -> None:
    """Alert for one story record; the event source filter sends only story records, others are ignored."""
    story_id = (record.raw_event.get("dynamodb", {}).get("NewImage", {}).get("id") or {}).get("S")
    if not story_id:
        return
    report = runtime.run_alert(story_id, datetime.now(UTC))
    count("AlertsSent", report.sent)
    logger.info("alert done", extra=report.to_dict())
    if report.pending:
        raise AlertsPending(f"{len(report.pending)} sends pending for story {story_id}")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Alert for each story record; records with sends still pending are reported as batch item failures."""
    return dict(
        process_partial_response(event=event, record_handler=alert_record, processor=processor, context=context)
    )
