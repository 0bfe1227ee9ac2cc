"""DynamoDB persistence: the only package that talks to the table."""

from wirewatch.store.feeds_items import FeedItemStore
from wirewatch.store.pages import PageStore
from wirewatch.store.runs import RunStore
from wirewatch.store.stories import StoryStore
from wirewatch.store.subscriptions import SubscriptionStore
from wirewatch.store.table import ConflictError, StoreError


class Repository(FeedItemStore, StoryStore, SubscriptionStore, RunStore, PageStore):
    """Every record kind in the one table, through one client."""


__all__ = ["ConflictError", "Repository", "StoreError"]
