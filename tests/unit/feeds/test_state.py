"""next_feed_state: pure transitions after each kind of fetch result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.feeds.fetch import FetchResult
from wirewatch.feeds.state import BackoffPolicy, backoff_seconds, next_feed_state
from wirewatch.models import Feed

NOW = datetime(2025, 11, 5, 0, 0, tzinfo=UTC)
POLICY = BackoffPolicy(base_seconds=120, max_seconds=6 * 3600)
FEED = Feed(id="kyodo-en", url="https://english.kyodonews.net/rss/news.xml", name="Kyodo News")


def result(outcome: str, status: int | None = 200, **kwargs: object) -> FetchResult:
    return FetchResult(feed_id=FEED.id, outcome=outcome, status=status, url=FEED.url, **kwargs)  # type: ignore[arg-type]


def test_ok_records_success_and_new_validators() -> None:
    feed = next_feed_state(FEED, result("ok", etag='"v2"', last_modified="Wed, 05 Nov 2025 00:00:00 GMT"), NOW, POLICY)
    assert feed.etag == '"v2"'
    assert feed.last_modified == "Wed, 05 Nov 2025 00:00:00 GMT"
    assert (feed.last_success, feed.last_attempt, feed.next_attempt, feed.last_status) == (NOW, NOW, NOW, 200)
    assert feed.consecutive_failures == 0
    assert feed.last_error is None


def test_ok_after_failures_resets_the_backoff() -> None:
    failing = FEED.__class__(**{**FEED.__dict__, "consecutive_failures": 4, "last_error": "HTTP 500"})
    feed = next_feed_state(failing, result("ok"), NOW, POLICY)
    assert feed.consecutive_failures == 0
    assert feed.last_error is None
    assert feed.next_attempt == NOW


def test_ok_without_validators_forgets_the_old_ones() -> None:
    old = next_feed_state(FEED, result("ok", etag='"v1"', last_modified="x"), NOW, POLICY)
    feed = next_feed_state(old, result("ok"), NOW, POLICY)
    assert feed.etag is None
    assert feed.last_modified is None


def test_not_modified_keeps_old_validators_unless_new_ones_are_sent() -> None:
    old = next_feed_state(FEED, result("ok", etag='"v1"', last_modified="lm1"), NOW, POLICY)
    kept = next_feed_state(old, result("not_modified", status=304), NOW, POLICY)
    assert (kept.etag, kept.last_modified, kept.last_status) == ('"v1"', "lm1", 304)
    renewed = next_feed_state(old, result("not_modified", status=304, etag='"v2"'), NOW, POLICY)
    assert (renewed.etag, renewed.last_modified) == ('"v2"', "lm1")


def test_permanent_redirect_updates_the_url() -> None:
    feed = next_feed_state(FEED, result("ok", permanent_url="https://new.example.com/rss"), NOW, POLICY)
    assert feed.url == "https://new.example.com/rss"


def test_permanent_url_on_error_is_not_applied() -> None:
    feed = next_feed_state(FEED, result("error", status=500, permanent_url="https://x/", error="HTTP 500"), NOW, POLICY)
    assert feed.url == FEED.url


def test_gone_disables_with_a_reason() -> None:
    feed = next_feed_state(FEED, result("gone", status=410, error="HTTP 410 Gone"), NOW, POLICY)
    assert feed.enabled is False
    assert feed.disabled_reason == f"410 Gone from {FEED.url} at 2025-11-05T00:00:00+00:00"
    assert feed.last_status == 410


@pytest.mark.parametrize(
    ("failures_before", "delay"),
    [(0, 120), (1, 240), (2, 480), (5, 3840), (7, 15360), (8, 6 * 3600), (500, 6 * 3600)],
)
def test_error_backs_off_exponentially_and_caps(failures_before: int, delay: int) -> None:
    failing = FEED.__class__(**{**FEED.__dict__, "consecutive_failures": failures_before})
    feed = next_feed_state(failing, result("error", status=500, error="HTTP 500"), NOW, POLICY)
    assert feed.consecutive_failures == failures_before + 1
    assert feed.next_attempt == NOW + timedelta(seconds=delay)
    assert feed.last_error == "HTTP 500"
    assert feed.enabled is True


def test_retry_after_wins_when_longer_than_backoff() -> None:
    feed = next_feed_state(FEED, result("error", status=429, error="HTTP 429", retry_after=3600), NOW, POLICY)
    assert feed.next_attempt == NOW + timedelta(seconds=3600)


def test_backoff_wins_when_longer_than_retry_after() -> None:
    feed = next_feed_state(FEED, result("error", status=503, error="HTTP 503", retry_after=5), NOW, POLICY)
    assert feed.next_attempt == NOW + timedelta(seconds=120)


def test_hostile_retry_after_is_capped() -> None:
    feed = next_feed_state(FEED, result("error", status=429, error="HTTP 429", retry_after=10**9), NOW, POLICY)
    assert feed.next_attempt == NOW + timedelta(seconds=POLICY.max_seconds)


def test_error_without_status_keeps_validators_and_url() -> None:
    old = next_feed_state(FEED, result("ok", etag='"v1"'), NOW, POLICY)
    feed = next_feed_state(old, result("error", status=None, error="timed out after 20s"), NOW, POLICY)
    assert feed.etag == '"v1"'
    assert feed.last_status is None
    assert feed.last_error == "timed out after 20s"
    assert feed.last_success == NOW


def test_backoff_seconds() -> None:
    assert backoff_seconds(0, POLICY) == 0
    assert backoff_seconds(1, POLICY) == 120
    assert backoff_seconds(10**6, POLICY) == POLICY.max_seconds
