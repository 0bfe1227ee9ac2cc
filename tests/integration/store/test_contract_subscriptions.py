"""Store contract, subscriptions (conditional on status and digest window) and the delivery ledger (leased claims)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.store.conftest import NOW
from tests.unit.digest.builders import subscription
from wirewatch.errors import ConflictError
from wirewatch.models import Subscription

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=5)


def sub(sub_id: str, **changes: Any) -> Subscription:
    fields: dict[str, Any] = {"id": sub_id, "created_at": NOW - timedelta(days=1)} | changes
    return subscription(**fields)


# records


def test_given_a_subscription_when_saved_then_every_field_reads_back(store: Any) -> None:
    full = sub(
        "s-1",
        channel="slack",
        target="desk-secret",
        topics=("sanctions",),
        min_severity="high",
        cadence="hourly",
        quiet_hours=("22:00", "07:00"),
        urgent_in_quiet_hours=False,
        failure_reason=None,
        last_digest_at=NOW - timedelta(hours=1),
        next_digest_at=NOW,
    )
    store.save_subscription(full)
    assert store.get_subscription("s-1") == full
    assert store.get_subscription("missing") is None


def test_given_a_saved_subscription_when_saved_again_then_the_whole_record_is_replaced(store: Any) -> None:
    store.save_subscription(sub("s-1", status="pending"))
    replaced = sub("s-1", status="active", topics=("missile",), next_digest_at=NOW)
    store.save_subscription(replaced)
    assert store.get_subscription("s-1") == replaced


def test_given_subscriptions_created_at_different_times_when_listed_then_oldest_come_first(store: Any) -> None:
    store.save_subscription(sub("s-new", created_at=NOW))
    store.save_subscription(sub("s-old", created_at=NOW - timedelta(days=9)))
    store.save_subscription(sub("s-mid", created_at=NOW - timedelta(days=2)))
    assert [s.id for s in store.list_subscriptions()] == ["s-old", "s-mid", "s-new"]


def test_given_a_subscription_when_deleted_then_it_is_gone_everywhere(store: Any) -> None:
    store.save_subscription(sub("s-1", next_digest_at=NOW - timedelta(hours=1)))
    assert store.delete_subscription("s-1")
    assert not store.delete_subscription("s-1")
    assert store.get_subscription("s-1") is None
    assert store.list_subscriptions() == [] and store.active_subscriptions() == []
    assert store.due_subscriptions("daily", NOW) == []


# digest schedule


def test_given_subscriptions_of_every_kind_when_due_ones_are_asked_then_only_active_due_ones_of_that_cadence(
    store: Any,
) -> None:
    due_early = sub("s-early", next_digest_at=NOW - timedelta(hours=5))
    due_now = sub("s-now", next_digest_at=NOW)
    never_sent = sub("s-none", next_digest_at=None)
    for record in (
        due_now,
        due_early,
        never_sent,
        sub("s-later", next_digest_at=NOW + timedelta(seconds=1)),
        sub("s-hourly", cadence="hourly", next_digest_at=NOW - timedelta(hours=1)),
        sub("s-pending", status="pending", next_digest_at=NOW - timedelta(hours=1)),
        sub("s-failing", status="failing", next_digest_at=NOW - timedelta(hours=1)),
        sub("s-gone", status="unsubscribed", next_digest_at=NOW - timedelta(hours=1)),
    ):
        store.save_subscription(record)
    assert store.due_subscriptions("daily", NOW) == [never_sent, due_early, due_now]
    assert [s.id for s in store.due_subscriptions("hourly", NOW)] == ["s-hourly"]


def test_given_active_and_inactive_subscriptions_when_active_ones_are_asked_then_every_cadence_comes(
    store: Any,
) -> None:
    store.save_subscription(sub("s-daily", next_digest_at=NOW))
    store.save_subscription(sub("s-hourly", cadence="hourly", next_digest_at=NOW))
    store.save_subscription(sub("s-now", cadence="immediate"))
    store.save_subscription(sub("s-pending", status="pending"))
    store.save_subscription(sub("s-gone", status="unsubscribed"))
    assert [s.id for s in store.active_subscriptions()] == ["s-now", "s-hourly", "s-daily"]


def test_given_a_due_subscription_when_two_runs_advance_its_window_then_only_the_first_moves_it(store: Any) -> None:
    due = sub("s-1", next_digest_at=NOW)
    store.save_subscription(due)
    assert store.advance_digest(due, NOW, NOW + timedelta(days=1))
    assert not store.advance_digest(due, NOW, NOW + timedelta(days=2))
    stored = store.get_subscription("s-1")
    assert stored is not None and (stored.last_digest_at, stored.next_digest_at) == (NOW, NOW + timedelta(days=1))
    assert store.due_subscriptions("daily", NOW) == []


def test_given_a_subscription_unsubscribed_meanwhile_when_its_window_is_advanced_then_nothing_moves(
    store: Any,
) -> None:
    due = sub("s-1", next_digest_at=NOW)
    store.save_subscription(due)
    store.set_status("s-1", "unsubscribed")
    assert not store.advance_digest(due, NOW, NOW + timedelta(days=1))
    assert not store.advance_digest(dataclasses.replace(due, status="pending"), NOW, NOW + timedelta(days=1))
    stored = store.get_subscription("s-1")
    assert stored is not None and stored.status == "unsubscribed" and stored.next_digest_at == NOW


def test_given_a_subscription_when_updated_then_the_change_is_written_and_both_versions_returned(store: Any) -> None:
    store.save_subscription(sub("s-1", next_digest_at=NOW))
    before, after = store.update_subscription("s-1", lambda s: dataclasses.replace(s, topics=("sanctions",)))
    assert before == sub("s-1", next_digest_at=NOW)
    assert after == dataclasses.replace(before, topics=("sanctions",)) == store.get_subscription("s-1")
    assert store.update_subscription("s-1", lambda s: s) == (after, after)
    assert store.update_subscription("missing", lambda s: s) is None


def test_given_a_digest_run_lands_during_an_edit_when_updated_then_the_edit_is_redone_over_the_moved_window(
    store: Any,
) -> None:
    store.save_subscription(sub("s-1", next_digest_at=NOW))
    moved_to = (NOW, NOW + timedelta(days=1))
    reads: list[Subscription] = []

    def edit(current: Subscription) -> Subscription:
        reads.append(current)
        if len(reads) == 1:  # the digest run writes between this edit's read and its write
            assert store.advance_digest(current, *moved_to)
        return dataclasses.replace(current, topics=("missile",))

    changed = store.update_subscription("s-1", edit)
    stored = store.get_subscription("s-1")
    assert changed is not None and stored == changed[1] and changed[0] == reads[1]
    assert stored.topics == ("missile",) and (stored.last_digest_at, stored.next_digest_at) == moved_to


def test_given_an_edit_that_keeps_losing_when_updated_then_it_gives_up_with_a_conflict(store: Any) -> None:
    store.save_subscription(sub("s-1", next_digest_at=NOW))
    hours = iter(range(1, 100))

    def edit(current: Subscription) -> Subscription:
        assert store.advance_digest(current, NOW, NOW + timedelta(hours=next(hours)))
        return dataclasses.replace(current, topics=("missile",))

    with pytest.raises(ConflictError):
        store.update_subscription("s-1", edit)
    stored = store.get_subscription("s-1")
    assert stored is not None and stored.topics == subscription().topics  # never written over a moved window


def test_given_an_unsubscribed_subscription_when_its_status_is_set_then_it_stays_unsubscribed(store: Any) -> None:
    store.save_subscription(sub("s-1", status="unsubscribed"))
    assert store.set_status("s-1", "failing", "bounced") == sub("s-1", status="unsubscribed")
    assert store.get_subscription("s-1") == sub("s-1", status="unsubscribed")


def test_given_an_active_subscription_when_its_status_is_set_then_status_and_reason_change(store: Any) -> None:
    store.save_subscription(sub("s-1", next_digest_at=NOW))
    failing = store.set_status("s-1", "failing", "webhook 404")
    assert failing == sub("s-1", next_digest_at=NOW, status="failing", failure_reason="webhook 404")
    assert store.get_subscription("s-1") == failing and store.active_subscriptions() == []
    assert store.set_status("missing", "failing") is None


# delivery ledger


def test_given_a_message_when_claimed_twice_within_the_lease_then_only_the_first_claim_wins(store: Any) -> None:
    assert store.claim_delivery("s-1", "digest#2025-07-09", "email", NOW, LEASE)
    assert not store.claim_delivery("s-1", "digest#2025-07-09", "email", NOW + LEASE - timedelta(seconds=1), LEASE)
    assert store.claim_delivery("s-1", "digest#2025-07-10", "email", NOW, LEASE)  # another key is its own claim
    assert store.claim_delivery("s-2", "digest#2025-07-09", "email", NOW, LEASE)  # so is another subscription


def test_given_a_claim_whose_sender_died_when_its_lease_ran_out_then_another_run_takes_it_over(store: Any) -> None:
    assert store.claim_delivery("s-1", "k", "slack", NOW, LEASE)
    assert store.claim_delivery("s-1", "k", "slack", NOW + LEASE + timedelta(seconds=1), LEASE)
    (entry,) = store.deliveries("s-1")
    assert entry["attempts"] == 2 and entry["status"] == "sending"


def test_given_a_sent_or_failed_message_when_claimed_after_the_lease_then_it_is_never_claimed_again(
    store: Any,
) -> None:
    for key, status in (("sent", "sent"), ("failed", "failed")):
        assert store.claim_delivery("s-1", key, "email", NOW, LEASE)
        store.record_delivery(
            "s-1", key, status=status, attempts=1, detail="done", provider_id="m-1", now=NOW + timedelta(seconds=2)
        )
        assert not store.claim_delivery("s-1", key, "email", NOW + timedelta(days=1), LEASE)


def test_given_a_send_to_retry_when_recorded_then_the_lease_is_released_for_the_next_run(store: Any) -> None:
    assert store.claim_delivery("s-1", "k", "email", NOW, LEASE)
    store.record_delivery("s-1", "k", status="retry", attempts=3, detail="throttled", provider_id=None, now=NOW)
    assert store.claim_delivery("s-1", "k", "email", NOW + timedelta(seconds=1), LEASE)


def test_given_no_claim_when_a_delivery_is_recorded_then_it_conflicts(store: Any) -> None:
    with pytest.raises(ConflictError):
        store.record_delivery("s-1", "never", status="sent", attempts=1, detail="", provider_id=None, now=NOW)
    assert store.deliveries("s-1") == []


def test_given_a_ledger_when_listed_then_every_entry_comes_newest_key_first_with_its_outcome(store: Any) -> None:
    later = NOW + timedelta(seconds=3)
    store.claim_delivery("s-1", "digest#2025-07-08", "email", NOW, LEASE)
    store.record_delivery(
        "s-1", "digest#2025-07-08", status="sent", attempts=1, detail="", provider_id="m-1", now=later
    )
    store.claim_delivery("s-1", "digest#2025-07-09", "email", NOW, LEASE)
    store.claim_delivery("s-other", "digest#2025-07-09", "email", NOW, LEASE)
    assert store.deliveries("s-1") == [
        {
            "key": "digest#2025-07-09",
            "channel": "email",
            "status": "sending",
            "attempts": 1,
            "lease_until": (NOW + LEASE).isoformat(timespec="microseconds"),
            "updated_at": NOW.isoformat(timespec="microseconds"),
        },
        {
            "key": "digest#2025-07-08",
            "channel": "email",
            "status": "sent",
            "attempts": 1,
            "send_attempts": 1,
            "detail": "",
            "provider_id": "m-1",
            "updated_at": later.isoformat(timespec="microseconds"),
        },
    ]
