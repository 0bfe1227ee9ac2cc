"""The `wirewatch` command: poll, feeds, items, classify — locally (embedded moto) or against AWS."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wirewatch.config import ConfigError
from wirewatch.feedlist import FeedListError, default_feeds, feed_id_for_url, parse_feed_list
from wirewatch.models import TOPICS, Feed, Item

_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(ValueError):
    """A command-line value is wrong; the message says which."""


def parse_duration(text: str) -> timedelta:
    """'90m', '24h', '30d', '2w' → timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise UsageError(f"bad duration {text!r}: use a number and m, h, d or w (e.g. 24h, 30d)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _aws_session(args: argparse.Namespace) -> AbstractContextManager[Any]:
    from wirewatch import local

    if args.state is not None or local.wants_local_mode(os.environ):
        return local.local_aws(Path(args.state) if args.state else local.default_state_dir())
    return nullcontext()


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_poll(args: argparse.Namespace) -> int:
    from wirewatch import runtime
    from wirewatch.usecases import due_feeds, seed_feeds

    repo = runtime.repository()
    if args.feeds:
        listed = parse_feed_list(Path(args.feeds).read_text("utf-8"))
        seed_feeds(repo, listed)
        feeds = repo.get_feeds([f.id for f in listed])
    else:
        feeds = repo.list_feeds()
        if not feeds:
            seed_feeds(repo, default_feeds())
            feeds = repo.list_feeds()
    now = datetime.now(UTC)
    selected = [f for f in feeds if f.enabled] if args.force else due_feeds(feeds, now)
    report = runtime.run_poll(selected, now=now)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"polled {report.feeds} feeds: {report.fetched} fetched, {report.not_modified} not modified, "
            f"{report.failed} failed; {report.new_items} new items, {report.relevant_items} relevant"
        )
        for error in report.errors:
            print(f"  ! {error['feed']}: {error['error']}")
        skipped = len([f for f in feeds if f.enabled]) - len(selected)
        if skipped:
            print(f"  ({skipped} feeds backing off; --force polls them anyway)")
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    repo = runtime.repository()
    if args.feeds_command == "add":
        feed = parse_feed_list(args.url)[0]
        feed = Feed(
            id=args.id or feed_id_for_url(args.url),
            url=feed.url,
            name=args.name or feed.name,
            language=args.language,
        )
        added = repo.add_feed(feed)
        print(f"{'added' if added else 'already present'}: {feed.id} {feed.url}")
        return 0
    if args.feeds_command == "remove":
        if not repo.delete_feed(args.id):
            print(f"no feed {args.id!r}", file=sys.stderr)
            return 1
        print(f"removed {args.id}")
        return 0
    feeds = repo.list_feeds()
    if args.json:
        _print_json([_feed_dict(f) for f in feeds])
        return 0
    if not feeds:
        print("no feeds yet: `wirewatch feeds add URL` or `wirewatch poll --feeds FILE`")
    for f in feeds:
        health = (
            "disabled: " + (f.disabled_reason or "")
            if not f.enabled
            else (f"failing x{f.consecutive_failures}: {f.last_error}" if f.consecutive_failures else "ok")
        )
        last = f.last_success.strftime("%Y-%m-%d %H:%M") if f.last_success else "never"
        print(f"{f.id:<24} {f.language:<3} last ok {last:<16} {health}\n    {f.url}")
    return 0


def _feed_dict(feed: Feed) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(feed).items()}


def item_dict(item: Item) -> dict[str, Any]:
    """JSON view of an item."""
    c = item.classification
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": item.published.isoformat(),
        "first_seen": item.first_seen.isoformat(),
        "topics": list(c.topics),
        "severity": c.severity,
        "severity_reason": c.severity_reason,
        "scores": dict(c.scores),
        "facts": dict(c.facts),
        "evidence": [e.__dict__ for e in c.evidence],
        "suppressed": item.suppressed,
        "summary": item.summary,
    }


