"""Where tests find the repository and the shared real-data snapshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REALDATA = Path(os.environ.get("WIREWATCH_REALDATA", REPO.parent / "shared" / "realdata"))


def realdata_path(name: str) -> Path:
    """Path of a shared real-data file; skips the calling test when the folder is absent."""
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


# The bundled demo feeds (our own words) double as parser fixtures; broken documents live with the tests.
DEMO_FEEDS = REPO / "demo" / "feeds"
BROKEN_FEEDS = REPO / "tests" / "fixtures" / "feeds" / "broken"
