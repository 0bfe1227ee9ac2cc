"""Lone surrogates, NUL and other control characters in API bodies are a 400 naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.integration.api.test_api import assert_error
from tests.support.api import Api

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/feeds", r'{"url": "http://x/\ud800"}', "url"),
        ("/feeds", r'{"url": "https://example.com/rss", "name": "wire\udfff"}', "name"),
        ("/subscriptions", r'{"channel": "email", "target": "a\ud800@example.com"}', "target"),
        ("/subscriptions", r'{"channel": "email", "target": "a\u0000@example.com"}', "target"),
        ("/subscriptions", r'{"channel": "email", "target": "a@example.com\r\nBcc: b@example.com"}', "target"),
        (
            "/subscriptions",
            r'{"channel": "slack", "target": "https://hooks.slack.com/services/T/B/x\u001b[2J"}',
            "target",
        ),
        ("/subscriptions", r'{"channel": "email", "target": "\u202egro.elpmaxe@a"}', "target"),
        ("/subscriptions", r'{"channel": "email", "target": "a@example.com", "topics": ["missile\u0000"]}', "topics"),
    ],
)
def test_refused_characters_in_a_body_are_a_400(api: Api, path: str, body: str, field: str) -> None:
    reply = api.call("POST", path, body=body, headers={"content-type": "application/json"})
    assert_error(reply, 400, "invalid_field", field)
    assert api.get(path).json()[path.strip("/")] == []


def test_a_lone_surrogate_in_a_field_name_is_a_400(api: Api) -> None:
    reply = api.call("POST", "/feeds", body=r'{"url\ud800": "https://example.com/rss"}')
    assert reply.status == 400
