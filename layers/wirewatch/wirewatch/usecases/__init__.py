"""Use cases: orchestration over small ports (no boto3 here)."""

from wirewatch.usecases.poll import (
    DispatchReport,
    FeedOutcome,
    PollReport,
    Reclassification,
    build_items,
    dispatch,
    due_feeds,
    poll,
    reclassify,
    seed_feeds,
)

__all__ = [
    "DispatchReport",
    "FeedOutcome",
    "PollReport",
    "Reclassification",
    "build_items",
    "dispatch",
    "due_feeds",
    "poll",
    "reclassify",
    "seed_feeds",
]
