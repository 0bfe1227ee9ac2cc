"""Composing what subscribers receive: rendered digests, alerts and confirmations with signed links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from wirewatch.digest.render import render_confirmation, render_email
from wirewatch.digest.slack_blocks import slack_alert_message, slack_digest_messages
from wirewatch.models import Story, Subscription
from wirewatch.tokens import sign_token
from wirewatch.usecases.delivery import ChannelMessages, EmailMessage, Message, SlackMessages

CONFIRM_TTL = timedelta(days=7)


class Composer:
    """Builds messages for subscriptions; links back to the API carry HMAC-signed tokens."""

    def __init__(self, *, token_key: bytes, public_url: str) -> None:
        self._key = token_key
        self._public_url = public_url.rstrip("/")

    def unsubscribe_url(self, sub: Subscription, now: datetime) -> str:
        """One-click unsubscribe link; it does not expire (old emails must keep working)."""
        return self._link("unsubscribe", sign_token(self._key, "unsubscribe", sub.id, now, None))

    def confirm_url(self, sub: Subscription, now: datetime) -> str:
        """Double opt-in link, valid for a week."""
        return self._link("confirm", sign_token(self._key, "confirm", sub.id, now, CONFIRM_TTL))

    def digest(
        self, sub: Subscription, stories: Sequence[Story], window: tuple[datetime, datetime], now: datetime
    ) -> Message:
        """The digest for a subscription's channel."""
        if sub.channel == "slack":
            return SlackMessages(slack_digest_messages(stories, window, now, sub.timezone))
        if sub.channel == "slack-app":
            return ChannelMessages(slack_digest_messages(stories, window, now, sub.timezone))
        if sub.channel == "webhook":
            from wirewatch.delivery.webhooks import digest_event

            return ChannelMessages([digest_event(stories, window[0], window[1], now)])
        unsubscribe = self.unsubscribe_url(sub, now)
        rendered = render_email(stories, sub, window, unsubscribe, now)
        return EmailMessage(rendered.subject, rendered.html, rendered.text, unsubscribe)

    def alert(self, sub: Subscription, story: Story, now: datetime) -> Message:
        """An urgent alert about one story."""
        if sub.channel == "slack":
            return SlackMessages([slack_alert_message(story, sub.timezone)])
        if sub.channel == "slack-app":
            return ChannelMessages([slack_alert_message(story, sub.timezone)])
        if sub.channel == "webhook":
            from wirewatch.delivery.webhooks import event, story_data

            return ChannelMessages([event("story.alert", {"story": story_data(story)}, now)])
        unsubscribe = self.unsubscribe_url(sub, now)
        rendered = render_email([story], sub, (story.first_seen, now), unsubscribe, now)
        return EmailMessage(rendered.subject, rendered.html, rendered.text, unsubscribe)

    def confirmation(self, sub: Subscription, now: datetime) -> EmailMessage:
        """The confirmation email of a new email subscription."""
        rendered = render_confirmation(sub, self.confirm_url(sub, now))
        return EmailMessage(rendered.subject, rendered.html, rendered.text, None)

    def _link(self, route: str, token: str) -> str:
        return f"{self._public_url}/{route}?token={quote(token, safe='')}"
