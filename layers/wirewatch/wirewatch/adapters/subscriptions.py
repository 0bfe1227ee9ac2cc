"""The subscription write rule both stores share: read, change, write only if status and digest window held.

The digest, delivery and unsubscribe paths each change those two fields on their own; a write that
finds them moved is redone over the fresh record, never written over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from wirewatch.errors import ConflictError
from wirewatch.models import Subscription

MAX_ATTEMPTS = 5


class SubscriptionChanges:
    """update_subscription, set_status and advance_digest over a store's read and conditional write."""

    def get_subscription(self, sub_id: str) -> Subscription | None:
        """One subscription, or None."""
        raise NotImplementedError

    def _write_if_unchanged(self, updated: Subscription, read: Subscription) -> bool:
        """Write updated unless the stored status or digest window differ from read's; True when written."""
        raise NotImplementedError

    def update_subscription(
        self, sub_id: str, change: Callable[[Subscription], Subscription]
    ) -> tuple[Subscription, Subscription] | None:
        """Read a subscription, change it and write it back, redoing the change on a lost race; (before, after)."""
        for _attempt in range(MAX_ATTEMPTS):
            current = self.get_subscription(sub_id)
            if current is None:
                return None
            updated = change(current)
            if updated == current or self._write_if_unchanged(updated, current):
                return current, updated
        raise ConflictError(f"subscription {sub_id} kept changing under {MAX_ATTEMPTS} attempts")

    def set_status(self, sub_id: str, status: str, reason: str | None = None) -> Subscription | None:
        """Change a subscription's status (and reason); None if absent. An unsubscribed one stays so."""

        def change(sub: Subscription) -> Subscription:
            return sub if sub.status == "unsubscribed" else replace(sub, status=status, failure_reason=reason)

        changed = self.update_subscription(sub_id, change)
        return changed[1] if changed else None

    def advance_digest(self, sub: Subscription, last_digest_at: datetime, next_digest_at: datetime) -> bool:
        """Move a subscription's digest window on, unless another run already did; True when moved."""
        if sub.status != "active":
            return False
        return self._write_if_unchanged(replace(sub, last_digest_at=last_digest_at, next_digest_at=next_digest_at), sub)
