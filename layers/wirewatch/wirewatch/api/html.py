"""The small HTML pages of the public link routes, rendered from api/templates with autoescape."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Form:
    button: str
    fields: tuple[tuple[str, str], ...] = ()


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def page(title: str, paragraphs: list[str], form: Form | None = None) -> str:
    """A page with a title, plain-text paragraphs and at most one POST button (all escaped)."""
    return _environment().get_template("page.html").render(title=title, paragraphs=paragraphs, form=form)


def confirm_form() -> str:
    return page(
        "Confirm your subscription",
        ["Start receiving wirewatch messages at this address?"],
        Form("Confirm subscription"),
    )


def confirmed(channel: str) -> str:
    return page("Subscription confirmed", [f"Your {channel} subscription is active. Digests will follow."])


def not_confirmed(status: str) -> str:
    """A confirmation link followed after the subscription ended: nothing is switched back on."""
    return page(
        "Subscription not confirmed",
        [f"This subscription is {status}, so it was not confirmed.", "Subscribe again to receive messages."],
    )


def unsubscribe_form() -> str:
    form = Form("Unsubscribe", (("List-Unsubscribe", "One-Click"),))
    return page("Unsubscribe", ["Stop receiving wirewatch messages at this address?"], form)


def unsubscribed() -> str:
    return page("Unsubscribed", ["You will receive no more wirewatch messages from this subscription."])


def invalid_link(reason: str) -> str:
    return page("This link does not work", [f"The link is not valid ({reason}).", "Nothing was changed."])


def bad_unsubscribe_request() -> str:
    return page("Unsubscribe", ["The request did not say List-Unsubscribe=One-Click.", "Nothing was changed."])
