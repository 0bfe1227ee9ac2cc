"""Poll handler: an SQS batch of feed ids (or a direct invocation) → the poll use case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wirewatch import runtime
from wirewatch.adapters.aws.sqs import parse_poll_message
from wirewatch.logs import logger
from wirewatch.metrics import metrics, record_poll
from wirewatch.usecases.runs import record_batches


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Poll the feeds named by the SQS records (reporting partial batch failures) or by the event."""
    repo = runtime.repository()
    if "Records" not in event:
        ids = event.get("feed_ids")
        feeds = repo.get_feeds(ids) if ids else repo.list_feeds()
        report = runtime.run_poll([f for f in feeds if f.enabled])
        record_poll(report)
        return report.to_dict()

    failures, wanted, run_batches = [], [], []
    for record in event["Records"]:
        try:
            message = parse_poll_message(record["body"])
        except ValueError as exc:
            logger.warning("bad poll message", extra={"message_id": record["messageId"], "error": str(exc)})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        wanted.extend(message.feed_ids)
        if message.run_batch:
            run_batches.append((*message.run_batch, message.feed_ids))
    feeds = [f for f in repo.get_feeds(wanted) if f.enabled]
    # A store failure raises: the whole batch is retried, which is safe because every write is idempotent.
    now = datetime.now(UTC)
    report = runtime.run_poll(feeds, now=now)
    record_batches(repo, run_batches, report, now)  # runs started by POST /poll: each batch counted once
    record_poll(report)
    return {"batchItemFailures": failures}
