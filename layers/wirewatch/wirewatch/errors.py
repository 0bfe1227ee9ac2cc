"""Domain errors: one base, raised by adapters and use cases alike, translated in one place (CLI, API)."""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of every error wirewatch raises on purpose."""


class StoreError(WirewatchError, RuntimeError):
    """The store could not be read or written (the message says which store and why)."""


class ConflictError(StoreError):
    """A conditional write lost to a concurrent writer."""


class SecretError(WirewatchError):
    """A secret could not be read or written (the message names the secret, never the value)."""


class SecretNotFound(SecretError, KeyError):
    """No secret with this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"secret not found: {name}")
        self.name = name

    def __str__(self) -> str:
        # KeyError would repr() the message; keep it readable.
        return str(self.args[0])


class QueueError(WirewatchError, RuntimeError):
    """Poll messages could not be sent."""


class ValidationError(WirewatchError, ValueError):
    """A request is invalid; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownFeed(ValidationError):
    """A request names a feed the catalog does not have."""

    def __init__(self, feed_id: str) -> None:
        super().__init__("feed_ids", f"no feed {feed_id!r}")


class NotFound(WirewatchError, LookupError):
    """No such subscription."""


class NotActive(WirewatchError):
    """The subscription is pending or unsubscribed, so it gets nothing sent (the message says which)."""

    def __init__(self, sub_id: str, status: str) -> None:
        super().__init__(f"subscription {sub_id} is {status}; only active subscriptions get digests")
        self.status = status
