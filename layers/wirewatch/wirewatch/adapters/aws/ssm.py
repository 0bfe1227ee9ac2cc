"""Secrets (Slack webhook URLs, the token-signing key) in SSM Parameter Store, cached with a TTL.

Values never appear in errors or logs; only parameter names do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wirewatch.errors import SecretError, SecretNotFound

__all__ = ["SecretError", "SecretNotFound", "SecretStore"]


class SecretStore:
    """SSM SecureString parameters, read with decryption and cached for ttl_seconds."""

    def __init__(
        self,
        ssm_client: Any,
        *,
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
        kms_key_id: str | None = None,
    ) -> None:
        self._ssm = ssm_client
        self._ttl = ttl_seconds
        self._clock = clock
        self._kms_key_id = kms_key_id
        self._cache: dict[str, tuple[str, float]] = {}

    def get(self, name: str) -> str:
        """The decrypted value of parameter name (cached)."""
        cached = self._cache.get(name)
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        try:
            response = self._ssm.get_parameter(Name=name, WithDecryption=True)
        except ClientError as exc:
            code = _code(exc)
            if code == "ParameterNotFound":
                self._cache.pop(name, None)
                raise SecretNotFound(name) from exc
            raise SecretError(f"cannot read secret {name}: {code}") from exc
        except BotoCoreError as exc:
            raise SecretError(f"cannot read secret {name}: {type(exc).__name__}") from exc
        value = str(response["Parameter"]["Value"])
        self._remember(name, value)
        return value

    def put(self, name: str, value: str) -> None:
        """Store value under name as a SecureString, replacing any previous value."""
        params: dict[str, Any] = {"Name": name, "Value": value, "Type": "SecureString", "Overwrite": True}
        if self._kms_key_id:
            params["KeyId"] = self._kms_key_id
        try:
            self._ssm.put_parameter(**params)
        except ClientError as exc:
            # Not chained: a validation message could echo the value we were given.
            raise SecretError(f"cannot store secret {name}: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise SecretError(f"cannot store secret {name}: {type(exc).__name__}") from None
        self._remember(name, value)

    def delete(self, name: str) -> None:
        """Remove parameter name; removing one that does not exist is not an error."""
        self._cache.pop(name, None)
        try:
            self._ssm.delete_parameter(Name=name)
        except ClientError as exc:
            if _code(exc) != "ParameterNotFound":
                raise SecretError(f"cannot delete secret {name}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise SecretError(f"cannot delete secret {name}: {type(exc).__name__}") from exc

    def _remember(self, name: str, value: str) -> None:
        self._cache[name] = (value, self._clock() + self._ttl)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))
