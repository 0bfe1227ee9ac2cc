"""Use cases: orchestration over small ports (no boto3 here)."""

from wirewatch.usecases.poll import (
    DispatchReport,
    FeedOutcome,
    FeedSelection,
    PollReport,
    Reclassification,
    build_items,
    dispatch,
    due_feeds,
    poll,
    reclassify,
    seed_feeds,
    select_feeds,
)

__all__ = [
    "DispatchReport",
    "FeedOutcome",
    "FeedSelection",
    "PollReport",
    "Reclassification",
    "build_items",
    "dispatch",
    "due_feeds",
    "poll",
    "reclassify",
    "seed_feeds",
    "select_feeds",
]
