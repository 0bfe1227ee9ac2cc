"""AWS clients, created lazily on first use and cached per process (cold starts stay short).

boto3 reads AWS_ENDPOINT_URL itself, which is how local mode and tests point it at moto.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@functools.cache
def client(service: str) -> Any:
    """The process-wide client for an AWS service."""
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests and local mode change the endpoint)."""
    client.cache_clear()
