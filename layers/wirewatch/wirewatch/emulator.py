"""The local AWS emulator: a moto server in a background process that owns a state directory.

`wirewatch` commands in local mode talk to it over HTTP, exactly as the Lambda functions talk to AWS.
Keeping it running between commands means a command pays neither moto's start-up nor a reload of
the table. The emulator saves the table and the SSM parameters into the state directory shortly
after anything was written, and once more when it stops (`wirewatch local stop`, SIGTERM, or after
WIREWATCH_LOCAL_IDLE_SECONDS without a request, default 30 minutes). The saved files hold local
secrets in clear: they are the emulator's disk, kept readable by the user only.

Run by `wirewatch.local`; not part of the deployed code path (moto is a development dependency).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TABLE = "wirewatch-local"
SENDER = "wirewatch@example.com"
TOKEN_KEY_PARAMETER = "/wirewatch/token-key"
ACCOUNT, REGION = "123456789012", "us-east-1"
TABLE_FILE, PARAMETERS_FILE, INFO_FILE, LOCK_FILE = "table.jsonl", "parameters.json", "emulator.json", "emulator.lock"

# Requests that change state, by the operation name in X-Amz-Target ("DynamoDB_20120810.PutItem").
_WRITES = ("Put", "Update", "Delete", "BatchWrite", "TransactWrite", "Create")


class _Activity:
    """WSGI middleware that notes when the emulator was last used and whether anything was written."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self.last_request = time.monotonic()
        self.dirty = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.last_request = time.monotonic()
        action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if action.startswith(_WRITES) or environ.get("REQUEST_METHOD") in ("PUT", "DELETE"):
            self.dirty.set()
        return self._app(environ, start_response)


def _table() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].tables[TABLE]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def save(state: Path, client: Callable[[str], Any]) -> None:
    """Write the table (read straight from moto's memory: a Scan would take seconds) and our SSM parameters."""
    rows = (json.dumps(item.to_json()["Attributes"], ensure_ascii=False) for item in list(_table().all_items()))
    _write_atomic(state / TABLE_FILE, "".join(f"{row}\n" for row in rows))
    parameters: dict[str, str] = {}
    pages = (
        client("ssm").get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True, WithDecryption=True)
    )
    for page in pages:
        # moto also serves AWS's public /aws/ parameters; they are not ours to keep.
        parameters.update({p["Name"]: p["Value"] for p in page["Parameters"] if not p["Name"].startswith("/aws/")})
    _write_atomic(state / PARAMETERS_FILE, json.dumps(parameters, indent=1))


def restore(state: Path, client: Callable[[str], Any]) -> None:
    """Create the table and load what the state directory holds."""
    from wirewatch.adapters.aws.dynamodb.schema import create_table

    create_table(client("dynamodb"), TABLE)
    table = _table()
    if (state / TABLE_FILE).exists():
        for line in (state / TABLE_FILE).read_text("utf-8").splitlines():
            if line:
                table.put_item(json.loads(line))
    ssm = client("ssm")
    if (state / PARAMETERS_FILE).exists():
        for name, value in json.loads((state / PARAMETERS_FILE).read_text("utf-8")).items():
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    prepare_accounts(client)


def prepare_accounts(client: Callable[[str], Any]) -> None:
    """What a deployed stack has and an empty emulator lacks: a verified sender and a link-signing key."""
    client("sesv2").create_email_identity(EmailIdentity=os.environ.get("WIREWATCH_SENDER", SENDER))
    ssm = client("ssm")
    name = os.environ.get("WIREWATCH_TOKEN_KEY_PARAMETER", TOKEN_KEY_PARAMETER)
    try:
        ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(Name=name, Value=secrets.token_hex(32), Type="SecureString")


def serve(state: Path, idle_seconds: float) -> None:
    """Run the emulator for a state directory until stopped or idle."""
    import botocore.session
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    activity = _Activity(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, activity, threaded=True)
    endpoint = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()

    session = botocore.session.get_session()

    def client(service: str) -> Any:
        return session.create_client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    restore(state, client)
    _write_atomic(state / INFO_FILE, json.dumps({"pid": os.getpid(), "endpoint": endpoint}))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            quiet_for = time.monotonic() - activity.last_request
            # Save once a burst of writes has settled, off every command's path.
            if activity.dirty.is_set() and quiet_for > 1.0:
                activity.dirty.clear()
                save(state, client)
            if quiet_for > idle_seconds:
                break
    finally:
        save(state, client)
        server.shutdown()
        (state / INFO_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    """`python -m wirewatch.emulator --state DIR`: serve unless another emulator holds DIR."""
    parser = argparse.ArgumentParser(prog="wirewatch-emulator")
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument(
        "--idle-seconds", type=float, default=float(os.environ.get("WIREWATCH_LOCAL_IDLE_SECONDS", "1800"))
    )
    args = parser.parse_args(argv)
    args.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (args.state / LOCK_FILE).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another emulator already serves this directory
        serve(args.state, args.idle_seconds)


if __name__ == "__main__":
    main()
