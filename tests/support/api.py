"""Calls functions/api/app.py with API Gateway HTTP API (v2) events built from the sample in events/."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.support.aws import FakeLambdaContext, load_event, load_handler


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    raw: dict[str, Any] = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        return dict(self.json()["error"])


class Api:
    """Builds API Gateway v2 events from the sample in events/ and calls functions/api/app.py."""

    def __init__(self) -> None:
        self._handler = load_handler("api").handler
        self._sample = load_event("api_get_items.json")

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        json_body: Any = None,
        body: str | bytes | None = None,
        auth: str | None = "iam",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        event = copy.deepcopy(self._sample)
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["requestId"] = uuid.uuid4().hex
        event["rawQueryString"] = urlencode(query or {})
        if query:
            event["queryStringParameters"] = dict(query)
        else:
            event.pop("queryStringParameters", None)
        event["headers"] = {**event["headers"], **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body)
            event["headers"]["content-type"] = "application/json"
        if isinstance(body, bytes):
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        elif body is not None:
            event["body"] = body
        if auth is None:
            del event["requestContext"]["authorizer"]
        elif auth == "jwt":
            event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "analyst"}, "scopes": None}}
        result = self._handler(event, FakeLambdaContext())
        headers_out = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode()
        return Reply(result["statusCode"], headers_out, payload, result)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)
