"""Files holding secrets are 0600 from their creation, whatever was left at the temporary path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wirewatch.adapters.local.secrets import LocalSecretStore

HOOK = "https://hooks.slack.com/services/T0/B0/secret-part"


def test_a_stale_world_readable_temp_file_never_makes_the_secrets_readable(tmp_path: Path) -> None:
    # Given a temp file left world-readable at the path the next write uses (a crashed run, a reused pid)
    path = tmp_path / "secrets.json"
    for name in (f".{path.name}.{os.getpid()}.tmp", f".{path.name}.tmp", f".{path.name}.lock"):
        stale = path.with_name(name)
        stale.write_text("{}")
        stale.chmod(0o644)
    # When a secret is stored
    LocalSecretStore(path).put("/wirewatch/slack/sub-1", HOOK)
    # Then the secrets file is still readable by its user only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_secrets_file_is_never_readable_by_others_even_with_umask_zero(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "secrets.json"
        LocalSecretStore(path).put("/wirewatch/slack/sub-1", HOOK)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
