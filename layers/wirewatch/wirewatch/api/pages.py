"""The small HTML pages of the public link routes; every interpolated value is escaped."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{title} · wirewatch</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222">
<h1 style="font-size:1.4em">{title}</h1>
{body}
</body></html>
"""


def page(title: str, paragraphs: list[str], extra_html: str = "") -> str:
    """A page with a title and plain-text paragraphs (escaped here)."""
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs) + extra_html
    return _PAGE.format(title=escape(title), body=body)


def confirmed(channel: str) -> str:
    return page("Subscription confirmed", [f"Your {channel} subscription is active. Digests will follow."])


def unsubscribe_form() -> str:
    # A form, not an action on GET: mail scanners open links, and must not unsubscribe anyone.
    form = (
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" style="font-size:1em;padding:.5em 1em">Unsubscribe</button></form>\n'
    )
    return page("Unsubscribe", ["Stop receiving wirewatch messages at this address?"], form)


def unsubscribed() -> str:
    return page("Unsubscribed", ["You will receive no more wirewatch messages from this subscription."])


def invalid_link(reason: str) -> str:
    return page("This link does not work", [f"The link is not valid ({reason}).", "Nothing was changed."])


def bad_unsubscribe_request() -> str:
    return page("Unsubscribe", ["The request did not say List-Unsubscribe=One-Click.", "Nothing was changed."])
