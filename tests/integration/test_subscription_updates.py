"""Read-change-write of subscriptions against moto: a write that lands in between is redone over, not lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.subscriptions import subscribe_slack
from wirewatch import runtime
from wirewatch.errors import ConflictError
from wirewatch.models import Subscription
from wirewatch.usecases.subscriptions import unsubscribe

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


def active_slack_subscription() -> Subscription:
    return subscribe_slack("https://hooks.slack.com/services/T0/B0/abc", cadence="daily", now=NOW)


def test_a_digest_window_moved_during_an_edit_is_kept(delivery_env: dict[str, str]) -> None:
    repo = runtime.repository()
    sub = active_slack_subscription()
    moved_to = (NOW, NOW + timedelta(days=1, hours=1))
    reads: list[Subscription] = []

    def edit(current: Subscription) -> Subscription:
        reads.append(current)
        if len(reads) == 1:  # the digest run lands between this edit's read and its write
            assert repo.advance_digest(current, *moved_to)
        return replace(current, topics=("sanctions",))

    before, after = repo.update_subscription(sub.id, edit) or (None, None)
    stored = repo.get_subscription(sub.id)
    assert stored is not None and stored == after
    assert len(reads) == 2 and before == reads[1]
    assert stored.topics == ("sanctions",)
    assert (stored.last_digest_at, stored.next_digest_at) == moved_to


def test_an_edit_that_keeps_losing_gives_up_with_a_conflict(delivery_env: dict[str, str]) -> None:
    repo = runtime.repository()
    sub = active_slack_subscription()
    moves = iter(range(1, 100))

    def edit(current: Subscription) -> Subscription:
        hours = next(moves)
        assert repo.advance_digest(current, NOW, NOW + timedelta(hours=hours))
        return replace(current, topics=("missile",))

    with pytest.raises(ConflictError):
        repo.update_subscription(sub.id, edit)
    stored = repo.get_subscription(sub.id)
    assert stored is not None and stored.topics == sub.topics  # no edit was written over a moved window


def test_a_delivery_failure_does_not_revive_an_unsubscribed_subscription(delivery_env: dict[str, str]) -> None:
    repo = runtime.repository()
    sub = active_slack_subscription()
    unsubscribe(sub.id, store=repo, secret_store=runtime.secret_store())
    after = repo.set_status(sub.id, "failing", "slack delivery failed permanently: channel_not_found")
    assert after is not None and after.status == "unsubscribed"
    failing = active_slack_subscription()
    marked = repo.set_status(failing.id, "failing", "gone")
    assert marked is not None and (marked.status, marked.failure_reason) == ("failing", "gone")


def test_a_digest_run_does_not_move_the_window_of_a_subscription_that_left(delivery_env: dict[str, str]) -> None:
    repo = runtime.repository()
    sub = active_slack_subscription()
    unsubscribe(sub.id, store=repo, secret_store=runtime.secret_store())
    assert not repo.advance_digest(sub, NOW, NOW + timedelta(days=1))  # read while active, written after
    stored = repo.get_subscription(sub.id)
    assert stored is not None and (stored.status, stored.next_digest_at) == ("unsubscribed", None)


def test_editing_a_missing_subscription_changes_nothing(delivery_env: dict[str, str]) -> None:
    assert runtime.repository().update_subscription("sub-0000000000000000", lambda s: s) is None
