"""schemathesis against `serve()` with api/openapi.yaml: no 500s, every response as documented.

Bounded: a few examples per operation, one moto table and one server for the whole module. Two
things are stood in for, so nothing leaves loopback whatever the fuzzer invents: DNS (feed URLs
resolve to 127.0.0.1, which this deployment allows) and the work behind the API (polling feeds,
posting to Slack), which other tests cover for real.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.paths import REPO

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (requirements-dev.txt)")
from hypothesis import HealthCheck, settings  # noqa: E402  (after the import skip)
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.support.aws import prepare_accounts  # noqa: E402
from wirewatch import runtime  # noqa: E402
from wirewatch.adapters.aws import clients as aws  # noqa: E402
from wirewatch.adapters.aws.dynamodb.schema import create_table  # noqa: E402
from wirewatch.api.serve import make_server  # noqa: E402
from wirewatch.delivery.result import SendResult  # noqa: E402
from wirewatch.delivery.slack import SlackSender  # noqa: E402
from wirewatch.feeds import ssrf  # noqa: E402
from wirewatch.models import Feed  # noqa: E402
from wirewatch.usecases import PollReport  # noqa: E402

pytestmark = pytest.mark.integration

schema = schemathesis.openapi.from_path(REPO / "api" / "openapi.yaml")

# Not checked: positive_data_acceptance (a schema cannot say which time zones exist or which URLs are
# safe, so schema-valid requests are rightly refused), ignored_auth (serve runs without an authorizer
# by design; the handler tests cover auth), and the stateful use_after_free / resource checks.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
]


def _no_poll(feeds: Any) -> PollReport:
    return PollReport(feeds=len(feeds), fetched=0, not_modified=0, failed=0, new_items=0, relevant_items=0)


def _slack_ok(self: SlackSender, webhook_url: str, payload: dict[str, Any]) -> SendResult:
    return SendResult("sent", 1, "ok")


@pytest.fixture(scope="module")
def base_url(moto_endpoint: str) -> Iterator[str]:
    prefix = f"/wirewatch-fuzz-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "WIREWATCH_TABLE": f"wirewatch-fuzz-{uuid.uuid4().hex[:8]}",
            "WIREWATCH_ALLOW_LOOPBACK": "1",
            "WIREWATCH_API_AUTH": "none",
            "WIREWATCH_SENDER": "alerts@wirewatch.example.com",
            "WIREWATCH_PUBLIC_URL": "https://wirewatch.example.com",
            "WIREWATCH_TOKEN_KEY_PARAMETER": f"{prefix}/token-key",
            "WIREWATCH_SLACK_SECRET_PREFIX": f"{prefix}/slack/",
            "WIREWATCH_SES_MAX_SEND_RATE": "1000",
        }.items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "WIREWATCH_POLL_QUEUE_URL"):
            patch.delenv(key, raising=False)
        patch.setattr(ssrf, "resolve_host", lambda host, port: ["127.0.0.1"])
        patch.setattr(runtime, "run_poll", _no_poll)
        patch.setattr(SlackSender, "send", _slack_ok)
        runtime.reset()
        create_table(aws.client("dynamodb"), os.environ["WIREWATCH_TABLE"])
        prepare_accounts()
        runtime.repository().add_feed(Feed(id="wire", url="http://127.0.0.1:9/wire.xml", name="Wire"))
        server = make_server(port=0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            runtime.reset()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_document(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS)
