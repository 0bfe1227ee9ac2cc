"""AWS clients, created lazily on first use and cached per process (cold starts stay short).

Clients come straight from botocore: importing boto3 would also load s3transfer, about 150 ms of
every cold start for nothing we use. botocore reads AWS_ENDPOINT_URL itself, which is how local mode
and the tests point it at moto; credentials and region resolve exactly as for boto3.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@functools.cache
def client(service: str) -> Any:
    """The process-wide client for an AWS service."""
    return _session().create_client(service, config=_CONFIG)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def reset_clients() -> None:
    """Forget cached clients (tests and local mode change the endpoint)."""
    client.cache_clear()
    _session.cache_clear()
