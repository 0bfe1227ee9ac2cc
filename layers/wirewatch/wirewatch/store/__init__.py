"""DynamoDB persistence (the only package that talks to the table)."""

from wirewatch.store.dynamodb import Repository, StoreError

__all__ = ["Repository", "StoreError"]
