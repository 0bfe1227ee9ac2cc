"""`make demo`: the whole pipeline on bundled feeds, with no network.

Serves demo/feeds/*.xml from a loopback server (re-dated so the newest item is a few minutes old),
then runs the real `wirewatch` commands on the embedded SQLite store in a fresh state directory.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import io
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from loopback.feed_server import FeedServer, Request, Response
from loopback.slack_catcher import SlackCatcher
from loopback.slack_web_api import SlackWebApi
from wirewatch.cli import main as wirewatch

FEEDS = Path(__file__).parent / "feeds"
# RSS pubDate is RFC 822; Atom updated/published and RDF dc:date are ISO 8601.
_DATE = re.compile(rb"<(pubDate|updated|published|dc:date)>([^<]+)</\1>")
_TITLE = re.compile(r"<title>([^<]+)</title>")
_LANGUAGE = re.compile(r"<(?:language|dc:language)>([a-z]{2})|xml:lang=\"([a-z]{2})")


def _read_date(raw: str) -> datetime:
    raw = raw.strip()
    if raw[:4].isdigit():
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsedate_to_datetime(raw)


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_MONTH_DAY = re.compile(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\. (\d{1,2})\b")
_JA_DAY = re.compile(r"([０-９]{1,2})日")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def demo_shift(bodies: list[bytes], now: datetime) -> timedelta:
    """Whole days that bring the newest bundled item into the last 24 hours.

    Whole days keep each story's time of day, and let the weekdays and dates written in the text move
    with it, so "Wednesday" still names the day of the launch.
    """
    newest = max(_read_date(m[1].decode()) for body in bodies for m in _DATE.findall(body))
    return timedelta(days=(now - newest).days)


def redate(body: bytes, shift: timedelta, reference: datetime) -> bytes:
    """Move every date in a feed, in its markup and in its text, by the same whole number of days.

    Dates in the text carry no year or month ("Nov. 5", "５日"): they are read in the reference date's.
    """

    def moved(match: re.Match[bytes]) -> bytes:
        tag, raw = match.group(1), match.group(2).decode()
        when = (_read_date(raw) + shift).astimezone(UTC)
        text = when.isoformat() if raw.strip()[:4].isdigit() else format_datetime(when)
        return b"<" + tag + b">" + text.encode() + b"</" + tag + b">"

    def month_day(match: re.Match[str]) -> str:
        when = datetime.strptime(f"{reference.year} {match.group(1)} {match.group(2)}", "%Y %b %d") + shift
        return f"{when:%b}. {when.day}"

    def ja_day(match: re.Match[str]) -> str:
        day = int(match.group(1).translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        return f"{(datetime(reference.year, reference.month, day) + shift).day}".translate(_FULLWIDTH) + "日"

    text = _DATE.sub(moved, body).decode("utf-8")
    text = _WEEKDAY.sub(lambda m: _WEEKDAYS[(_WEEKDAYS.index(m.group(1)) + shift.days) % 7], text)
    text = _MONTH_DAY.sub(month_day, text)
    return _JA_DAY.sub(ja_day, text).encode("utf-8")


def feed_entry(url: str, document: str) -> str:
    """A [[feed]] table for the demo feed list, named after the feed's own title."""
    title = _TITLE.search(document)
    language = _LANGUAGE.search(document)
    name = title.group(1).strip() if title else url
    lang = next((g for g in language.groups() if g), "en") if language else "en"
    quoted = json.dumps(name, ensure_ascii=False)
    return f'[[feed]]\nname = {quoted}\nurl = "{url}"\nlanguage = "{lang}"\n'


