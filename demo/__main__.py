"""`make demo`: the whole pipeline on bundled feeds, with no network.

Serves demo/feeds/*.xml from a loopback server (re-dated so the newest item is a few minutes old),
then runs the real `wirewatch` commands against an embedded AWS emulator in a fresh state directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from loopback.feed_server import FeedServer, Request, Response
from wirewatch.cli import main as wirewatch

FEEDS = Path(__file__).parent / "feeds"
_PUBDATE = re.compile(rb"<pubDate>([^<]+)</pubDate>")


def redate(body: bytes, now: datetime) -> bytes:
    """Shift every pubDate by the same amount so the newest one is ten minutes before now."""
    dates = [parsedate_to_datetime(m.decode()) for m in _PUBDATE.findall(body)]
    if not dates:
        return body
    shift = now - timedelta(minutes=10) - max(dates)

    def moved(match: re.Match[bytes]) -> bytes:
        when = parsedate_to_datetime(match.group(1).decode()) + shift
        return b"<pubDate>" + format_datetime(when.astimezone(UTC)).encode() + b"</pubDate>"

    return _PUBDATE.sub(moved, body)


def static_feed(body: bytes) -> object:
    """A route that answers 200 with an ETag, and 304 when the client already has it."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    def answer(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}, body=body
        )

    return answer


def banner(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def run() -> int:
    os.environ["WIREWATCH_ALLOW_LOOPBACK"] = "1"  # the demo's feeds are on this machine
    for name in ("AWS_ENDPOINT_URL", "WIREWATCH_TABLE"):
        os.environ.pop(name, None)
    now = datetime.now(UTC)
    state = Path(tempfile.mkdtemp(prefix="wirewatch-demo-"))
    with FeedServer() as server:
        lines = []
        for path in sorted(FEEDS.glob("*.xml")):
            server.route(f"/{path.name}", static_feed(redate(path.read_bytes(), now)))
            lines.append(server.url(f"/{path.name}"))
        feed_list = state / "feeds.txt"
        feed_list.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"serving {len(lines)} bundled feeds on {server.url('/')}; state in {state}")

        banner("wirewatch poll (first cycle)")
        if wirewatch(["poll", "--feeds", str(feed_list), "--state", str(state)]):
            return 1
        banner("wirewatch poll (second cycle: conditional GET, nothing new)")
        if wirewatch(["poll", "--feeds", str(feed_list), "--state", str(state)]):
            return 1
    banner("wirewatch items --since 7d (relevant items found)")
    return wirewatch(["items", "--since", "7d", "--state", str(state)])


if __name__ == "__main__":
    sys.exit(run())
