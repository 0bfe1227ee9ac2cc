"""Local secrets and the state directory: user-only files, a generated key, a run lock that names its holder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from wirewatch.adapters.local.secrets import LocalSecretStore
from wirewatch.adapters.local.statedir import AlreadyRunning, hold_run_lock, prepare
from wirewatch.errors import SecretError, SecretNotFound

HOOK = "https://hooks.slack.com/services/T0/B0/secret-part"


def test_a_secret_round_trips_in_a_file_only_its_user_can_read(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("/wirewatch/slack/sub-1", HOOK)
    assert LocalSecretStore(tmp_path / "secrets.json").get("/wirewatch/slack/sub-1") == HOOK
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_missing_secret_is_named_and_deleting_it_twice_is_fine(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("a", "1")
    store.delete("a")
    store.delete("a")
    with pytest.raises(SecretNotFound, match="secret not found: a"):
        store.get("a")


def test_the_link_key_is_generated_once_and_then_kept(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    key = store.get_or_create("/wirewatch/token-key")
    assert len(key) == 64 and int(key, 16) >= 0
    assert LocalSecretStore(tmp_path / "secrets.json").get_or_create("/wirewatch/token-key") == key


def test_a_damaged_secrets_file_is_an_error_that_shows_no_value(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"a": "hunter2", ')
    with pytest.raises(SecretError) as raised:
        LocalSecretStore(tmp_path / "secrets.json").get("a")
    assert "hunter2" not in str(raised.value) and "secrets.json" in str(raised.value)


def test_a_state_dir_open_to_others_is_tightened_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    prepare(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert "was open to others" in capsys.readouterr().err
    prepare(state)
    assert capsys.readouterr().err == ""


def test_the_run_lock_refuses_a_second_holder_naming_the_first(tmp_path: Path) -> None:
    held = hold_run_lock(tmp_path)
    try:
        holder = json.loads((tmp_path / "run.lock").read_text())
        with pytest.raises(AlreadyRunning, match=f'"pid": {holder["pid"]}'):
            hold_run_lock(tmp_path)
    finally:
        held.close()
    hold_run_lock(tmp_path).close()  # released with its holder