def static_feed(body: bytes) -> object:
    """A route that answers 200 with an ETag, and 304 when the client already has it."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    def answer(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}, body=body)

    return answer


DESK_TOKEN = "xoxb-demo-desk-token"
DESK_CHANNEL = "C0DEMODESK1"
# A wire of the demo's own: a flash, then (third cycle) a second report of the same launch that
# reaches the slack-app channel as one threaded reply under the flash.
DESK_FLASH = (
    "desk-1",
    "North Korea fires ballistic missile into Sea of Japan",
    "North Korea launched a short-range ballistic missile off its east coast, South Korea's military said.",
)
DESK_FOLLOW_UP = (
    "desk-2",
    "Japan says North Korean ballistic missile fell inside its exclusive economic zone",
    "North Korea fired a short-range ballistic missile off its east coast that fell inside Japan's EEZ, "
    "Japan's defence ministry said.",
)


def desk_wire(items: list[tuple[str, str, str]], now: datetime) -> bytes:
    """A small RSS document of the demo desk wire, its items published just now."""
    entries = "".join(
        f"<item><guid>https://desk.example/{guid}</guid><link>https://desk.example/{guid}</link>"
        f"<title>{title}</title><description>{summary}</description>"
        f"<pubDate>{email.utils.format_datetime(now - timedelta(minutes=len(items) - n))}</pubDate></item>"
        for n, (guid, title, summary) in enumerate(items)
    )
    channel = f"<channel><title>Demo Desk Wire</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def banner(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def wirewatch_json(args: list[str]) -> dict[str, object]:
    """Run a wirewatch command with --json and return what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = wirewatch([*args, "--json"])
    if code:
        raise SystemExit(code)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def run() -> int:
    os.environ["WIREWATCH_ALLOW_LOOPBACK"] = "1"  # the demo's feeds and Slack are on this machine
    on_dynamodb = os.environ.get("WIREWATCH_STORE") == "dynamodb"  # the same flow on a DynamoDB endpoint (tests)
    if not on_dynamodb:
        for name in ("AWS_ENDPOINT_URL", "WIREWATCH_TABLE", "WIREWATCH_STORE", "WIREWATCH_SMTP_URL"):
            os.environ.pop(name, None)
    now = datetime.now(UTC)
    state = Path(tempfile.mkdtemp(prefix="wirewatch-demo-"))
    out = Path("out") / "demo-digest"
    web_api = SlackWebApi(log=lambda line: print(f"  [slack web api] {line}", flush=True))
    web_api.add_token(DESK_TOKEN)
    web_api.add_channel(DESK_CHANNEL)
    with FeedServer() as server, SlackCatcher() as slack, web_api:
        os.environ["WIREWATCH_SLACK_API_URL"] = web_api.base_url
        entries = []
        paths = sorted(FEEDS.glob("*.xml"))
        shift = demo_shift([p.read_bytes() for p in paths], now)
        for path in paths:
            newest = max(_read_date(m[1].decode()) for m in _DATE.findall(path.read_bytes()))
            server.route(f"/{path.name}", static_feed(redate(path.read_bytes(), shift, newest)))
            entries.append(feed_entry(server.url(f"/{path.name}"), path.read_text("utf-8")))
        server.route("/desk-wire.xml", static_feed(desk_wire([DESK_FLASH], now)))
        entries.append(feed_entry(server.url("/desk-wire.xml"), "<title>Demo Desk Wire</title>"))
        feed_list = state / "feeds.toml"
        feed_list.write_text("\n".join(entries), encoding="utf-8")
        print(f"serving {len(entries)} bundled feeds on {server.url('/')}, a Slack catcher on {slack.url('/')}")
        where = f"DynamoDB at {os.environ.get('AWS_ENDPOINT_URL')}" if on_dynamodb else "SQLite store, secrets, outbox"
        print(f"local state ({where}) in {state}")
        common = ["--state", str(state)]

        banner("wirewatch subscribe slack <catcher> --cadence immediate (the desk channel)")
        wirewatch(["subscribe", "slack", slack.url("/services/DEMO/DESK/hook"), "--cadence", "immediate", *common])
        banner(f"wirewatch subscribe slack-app {DESK_CHANNEL} --token ... (the desk channel, as a bot: threads)")
        wirewatch(["subscribe", "slack-app", DESK_CHANNEL, "--token", DESK_TOKEN, "--cadence", "immediate", *common])
        banner("wirewatch subscribe email analyst@example.com --cadence daily --at 08:00 --tz Asia/Tokyo")
        analyst = wirewatch_json(
            [
                "subscribe",
                "email",
                "analyst@example.com",
                "--cadence",
                "daily",
                "--at",
                "08:00",
                "--tz",
                "Asia/Tokyo",
                *common,
            ]
        )
        sent = "through SES" if on_dynamodb else f"{len(list((state / 'outbox').glob('*.eml')))} message in outbox/"
        print(f"{analyst['id']}: pending until the analyst follows the confirmation link ({sent})")

        banner("wirewatch poll (first cycle)")
        if wirewatch(["poll", "--feeds", str(feed_list), *common]):
            return 1
        banner("wirewatch poll (second cycle: conditional GET, nothing new)")
        if wirewatch(["poll", "--feeds", str(feed_list), *common]):
            return 1
        banner("wirewatch poll (third cycle: a second report of the desk wire's launch)")
        server.route("/desk-wire.xml", static_feed(desk_wire([DESK_FLASH, DESK_FOLLOW_UP], now)))
        if wirewatch(["poll", "--feeds", str(feed_list), *common]):
            return 1
        threaded = [p for p in web_api.parents(DESK_CHANNEL) if web_api.replies(DESK_CHANNEL, p.ts)]
        banner(
            f"slack-app channel: {len(web_api.parents(DESK_CHANNEL))} parent messages, {len(threaded)} with a thread"
        )
        for parent in threaded:
            print(f"  {parent.text} (edited {len(parent.edits)}x)")
            for reply in web_api.replies(DESK_CHANNEL, parent.ts):
                print(f"    ↳ {reply.text}" + (" (also sent to the channel)" if reply.reply_broadcast else ""))
        alerts = slack.payloads("/services/DEMO/DESK/hook")
        banner(f"urgent alerts the desk channel received: {len(alerts)}")
        for payload in alerts:
            print(f"  {payload['text']}")

    banner("wirewatch items --since 7d (relevant items found)")
    if wirewatch(["items", "--since", "7d", *common]):
        return 1
    banner("wirewatch digest --preview (the analyst's digest, not sent)")
    code = wirewatch(
        ["digest", "--preview", "--subscription", str(analyst["id"]), "--since", "7d", "--out", str(out), *common]
    )
    return code


if __name__ == "__main__":
    sys.exit(run())