def cmd_items(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    now = datetime.now(UTC)
    items = runtime.repository().relevant_items(
        now - parse_duration(args.since), now, topic=args.topic, limit=args.limit
    )
    if args.json:
        _print_json([item_dict(i) for i in items])
        return 0
    if not items:
        print(f"no relevant items in the last {args.since}")
    for item in items:
        c = item.classification
        flag = " (first-run backlog, not alerted)" if item.suppressed else ""
        topics = "+".join(c.topics)
        print(f"{item.published:%Y-%m-%d %H:%M}  {c.severity.upper():<7} {topics:<18} {item.title}{flag}")
        print(f"{'':18}{item.source} · {item.link}")
        if c.facts:
            print(f"{'':18}facts: " + ", ".join(f"{k}={v}" for k, v in c.facts.items()))
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from wirewatch.classify.cli import run_classify

    if args.file and args.file != "-":
        with open(args.file, encoding="utf-8") as handle:
            return run_classify(handle, sys.stdout, sys.stderr, args.explain)
    return run_classify(sys.stdin, sys.stdout, sys.stderr, args.explain)


def cmd_reclassify(args: argparse.Namespace) -> int:
    from wirewatch import runtime
    from wirewatch.classify import classify
    from wirewatch.usecases import reclassify

    now = datetime.now(UTC)
    examined, changes = reclassify(
        store=runtime.repository(),
        classify=classify,
        since=now - parse_duration(args.since),
        now=now,
        settings=runtime.settings(),
        dry_run=args.dry_run,
    )
    for change in changes:
        old, new = change.item.classification, change.new
        delta = " ".join([f"+{t}" for t in change.gained] + [f"-{t}" for t in change.lost])
        severity = f"{old.severity}→{new.severity}" if old.severity != new.severity else new.severity
        print(f"{delta or '~':<20} {severity:<16} {change.item.title}")
    gained = sum(bool(c.gained) for c in changes)
    lost = sum(bool(c.lost) for c in changes)
    verdict = "dry run, nothing written" if args.dry_run else f"{len(changes)} items updated"
    print(
        f"examined {examined} items since {args.since}: {gained} new matches, {lost} dropped matches; {verdict}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="wirewatch", description=__doc__)
    parser.set_defaults(state=None)
    sub = parser.add_subparsers(dest="command", required=True)
    # --state is accepted after any (sub)command; SUPPRESS keeps a nested parser from resetting it.
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state",
        default=argparse.SUPPRESS,
        help="local state directory (embedded AWS); default: per-user data dir",
    )

    def with_state(name: str, parent: Any = sub, **kwargs: Any) -> argparse.ArgumentParser:
        return parent.add_parser(name, parents=[state], **kwargs)  # type: ignore[no-any-return]

    poll = with_state("poll", help="fetch feeds, classify and store new items")
    poll.add_argument("--feeds", help="feed list: OPML, wirewatch TOML, or one URL per line")
    poll.add_argument("--force", action="store_true", help="poll feeds that are backing off too")
    poll.add_argument("--json", action="store_true")
    poll.set_defaults(func=cmd_poll, aws=True)

    feeds = with_state("feeds", help="list, add or remove feeds")
    feeds.add_argument("--json", action="store_true")
    feeds.set_defaults(func=cmd_feeds, aws=True, feeds_command="list")
    fsub = feeds.add_subparsers(dest="feeds_command")
    with_state("list", fsub).add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    add = with_state("add", fsub)
    add.add_argument("url")
    add.add_argument("--name")
    add.add_argument("--id")
    add.add_argument("--language", default="en")
    remove = with_state("remove", fsub)
    remove.add_argument("id")

    items = with_state("items", help="relevant items, newest first")
    items.add_argument("--topic", choices=TOPICS)
    items.add_argument("--since", default="24h")
    items.add_argument("--limit", type=int, default=200)
    items.add_argument("--json", action="store_true")
    items.set_defaults(func=cmd_items, aws=True)

    classify = sub.add_parser(
        "classify", help="classify JSON lines (id, title, summary, lang) from FILE or stdin"
    )
    classify.add_argument("file", nargs="?")
    classify.add_argument("--explain", action="store_true", help="human-readable explanation")
    classify.set_defaults(func=cmd_classify, aws=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand, translating domain errors to messages and exit codes."""
    from wirewatch.store import StoreError

    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        if getattr(args, "aws", False):
            with _aws_session(args):
                return func(args)
        return func(args)
    except (UsageError, FeedListError, ConfigError, OSError) as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"wirewatch: storage failed: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
