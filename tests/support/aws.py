"""Test helpers for AWS: a moto server over HTTP, handler loading, Lambda context, request counting."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tests.support.paths import REPO


@dataclass
class FakeLambdaContext:
    function_name: str = "wirewatch-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:wirewatch-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_handler(function: str) -> ModuleType:
    """Import functions/<function>/app.py as its own module (every function's file is named app.py)."""
    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"wirewatch_fn_{function}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/."""
    return json.loads((REPO / "events" / name).read_text("utf-8"))


class RequestCounter:
    """Counts AWS API calls made through a client (botocore event hooks).

    `calls` counts by operation; `puts` counts PutItem by record kind (the pk prefix: ITEM, FEED, STORY).
    """

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.puts: Counter[str] = Counter()
        client.meta.events.register("before-parameter-build.*.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "PutItem":
            self.puts[params["Item"]["pk"]["S"].split("#", 1)[0]] += 1

    def reset(self) -> None:
        self.calls.clear()
