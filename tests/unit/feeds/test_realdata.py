"""Every real feed snapshot in ../shared/realdata parses without raising and yields entries."""

from __future__ import annotations

import pytest

from tests.support.paths import REALDATA, realdata_path
from wirewatch.feeds.parse import parse_feed

pytestmark = pytest.mark.realdata


def test_realdata_snapshots_parse() -> None:
    realdata_path(".")  # skips when the shared folder is absent
    snapshots = sorted(REALDATA.glob("*.xml"))
    assert snapshots, f"no XML snapshots in {REALDATA}"
    for path in snapshots:
        parsed = parse_feed(path.read_bytes(), {}, "https://feeds.example.com/")
        assert parsed.error is None, (path.name, parsed.error)
        assert parsed.entries, path.name
        assert all(entry.title or entry.summary for entry in parsed.entries), path.name
        dated = [entry.published for entry in parsed.entries if entry.published is not None]
        assert all(when.tzinfo is not None for when in dated), path.name
