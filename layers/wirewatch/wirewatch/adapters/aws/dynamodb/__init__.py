"""DynamoDB persistence: the only package that talks to the table."""

from wirewatch.adapters.aws.dynamodb.feeds_items import FeedItemStore
from wirewatch.adapters.aws.dynamodb.pages import PageStore
from wirewatch.adapters.aws.dynamodb.runs import RunStore
from wirewatch.adapters.aws.dynamodb.stories import StoryStore
from wirewatch.adapters.aws.dynamodb.subscriptions import SubscriptionStore
from wirewatch.errors import ConflictError, StoreError


class Repository(FeedItemStore, StoryStore, SubscriptionStore, RunStore, PageStore):
    """Every record kind in the one table, through one client."""


__all__ = ["ConflictError", "Repository", "StoreError"]
