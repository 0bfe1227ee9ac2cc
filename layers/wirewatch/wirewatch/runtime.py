"""The composition root: builds adapters from settings once per process, for handlers and the CLI.

WIREWATCH_STORE picks the adapters: `dynamodb` (Lambda, or any AWS endpoint) builds the AWS ones,
`sqlite` (one machine) the local ones. Adapters are imported inside their factories: a handler never
loads the local adapters, the CLI on SQLite never loads botocore, and the poll path never loads
jinja2 or the senders (cold starts count).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wirewatch.config import ConfigError, Settings
from wirewatch.models import Feed, Subscription

if TYPE_CHECKING:
    from wirewatch.adapters.aws.dynamodb import Repository
    from wirewatch.adapters.aws.sqs import SqsPollQueue
    from wirewatch.adapters.aws.ssm import SecretStore
    from wirewatch.adapters.local.secrets import LocalSecretStore
    from wirewatch.adapters.local.sqlite import SqliteStore
    from wirewatch.delivery.slack import SlackSender
    from wirewatch.feeds.fetch import FetchLimits, FetchResult
    from wirewatch.usecases import FeedSelection, PollReport
    from wirewatch.usecases.alerts import AlertReport
    from wirewatch.usecases.delivery import EmailSender, Postman
    from wirewatch.usecases.digests import DigestPreview, DigestReport
    from wirewatch.usecases.feedback import EmailFeedback
    from wirewatch.usecases.feeds import FeedRequest
    from wirewatch.usecases.messages import Composer
    from wirewatch.usecases.subscriptions import SubscriptionRequest
    from wirewatch.usecases.threads import StoryThreads


@functools.cache
def settings() -> Settings:
    """Settings from the process environment, validated once."""
    return Settings.from_env(os.environ)


def is_local() -> bool:
    """True when this process runs on one machine's embedded store."""
    return settings().store == "sqlite"


def has_table_stream() -> bool:
    """True on a deployed stack, where the table's stream starts the alert function after a poll.

    The SQLite store and an endpoint of one's own (moto, DynamoDB Local) have no stream: there the
    command that polled sends the alerts itself.
    """
    config = settings()
    return config.store == "dynamodb" and not config.aws_endpoint


def state_dir() -> Path:
    """The local state directory (database, secrets, outbox)."""
    return Path(settings().state_dir).expanduser()


@functools.cache
def repository() -> Repository | SqliteStore:
    """The store: the DynamoDB table, or the state directory's SQLite file."""
    config = settings()
    if is_local():
        from wirewatch.adapters.local.statedir import open_store

        return open_store(state_dir())
    from wirewatch.adapters.aws import clients as aws
    from wirewatch.adapters.aws.dynamodb import Repository

    return Repository(aws.client("dynamodb"), config.table_name)


def ensure_table() -> None:
    """Create the table on an endpoint of one's own (DynamoDB Local starts empty; the CLI calls this)."""
    config = settings()
    if config.store == "dynamodb" and config.aws_endpoint:
        from wirewatch.adapters.aws import clients as aws
        from wirewatch.adapters.aws.dynamodb.schema import create_table

        create_table(aws.client("dynamodb"), config.table_name)


def poll_queue() -> SqsPollQueue:
    """The poll queue adapter (dispatch only)."""
    from wirewatch.adapters.aws import clients as aws
    from wirewatch.adapters.aws.sqs import SqsPollQueue

    url = settings().poll_queue_url
    if not url:
        raise ConfigError("WIREWATCH_POLL_QUEUE_URL is required to dispatch polls")
    return SqsPollQueue(aws.client("sqs"), url)


def fetch_limits(config: Settings) -> FetchLimits:
    """Fetch limits from settings."""
    from wirewatch.feeds.fetch import FetchLimits

    return FetchLimits(
        concurrency=config.concurrency,
        per_host=config.per_host_connections,
        connect_timeout=config.connect_timeout,
        total_timeout=config.total_timeout,
        max_bytes=config.max_body_bytes,
        allow_loopback=config.allow_loopback,
    )


def fetcher(config: Settings) -> Callable[[Sequence[Feed]], Iterator[FetchResult]]:
    """A fetch function bound to the configured limits, yielding results as they complete."""
    from wirewatch.feeds.fetch import fetch_each

    limits = fetch_limits(config)

    def fetch(feeds: Sequence[Feed]) -> Iterator[FetchResult]:
        return fetch_each(feeds, limits)

    return fetch


