"""The DynamoDB attribute encoding of our records (no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wirewatch.adapters.aws.dynamodb.table import decode, encode, from_attribute, to_attribute


def test_records_round_trip_through_attribute_values() -> None:
    record = {
        "pk": "ITEM#1",
        "enabled": True,
        "count": 3,
        "score": 2.5,
        "topics": ["missile", "sanctions"],
        "facts": {"over_japan": False, "distance_km": 1000, "targets": ["Firm A"]},
        "skipped": None,
    }
    raw = encode(record)
    assert "skipped" not in raw
    assert raw["enabled"] == {"BOOL": True} and raw["count"] == {"N": "3"} and raw["score"] == {"N": "2.5"}
    assert decode(raw) == {k: v for k, v in record.items() if v is not None}


def test_numbers_decode_as_int_when_whole_and_float_otherwise() -> None:
    assert from_attribute({"N": "1764489600"}) == 1764489600
    assert from_attribute({"N": "0.125"}) == 0.125
    assert to_attribute(Decimal("1.50")) == {"N": "1.50"}


def test_unsupported_values_are_refused_with_their_type() -> None:
    with pytest.raises(TypeError, match="set"):
        to_attribute({1, 2})
