"""The threading channels (slack-app, webhook) built over the secret store: their senders and targets."""

from __future__ import annotations

from collections.abc import Callable

from wirewatch.delivery.slack import webhook_client
from wirewatch.delivery.slack_app import SLACK_API, SlackAppSender, SlackAppTarget, SlackAppThread
from wirewatch.delivery.webhooks import WebhookPoster, WebhookTarget, WebhookThread
from wirewatch.models import Subscription


def slack_app_channel(
    secret: Callable[[str], str], *, base_url: str = SLACK_API, allow_loopback: bool = False
) -> SlackAppThread:
    """slack-app: the channel id and bot token come from the secret named by the subscription's target."""
    # The bot token goes wherever base_url points: slack.com, or a loopback stand-in in tests and the demo.
    if base_url != SLACK_API and not (allow_loopback and base_url.startswith("http://127.0.0.1:")):
        raise ValueError(
            "WIREWATCH_SLACK_API_URL must be https://slack.com/api/ (or loopback with WIREWATCH_ALLOW_LOOPBACK=1)"
        )
    return SlackAppThread(SlackAppSender(base_url=base_url), lambda sub: SlackAppTarget.from_secret(secret(sub.target)))


def webhook_channel(secret: Callable[[str], str], *, allow_loopback: bool) -> WebhookThread:
    """webhook: the URL and signing secret come from the secret named by the subscription's target."""
    poster = WebhookPoster(webhook_client(allow_loopback=allow_loopback), allow_loopback=allow_loopback)

    def target(sub: Subscription) -> WebhookTarget:
        return WebhookTarget.from_secret(secret(sub.target))

    return WebhookThread(poster, target)
