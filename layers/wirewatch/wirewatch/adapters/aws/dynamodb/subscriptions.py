"""Subscriptions and the delivery ledger.

  SUB#<id> / SUB                 gsi1 (active only, sparse): SUBS#<cadence> / <next digest at>#<id>
                                 gsi2 (all): SUBS / <created>#<id>
  SUB#<id> / DELIVERY#<key>      one per message sent (or being sent): status, attempts, provider id
Due digests are one Query per cadence: gsi1sk <= now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wirewatch.adapters.aws.dynamodb.schema import GSI1, GSI2
from wirewatch.adapters.aws.dynamodb.table import ConflictError, Table, iso, parse_dt
from wirewatch.adapters.subscriptions import SubscriptionChanges
from wirewatch.models import CADENCES, DEFAULT_PREFERENCES, DIGEST_CADENCES, PREFERENCE_FIELDS, Subscription

# New, or neither finished (sent / failed) nor held by a live lease.
_CLAIMABLE = "attribute_not_exists(pk) OR (#status <> :sent AND #status <> :failed AND lease_until < :now)"
__all__ = ["CADENCES", "DIGEST_CADENCES", "SubscriptionStore"]


def subscription_to_record(sub: Subscription) -> dict[str, Any]:
    """Table record of a subscription."""
    record: dict[str, Any] = {
        "pk": f"SUB#{sub.id}",
        "sk": "SUB",
        "gsi2pk": "SUBS",
        "gsi2sk": f"{iso(sub.created_at) or ''}#{sub.id}",
        "type": "subscription",
        "id": sub.id,
        "channel": sub.channel,
        "target": sub.target,
        # Tuples (topics, quiet hours) are stored as lists; an unset preference is left out.
        **{name: list(v) if isinstance(v := getattr(sub, name), tuple) else v for name in PREFERENCE_FIELDS},
        "status": sub.status,
        "failure_reason": sub.failure_reason,
        "last_digest_at": iso(sub.last_digest_at),
        "next_digest_at": iso(sub.next_digest_at),
        "created_at": iso(sub.created_at),
    }
    if sub.status == "active":
        record["gsi1pk"] = f"SUBS#{sub.cadence}"
        record["gsi1sk"] = f"{iso(sub.next_digest_at) or '0'}#{sub.id}"
    return record


def subscription_from_record(record: dict[str, Any]) -> Subscription:
    """Subscription from its table record."""
    preferences: dict[str, Any] = {}
    for name in PREFERENCE_FIELDS:
        value = record.get(name, getattr(DEFAULT_PREFERENCES, name))
        preferences[name] = tuple(value) if isinstance(value, list) else value
    return Subscription(
        id=record["id"],
        channel=record["channel"],
        target=record["target"],
        **preferences,
        status=record.get("status", "pending"),
        failure_reason=record.get("failure_reason"),
        last_digest_at=parse_dt(record.get("last_digest_at")),
        next_digest_at=parse_dt(record.get("next_digest_at")),
        created_at=parse_dt(record.get("created_at")),
    )


class SubscriptionStore(SubscriptionChanges, Table):
    """Subscriptions and their delivery ledger."""

    def save_subscription(self, sub: Subscription) -> None:
        """Write a subscription's whole record."""
        self._put(subscription_to_record(sub))

    def get_subscription(self, sub_id: str) -> Subscription | None:
        """One subscription, or None."""
        record = self._get(f"SUB#{sub_id}", "SUB")
        return subscription_from_record(record) if record else None

    def list_subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first (index query, no Scan)."""
        return [subscription_from_record(r) for r in self._query(GSI2, "SUBS")]

    def delete_subscription(self, sub_id: str) -> bool:
        """Delete a subscription record; True when it existed."""
        return self._delete(f"SUB#{sub_id}", "SUB")

    def due_subscriptions(self, cadence: str, now: datetime) -> list[Subscription]:
        """Active subscriptions of a digest cadence whose next digest is due at or before now."""
        bounds = ("0", f"{iso(now)}#~")
        return [subscription_from_record(r) for r in self._query(GSI1, f"SUBS#{cadence}", between=bounds)]

    def active_subscriptions(self) -> list[Subscription]:
        """Every active subscription (for urgent alerts), one Query per cadence."""
        return [subscription_from_record(r) for c in CADENCES for r in self._query(GSI1, f"SUBS#{c}")]

    def _write_if_unchanged(self, updated: Subscription, read: Subscription) -> bool:
        try:
            self._replace(updated, read)
        except ConflictError:
            return False
        return True

    def _replace(self, updated: Subscription, read: Subscription) -> None:
        """Write updated over the record read, unless its status or digest window moved since (ConflictError)."""
        window = iso(read.next_digest_at)
        self._put(
            subscription_to_record(updated),
            "#s = :status AND " + ("next_digest_at = :window" if window else "attribute_not_exists(next_digest_at)"),
            {":status": read.status} | ({":window": window} if window else {}),
            names={"#s": "status"},
        )

    # delivery ledger

    def claim_delivery(self, sub_id: str, key: str, channel: str, now: datetime, lease: timedelta) -> bool:
        """Claim the right to send one message; False when it was sent or another run holds the lease.

        A claim whose lease ran out (its sender died mid-send) can be taken over: the message may then
        go out twice, the only way a duplicate can happen, and only after a crash.
        """
        try:
            self._update(
                f"SUB#{sub_id}",
                f"DELIVERY#{key}",
                {"status": "sending", "channel": channel, "lease_until": iso(now + lease), "updated_at": iso(now)},
                condition=_CLAIMABLE,
                condition_values={":sent": "sent", ":failed": "failed", ":now": iso(now)},
                add={"attempts": 1},
            )
        except ConflictError:
            return False
        return True

    def record_delivery(
        self, sub_id: str, key: str, *, status: str, attempts: int, detail: str, provider_id: str | None, now: datetime
    ) -> None:
        """Record how a claimed send ended: sent, failed (permanent) or retry (lease released)."""
        self._update(
            f"SUB#{sub_id}",
            f"DELIVERY#{key}",
            {
                "status": status,
                "send_attempts": attempts,
                "detail": detail,
                "provider_id": provider_id,
                "updated_at": iso(now),
                "lease_until": iso(now) if status == "retry" else None,
            },
            condition="attribute_exists(pk)",
        )

    def deliveries(self, sub_id: str) -> list[dict[str, Any]]:
        """The ledger of one subscription, newest first."""
        return [
            {k: v for k, v in r.items() if k not in ("pk", "sk")} | {"key": r["sk"].removeprefix("DELIVERY#")}
            for r in self._query_partition(f"SUB#{sub_id}", "DELIVERY#", newest_first=True)
        ]
