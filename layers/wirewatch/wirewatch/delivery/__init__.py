"""Delivery adapters: Amazon SES email and Slack incoming webhooks, with retries and pacing."""

from wirewatch.delivery.result import SendResult

__all__ = ["SendResult"]