def run_poll(
    feeds: Sequence[Feed], now: datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> PollReport:
    """Poll these feeds with the process's adapters; progress(done, total) is told as each feed arrives."""
    from wirewatch.classify import classify, default_rules
    from wirewatch.usecases import poll

    config = settings()
    fetch = fetcher(config)
    if feeds:
        # Compiling the rules' regexes takes ~0.15 s of CPU; do it while the first responses are awaited.
        threading.Thread(target=default_rules, name="compile-rules", daemon=True).start()

    def counted(batch: Sequence[Feed]) -> Iterator[FetchResult]:
        results = fetch(batch)
        try:
            for done, result in enumerate(results, start=1):
                if progress:
                    progress(done, len(batch))
                yield result
        finally:
            close = getattr(results, "close", None)
            if close:
                close()  # a poll that stops early cancels the downloads still in flight

    return poll(
        feeds,
        store=repository(),
        fetch=counted if progress else fetch,
        classify=classify,
        settings=config,
        now=now or datetime.now(UTC),
    )


@functools.cache
def secret_store() -> SecretStore | LocalSecretStore:
    """Slack webhooks and the token key: SSM SecureString parameters (cached with a TTL), or the local secrets file."""
    if is_local():
        from wirewatch.adapters.local.statedir import secret_store as local_secrets

        return local_secrets(state_dir())
    from wirewatch.adapters.aws import clients as aws
    from wirewatch.adapters.aws.ssm import SecretStore

    return SecretStore(aws.client("ssm"))


def token_key() -> bytes:
    """The HMAC key that signs confirm and unsubscribe links (generated on first use on one machine)."""
    secrets, name = secret_store(), settings().token_key_parameter
    if is_local():
        from wirewatch.adapters.local.secrets import LocalSecretStore

        assert isinstance(secrets, LocalSecretStore)
        return secrets.get_or_create(name).encode()
    return secrets.get(name).encode()


def composer() -> Composer:
    """Message composer with signed links to the public API."""
    from wirewatch.usecases.messages import Composer

    return Composer(token_key=token_key(), public_url=settings().require("public_url"))


@functools.cache
def postman() -> Postman:
    """Ledger-backed sender for both channels; SES and Slack clients are built on first use."""
    from wirewatch.delivery.slack import SlackSender, webhook_client
    from wirewatch.logs import logger
    from wirewatch.metrics import count
    from wirewatch.usecases.delivery import Postman

    config = settings()

    @functools.cache
    def email() -> EmailSender:
        if is_local():
            from wirewatch.adapters.local.mail import local_email_sender

            return local_email_sender(state_dir(), config.smtp_url, config.require("sender"))
        from wirewatch.adapters.aws import clients as aws
        from wirewatch.adapters.aws.ses import SesSender

        return SesSender(
            aws.client("sesv2"),
            sender=config.require("sender"),
            configuration_set=config.ses_configuration_set,
            max_send_rate=config.ses_max_send_rate,
        )

    @functools.cache
    def slack() -> SlackSender:
        # Pinned to the checked address, no proxies: DNS cannot send a webhook post to loopback.
        client = webhook_client(allow_loopback=config.allow_loopback)
        return SlackSender(client, allow_loopback=config.allow_loopback)

    def delivery_failed(sub: Subscription, reason: str) -> None:
        count("DeliveryFailures")
        logger.warning("delivery failed", extra={"subscription": sub.id, "channel": sub.channel, "reason": reason})

    return Postman(
        repository(),
        email=email,
        slack=slack,
        webhook_url=lambda sub: secret_store().get(sub.target),
        on_failure=delivery_failed,
        channels=thread_channels(),
    )


@functools.cache
def thread_channels() -> dict[str, Callable[[], Any]]:
    """The slack-app and webhook channels, each built on first use (secrets read through the secret store).

    One set for digests and threads alike, so a channel's one-message-a-second pacing is shared.
    """
    from wirewatch.delivery.channels import slack_app_channel, webhook_channel

    config = settings()
    slack_app = functools.cache(
        lambda: slack_app_channel(
            lambda name: secret_store().get(name), base_url=config.slack_api_url, allow_loopback=config.allow_loopback
        )
    )
    webhook = functools.cache(
        lambda: webhook_channel(lambda name: secret_store().get(name), allow_loopback=config.allow_loopback)
    )
    return {"slack-app": slack_app, "webhook": webhook}


@functools.cache
def story_threads() -> StoryThreads:
    """Parents and threaded follow-ups for the slack-app and webhook channels, through the ledger."""
    from wirewatch.usecases.threads import StoryThreads

    return StoryThreads(repository(), thread_channels())


def reset() -> None:
    """Forget cached settings and adapters (tests, local mode)."""
    for cached in (settings, repository, secret_store, postman, story_threads, thread_channels):
        cached.cache_clear()
    if "wirewatch.adapters.aws.clients" in sys.modules:
        sys.modules["wirewatch.adapters.aws.clients"].reset_clients()


def run_alert(story_id: str, now: datetime) -> AlertReport:
    """Alert the subscriptions that want this story now (alert function, CLI after a local poll)."""
    from wirewatch.usecases.alerts import alert_story

    compose = composer()
    return alert_story(
        story_id,
        store=repository(),
        postman=postman(),
        compose=lambda sub, story: compose.alert(sub, story, now),
        now=now,
        threads=story_threads(),
    )


def run_pending_alerts(now: datetime) -> list[AlertReport]:
    """Alert the urgent stories not alerted yet (after a poll on one machine: there is no table stream)."""
    from wirewatch.usecases.alerts import alert_pending

    # The composer (jinja2, the link key) is built only when a story is actually pending.
    compose = functools.cache(composer)
    return alert_pending(
        store=repository(),
        postman=postman(),
        compose=lambda sub, story: compose().alert(sub, story, now),
        window=timedelta(hours=settings().story_window_hours),
        now=now,
        threads=story_threads(),
    )


def select_feeds(
    now: datetime,
    *,
    force: bool = False,
    feed_ids: Sequence[str] | None = None,
    listed: Sequence[Feed] | None = None,
) -> FeedSelection:
    """The feeds to poll now (see usecases.poll.select_feeds), seeding the bundled list into an empty catalog."""
    from wirewatch.feedlist import default_feeds
    from wirewatch.usecases import select_feeds as select

    return select(repository(), initial_feeds=default_feeds, now=now, force=force, feed_ids=feed_ids, listed=listed)


def add_feed(request: FeedRequest) -> tuple[Feed, bool]:
    """Add a feed after the id, language and SSRF checks (CLI, API); (feed, added)."""
    from wirewatch.feeds import ssrf
    from wirewatch.usecases.feeds import add_feed as add

    allow_loopback = settings().allow_loopback

    def check(url: str) -> object:
        # Resolved through the module attribute so a test can stand in for DNS.
        return ssrf.check_url(url, allow_loopback=allow_loopback, resolve=ssrf.resolve_host)

    return add(request, catalog=repository(), check_url=check)


def run_digests(now: datetime) -> DigestReport:
    """Send every digest that is due (digest function, CLI, API)."""
    from wirewatch.usecases.digests import run_due_digests

    return run_due_digests(
        store=repository(),
        postman=postman(),
        composer=composer(),
        send_empty=settings().send_empty_digests,
        now=now,
    )


def send_digest_now(sub_id: str, now: datetime) -> tuple[Subscription, str]:
    """Send one active subscription its digest now, moving its window (CLI, API)."""
    from wirewatch.usecases.digests import send_digest_now as send

    return send(sub_id, store=repository(), postman=postman(), composer=composer(), now=now)


def preview_digest(sub_id: str | None, now: datetime, since: datetime | None = None) -> DigestPreview:
    """The digest a subscription (None: every topic) would get now; nothing is sent (CLI, API)."""
    from wirewatch.usecases.digests import preview_digest as preview

    return preview(sub_id, store=repository(), composer=composer(), now=now, since=since)


def subscribe(request: SubscriptionRequest, now: datetime) -> Subscription:
    """Create a subscription with the process's adapters (CLI, API)."""
    from wirewatch.usecases.subscriptions import subscribe as create

    config = settings()
    return create(
        request,
        store=repository(),
        secret_store=secret_store(),
        postman=postman(),
        composer=composer(),
        slack_secret_prefix=config.slack_secret_prefix,
        allow_loopback_webhooks=config.allow_loopback,
        now=now,
    )


def apply_email_feedback(feedback: EmailFeedback) -> list[Subscription]:
    """Stop mail to addresses SES reports as bouncing for good or complaining (feedback function)."""
    from wirewatch.usecases.feedback import apply_feedback

    return apply_feedback(feedback, store=repository(), secret_store=secret_store())
