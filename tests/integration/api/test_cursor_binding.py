"""An edited page cursor cannot widen the query past the date clamp: it is a 400 before any read."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.api.test_api import assert_error, relevant_item
from tests.support.api import Api
from wirewatch import runtime

pytestmark = pytest.mark.integration


def test_an_edited_cursor_is_400_and_reads_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given three items and the cursor of their first page
    repo, now = runtime.repository(), datetime.now(UTC)
    for n in range(3):
        repo.put_item_if_new(relevant_item(n, now - timedelta(minutes=n + 1)), now + timedelta(days=1))
    cursor = api.get("/items", query={"limit": "1"}).json()["next_cursor"]
    payload, dot, tag = cursor.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # When its window is moved back to year 1 (about 24k month queries) with the tag kept
    edited = base64.urlsafe_b64encode(json.dumps(data | {"t": "0001-01-01T00:00:00+00:00"}).encode()).decode()
    reads: list[Any] = []
    page_items = repo.page_items

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return page_items(*args, **kwargs)

    monkeypatch.setattr(repo, "page_items", counted)
    # Then it is refused as a cursor this API did not issue, before the store is read at all
    assert_error(
        api.get("/items", query={"limit": "1", "cursor": edited.rstrip("=") + dot + tag}), 400, "invalid_cursor"
    )
    assert reads == []
    # And the cursor as issued still pages on
    assert [i["id"] for i in api.get("/items", query={"limit": "1", "cursor": cursor}).json()["items"]] == ["item001"]
    assert len(reads) == 1
