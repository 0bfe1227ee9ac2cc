"""Local secrets (Slack webhook URLs, the link-signing key): one JSON file in the state dir, readable by the user only.

The file is replaced atomically (a temporary file created 0600 from the start, then renamed) under
an exclusive lock, so the CLI and `wirewatch run` can both write it. Values never appear in errors.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from wirewatch.errors import SecretError, SecretNotFound

SECRETS_FILE = "secrets.json"


class LocalSecretStore:
    """Named secrets in a user-only JSON file (the SSM SecretStore's interface)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def get(self, name: str) -> str:
        """The secret stored under name."""
        value = self._read().get(name)
        if value is None:
            raise SecretNotFound(name)
        return value

    def put(self, name: str, value: str) -> None:
        """Store value under name, replacing any previous value."""
        with self._locked():
            self._write(self._read() | {name: value})

    def delete(self, name: str) -> None:
        """Remove name; removing one that does not exist is not an error."""
        with self._locked():
            stored = self._read()
            if stored.pop(name, None) is not None:
                self._write(stored)

    def get_or_create(self, name: str, nbytes: int = 32) -> str:
        """The secret under name, generated (random hex) and stored on first use."""
        with self._locked():
            stored = self._read()
            if name not in stored:
                stored[name] = secrets.token_hex(nbytes)
                self._write(stored)
            return stored[name]

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecretError(f"cannot read the secrets file {self.path}: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretError(f"the secrets file {self.path} is not a JSON object of strings")
        return data

    def _write(self, stored: dict[str, str]) -> None:
        # A fresh random name created exclusively: whatever was left at some other path never lends its mode.
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(stored, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise SecretError(f"cannot write the secrets file {self.path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SecretError(f"cannot lock the secrets file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
