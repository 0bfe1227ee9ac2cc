"""Local mode: an embedded moto server standing in for AWS, with the table kept in a state directory.

moto keeps everything in memory, so the table and the SSM parameters (Slack webhooks, the link
signing key) are snapshotted to `<state>/table.jsonl` and `<state>/parameters.json` when the command
ends and restored when the next one starts. Those files hold local secrets in clear: they are the
emulator's disk, readable only by the user. A lock file keeps two commands from interleaving their
snapshots.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCAL_TABLE = "wirewatch-local"
_SNAPSHOT = "table.jsonl"
_PARAMETERS = "parameters.json"
LOCAL_SENDER = "wirewatch@example.com"
LOCAL_PUBLIC_URL = "http://127.0.0.1:3000"


def default_state_dir() -> Path:
    """Per-user data directory for local state (XDG_DATA_HOME aware)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wirewatch"


def wants_local_mode(env: dict[str, str] | os._Environ[str]) -> bool:
    """Local mode unless an AWS endpoint or a table name has been configured."""
    return not env.get("AWS_ENDPOINT_URL") and not env.get("WIREWATCH_TABLE")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on a loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; the emulator should be as quiet as the real thing.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def point_at(endpoint: str, table: str) -> None:
    """Point boto3 and wirewatch at an emulator endpoint with throwaway credentials."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "WIREWATCH_TABLE": table,
        }
    )
    os.environ.setdefault("WIREWATCH_SENDER", LOCAL_SENDER)
    os.environ.setdefault("WIREWATCH_PUBLIC_URL", LOCAL_PUBLIC_URL)
    os.environ.setdefault("WIREWATCH_SES_MAX_SEND_RATE", "14")  # moto has no account quota to read
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    from wirewatch import runtime

    runtime.reset()


@contextmanager
def local_aws(state_dir: Path) -> Iterator[str]:
    """Embedded AWS for one CLI command: start moto, restore the table, snapshot it on the way out."""
    from wirewatch import aws
    from wirewatch.store.schema import create_table

    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with moto_server() as endpoint:
            point_at(endpoint, LOCAL_TABLE)
            client = aws.client("dynamodb")
            create_table(client, LOCAL_TABLE)
            _restore(client, state_dir / _SNAPSHOT)
            _restore_parameters(state_dir / _PARAMETERS)
            prepare_accounts()
            try:
                yield endpoint
            finally:
                _snapshot(client, state_dir / _SNAPSHOT)
                _snapshot_parameters(state_dir / _PARAMETERS)


def _restore(client: Any, path: Path) -> None:
    if not path.exists():
        return
    requests = [{"PutRequest": {"Item": json.loads(line)}} for line in path.read_text("utf-8").splitlines() if line]
    for start in range(0, len(requests), 25):
        pending = {LOCAL_TABLE: requests[start : start + 25]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _snapshot(client: Any, path: Path) -> None:
    # A Scan is fine here: this is the emulator's persistence, not an application read path.
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for page in client.get_paginator("scan").paginate(TableName=LOCAL_TABLE):
            for raw in page.get("Items", []):
                out.write(json.dumps(raw, ensure_ascii=False) + "\n")
    tmp.replace(path)


def prepare_accounts() -> None:
    """What a deployed stack has and an empty emulator lacks: a verified sender and a link-signing key."""
    from wirewatch import aws

    aws.client("sesv2").create_email_identity(EmailIdentity=os.environ["WIREWATCH_SENDER"])
    ssm = aws.client("ssm")
    name = os.environ.get("WIREWATCH_TOKEN_KEY_PARAMETER", "/wirewatch/token-key")
    try:
        ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(Name=name, Value=secrets.token_hex(32), Type="SecureString")


def _restore_parameters(path: Path) -> None:
    from wirewatch import aws

    if not path.exists():
        return
    ssm = aws.client("ssm")
    for name, value in json.loads(path.read_text("utf-8")).items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def _snapshot_parameters(path: Path) -> None:
    from wirewatch import aws

    values: dict[str, str] = {}
    pages = (
        aws.client("ssm")
        .get_paginator("get_parameters_by_path")
        .paginate(Path="/", Recursive=True, WithDecryption=True)
    )
    for page in pages:
        values.update({p["Name"]: p["Value"] for p in page["Parameters"]})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=1), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
