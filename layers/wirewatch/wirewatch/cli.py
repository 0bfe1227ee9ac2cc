"""The `wirewatch` command: on this machine (embedded SQLite store) or against a deployed stack (DynamoDB)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wirewatch.config import ConfigError
from wirewatch.feedlist import FeedListError, parse_feed_list
from wirewatch.feeds.text import plain_line
from wirewatch.models import CADENCES, SEVERITIES, TOPICS
from wirewatch.views import feed_view, item_view, subscription_view

if TYPE_CHECKING:
    from wirewatch.adapters.local.sqlite import SqliteStore
    from wirewatch.usecases.digests import DigestPreview


class UsageError(ValueError):
    """A command-line value is wrong; the message says which."""


def parse_duration(text: str) -> timedelta:
    """'90m', '24h', '30d', '2w' → timedelta; UsageError otherwise."""
    from wirewatch.durations import parse_duration as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is below 1")
    return value


def _shown_link(link: str) -> str:
    """A link as a terminal may show it: http(s) only (never javascript: or data:), no control characters."""
    shown = plain_line(link)
    return shown if shown.startswith(("http://", "https://")) and " " not in shown else "(not an http link)"


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_poll(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    now = datetime.now(UTC)
    listed = parse_feed_list(Path(args.feeds).read_text("utf-8")) if args.feeds else None
    selection = runtime.select_feeds(now, force=args.force, listed=listed)
    feeds, selected = selection.feeds, selection.due
    report = runtime.run_poll(selected, now=now, progress=_progress_meter(args))
    alerts = [] if runtime.has_table_stream() else runtime.run_pending_alerts(now)
    if args.json:
        _print_json(report.to_dict() | {"alerts": [a.to_dict() for a in alerts]})
    else:
        print(
            f"polled {report.feeds} feeds: {report.fetched} fetched, {report.not_modified} not modified, "
            f"{report.failed} failed; {report.new_items} new items, {report.relevant_items} relevant"
        )
        for error in report.errors:
            print(f"  ! {error['feed']}: {error['error']}")
        for alert in alerts:
            if alert.sent or alert.failed or alert.pending:
                print(
                    f"  alert {alert.story_id}: {alert.sent} sent, {alert.failed} failed, {len(alert.pending)} to retry"
                )
        skipped = len([f for f in feeds if f.enabled]) - len(selected)
        if skipped:
            print(f"  ({skipped} feeds backing off; --force polls them anyway)")
    # Every feed failing is worth a non-zero exit (cron mails it, scripts notice); some failing is normal.
    return 1 if report.feeds and report.failed == report.feeds else 0


def _progress_meter(args: argparse.Namespace) -> Callable[[int, int], None] | None:
    """Feeds done out of total, on stderr, when it is a terminal (never in --json output or logs)."""
    if args.json or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\r  {done}/{total} feeds", end="\n" if done == total else "", file=sys.stderr, flush=True)

    return show


def cmd_feeds(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    repo = runtime.repository()
    if args.feeds_command == "add":
        from wirewatch.usecases.feeds import FeedRequest

        feed, added = runtime.add_feed(FeedRequest(args.url, name=args.name, language=args.language, id=args.id))
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
        _print_json([feed_view(f) for f in feeds])
        return 0
    if not feeds:
        print("no feeds yet: `wirewatch feeds add URL` or `wirewatch poll --feeds FILE`")
    for f in feeds:
        health = (
            "disabled: " + (f.disabled_reason or "")
            if not f.enabled
            else (
                f"failing x{f.consecutive_failures}: {plain_line(f.last_error or '')}"
                if f.consecutive_failures
                else "ok"
            )
        )
        last = f.last_success.strftime("%Y-%m-%d %H:%M") if f.last_success else "never"
        print(f"{f.id:<24} {f.language:<3} last ok {last:<16} {health}\n    {f.url}")
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    now = datetime.now(UTC)
    items = runtime.repository().relevant_items(
        now - parse_duration(args.since), now, topic=args.topic, limit=args.limit
    )
    if args.json:
        _print_json([item_view(i) for i in items])
        return 0
    if not items:
        print(f"no relevant items in the last {args.since}")
    for item in items:
        c = item.classification
        flag = " (first-run backlog, not alerted)" if item.suppressed else ""
        topics = "+".join(c.topics)
        print(f"{item.published:%Y-%m-%d %H:%M}  {c.severity.upper():<7} {topics:<18} {item.title}{flag}")
        print(f"{'':18}{plain_line(item.source)} · {_shown_link(item.link)}")
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
    print(f"examined {examined} items since {args.since}: {gained} new matches, {lost} dropped matches; {verdict}")
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    from wirewatch import runtime
    from wirewatch.usecases.subscriptions import SubscriptionRequest

    if args.at and args.cadence != "daily":
        raise UsageError(f"--at sets the time of a daily digest; it makes no sense with --cadence {args.cadence}")
    quiet: tuple[str, str] | None = None
    if args.quiet:
        start, sep, end = args.quiet.partition("-")
        if not sep:
            raise UsageError("--quiet takes HH:MM-HH:MM, e.g. 22:00-07:00")
        quiet = (start, end)
    secret: str | None = None
    if args.channel == "slack-app":
        if not args.token:
            raise UsageError("slack-app needs the bot token: --token xoxb-... (or --token - to read it from stdin)")
        secret = sys.stdin.readline().strip() if args.token == "-" else args.token
    elif args.token:
        raise UsageError("--token is for slack-app subscriptions")
    if args.channel == "webhook":
        from wirewatch.delivery.webhooks import new_signing_secret

        secret = new_signing_secret()
    request = SubscriptionRequest(
        channel=args.channel,
        target=args.target,
        secret=secret,
        topics=tuple(t.strip() for t in args.topics.split(",") if t.strip()),
        min_severity=args.min_severity,
        cadence=args.cadence,
        daily_at=args.at or "08:00",
        timezone=args.tz,
        quiet_hours=quiet,
        urgent_in_quiet_hours=not args.no_urgent_in_quiet_hours,
    )
    sub = runtime.subscribe(request, datetime.now(UTC))
    if args.json:
        view = subscription_view(sub)
        if sub.channel == "webhook":
            view = {**view, "signing_secret": secret}
        _print_json(view)
    elif sub.channel == "webhook":
        print(f"{sub.id}: active (webhook, {sub.cadence}, topics {', '.join(sub.topics)})")
        print(f"signing secret (shown once; verify webhook-signature with it): {secret}")
    elif sub.status == "pending":
        print(f"{sub.id}: confirmation email sent to {sub.target}; nothing is sent before it is confirmed")
    else:
        print(f"{sub.id}: active ({sub.channel}, {sub.cadence}, topics {', '.join(sub.topics)})")
    return 0


def cmd_subscriptions(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    subs = runtime.repository().list_subscriptions()
    if args.json:
        _print_json([subscription_view(s) for s in subs])
        return 0
    if not subs:
        print("no subscriptions: `wirewatch subscribe email ADDRESS` or `wirewatch subscribe slack WEBHOOK`")
    for sub in subs:
        target = sub.target if sub.channel == "email" else f"secret {sub.target}"
        when = sub.cadence + (f" at {sub.daily_at} {sub.timezone}" if sub.cadence == "daily" else "")
        print(f"{sub.id}  {sub.status:<12} {sub.channel:<5} {when:<28} {','.join(sub.topics):<18} {target}")
        if sub.failure_reason:
            print(f"{'':22}! {plain_line(sub.failure_reason)}")
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    from wirewatch import runtime
    from wirewatch.usecases.subscriptions import unsubscribe

    sub = unsubscribe(args.id, store=runtime.repository(), secret_store=runtime.secret_store())
    print(f"{sub.id}: unsubscribed")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from wirewatch import runtime
    from wirewatch.usecases.subscriptions import confirm

    sub = confirm(args.token, token_key=runtime.token_key(), store=runtime.repository(), now=datetime.now(UTC))
    print(f"{sub.id}: {sub.status}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from wirewatch import runtime

    now = datetime.now(UTC)
    if args.send and not args.subscription:
        _print_json(runtime.run_digests(now).to_dict())
        return 0
    if args.send:
        sub, outcome = runtime.send_digest_now(args.subscription, now)
        print(f"{sub.id}: {outcome}")
        return 0
    since = now - parse_duration(args.since) if args.since else None
    preview = runtime.preview_digest(args.subscription, now, since)
    write_preview(Path(args.out), preview)
    print(f"{len(preview.stories)} stories; preview written to {args.out}/digest.html, digest.txt, slack.json")
    return 0


def write_preview(out: Path, preview: DigestPreview) -> None:
    """Write digest.html, digest.txt and slack.json of a digest preview."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "digest.html").write_text(preview.email.html, encoding="utf-8")
    (out / "digest.txt").write_text(f"Subject: {preview.email.subject}\n\n{preview.email.text}", encoding="utf-8")
    (out / "slack.json").write_text(json.dumps(list(preview.slack), ensure_ascii=False, indent=2), encoding="utf-8")


def _local_store() -> SqliteStore:
    """The SQLite store, or a UsageError for the commands that only make sense on one machine."""
    from wirewatch import runtime
    from wirewatch.adapters.local.sqlite import SqliteStore

    if not runtime.is_local():
        raise UsageError("this command works on the local SQLite store (unset WIREWATCH_TABLE, or use --state)")
    store = runtime.repository()
    assert isinstance(store, SqliteStore)
    return store


def cmd_run(args: argparse.Namespace) -> int:
    from wirewatch.adapters.local.runner import Intervals, run_service

    _local_store()

    intervals = Intervals(
        poll=parse_duration(args.poll_every),
        digest=parse_duration(args.digest_every),
        purge=parse_duration(args.purge_every),
    )
    return run_service(intervals, once=args.once)


def cmd_backup(args: argparse.Namespace) -> int:
    store = _local_store()
    target = Path(args.file)
    if target.exists():
        raise UsageError(f"{target} exists; choose a new file name")
    store.backup(target)
    print(f"backed up {store.path} to {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    print(f"purged {_local_store().purge_expired()} expired rows")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from wirewatch.api.serve import serve

    serve(port=args.port, host=args.host)
    return 0


class _PrintVersion(argparse.Action):
    """--version: the installed version, looked up only when asked (importlib.metadata costs ~45 ms a command)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import version

        parser.exit(message=f"wirewatch {version('wirewatch')}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="wirewatch", description=__doc__)
    parser.add_argument("--version", action=_PrintVersion, nargs=0, help="print the version and exit")
    parser.set_defaults(state=None)
    sub = parser.add_subparsers(dest="command", required=True)
    # --state is accepted after any (sub)command; SUPPRESS keeps a nested parser from resetting it.
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state",
        default=argparse.SUPPRESS,
        help="state directory (SQLite store, secrets, outbox); default: $WIREWATCH_STATE_DIR or the user's data dir",
    )

    def with_state(name: str, parent: Any = sub, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, parents=[state], **kwargs)
        return parser

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
    add.add_argument("--language", default="en", help="ISO 639-1 code of the feed (default: %(default)s)")
    remove = with_state("remove", fsub)
    remove.add_argument("id")

    items = with_state("items", help="relevant items, newest first")
    items.add_argument("--topic", choices=TOPICS, help="only this topic")
    items.add_argument("--since", default="24h", help="how far back, e.g. 90m, 24h, 30d, 2w (default: %(default)s)")
    items.add_argument("--limit", type=positive_int, default=200, help="at most this many items (default: %(default)s)")
    items.add_argument("--json", action="store_true")
    items.set_defaults(func=cmd_items, aws=True)

    reclass = with_state("reclassify", help="re-run the current rules over stored items")
    reclass.add_argument("--since", default="30d", help="how far back to re-run the rules (default: %(default)s)")
    reclass.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    reclass.set_defaults(func=cmd_reclassify, aws=True)

    subscribe = with_state("subscribe", help="subscribe an email address, a Slack webhook or channel, or a webhook URL")
    subscribe.add_argument("channel", choices=("email", "slack", "slack-app", "webhook"))
    subscribe.add_argument(
        "target", help="email address, Slack incoming-webhook URL, Slack channel id (slack-app) or webhook URL"
    )
    subscribe.add_argument("--token", help="slack-app: the bot token (xoxb-...), or - to read it from stdin")
    subscribe.add_argument(
        "--topics", default=",".join(TOPICS), help="comma-separated: missile,sanctions (default: %(default)s)"
    )
    subscribe.add_argument(
        "--cadence",
        default="daily",
        choices=CADENCES,
        help="digest cadence, or immediate alerts (default: %(default)s)",
    )
    subscribe.add_argument("--at", help="daily digest time HH:MM in --tz (default 08:00)")
    subscribe.add_argument("--tz", default="UTC", help="IANA time zone, e.g. Asia/Tokyo (default: %(default)s)")
    subscribe.add_argument(
        "--min-severity", default="normal", choices=SEVERITIES[1:], help="least severity sent (default: %(default)s)"
    )
    subscribe.add_argument("--quiet", help="quiet hours HH:MM-HH:MM in --tz, e.g. 22:00-07:00")
    subscribe.add_argument(
        "--no-urgent-in-quiet-hours", action="store_true", help="hold urgent alerts during quiet hours too"
    )
    subscribe.add_argument("--json", action="store_true")
    subscribe.set_defaults(func=cmd_subscribe, aws=True)

    subscriptions = with_state("subscriptions", help="list subscriptions and their status")
    subscriptions.add_argument("--json", action="store_true")
    subscriptions.set_defaults(func=cmd_subscriptions, aws=True)

    unsubscribe = with_state("unsubscribe", help="stop all messages to a subscription")
    unsubscribe.add_argument("id")
    unsubscribe.set_defaults(func=cmd_unsubscribe, aws=True)

    confirm = with_state("confirm", help="confirm an email subscription with the token from its link")
    confirm.add_argument("token")
    confirm.set_defaults(func=cmd_confirm, aws=True)

    digest = with_state("digest", help="preview or send digests")
    digest.add_argument("--subscription", help="subscription id (default: a preview of every topic)")
    mode = digest.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="write digest.html, digest.txt, slack.json")
    mode.add_argument("--send", action="store_true", help="send now (all due digests without --subscription)")
    digest.add_argument("--out", default="out/digest", help="preview directory (default: %(default)s)")
    digest.add_argument("--since", help="preview window, e.g. 24h (default: since the last digest)")
    digest.set_defaults(func=cmd_digest, aws=True)

    serve = with_state("serve", help="run the HTTP API locally (no auth; loopback only)")
    serve.add_argument("--port", type=int, default=3000, help="TCP port (default: %(default)s)")
    serve.add_argument("--host", default="127.0.0.1", help="a loopback address (default: %(default)s)")
    serve.set_defaults(func=cmd_serve, aws=True)

    run = with_state("run", help="the whole service on this machine, in the foreground: poll, alert, digest, purge")
    run.add_argument("--once", action="store_true", help="run one cycle and exit")
    run.add_argument("--poll-every", default="2m", help="how often due feeds are polled (default: %(default)s)")
    run.add_argument("--digest-every", default="15m", help="how often due digests are sent (default: %(default)s)")
    run.add_argument("--purge-every", default="1h", help="how often expired rows are deleted (default: %(default)s)")
    run.set_defaults(func=cmd_run, aws=True)

    backup = with_state("backup", help="copy the local database to FILE, safely while wirewatch runs")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup, aws=True)

    purge = with_state("purge", help="delete expired rows from the local database now")
    purge.set_defaults(func=cmd_purge, aws=True)

    classify = sub.add_parser("classify", help="classify JSON lines (id, title, summary, lang) from FILE or stdin")
    classify.add_argument("file", nargs="?")
    classify.add_argument("--explain", action="store_true", help="human-readable explanation")
    classify.set_defaults(func=cmd_classify, aws=False)
    return parser


def _logs_to_stderr() -> None:
    from wirewatch.logs import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
        handler.setStream(sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand, translating domain errors to messages and exit codes."""
    from wirewatch.errors import NotFound, StoreError, ValidationError, WirewatchError
    from wirewatch.tokens import InvalidToken

    args = build_parser().parse_args(argv)
    if not os.environ.get("POWERTOOLS_LOG_LEVEL"):
        # The structured logs are for CloudWatch; at a terminal only warnings and errors are worth showing.
        from wirewatch.logs import logger

        logger.setLevel("WARNING")
    # Log lines go to stderr, so they never mix into what a command prints (or its --json).
    _logs_to_stderr()
    func: Callable[[argparse.Namespace], int] = args.func
    if args.state is not None:
        from wirewatch import runtime

        os.environ["WIREWATCH_STATE_DIR"] = args.state
        os.environ.setdefault("WIREWATCH_STORE", "sqlite")
        runtime.reset()
    try:
        if getattr(args, "aws", False):
            from wirewatch import runtime

            runtime.ensure_table()
        return func(args)
    except (UsageError, FeedListError, ConfigError, ValidationError, InvalidToken, OSError) as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"wirewatch: no subscription {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"wirewatch: storage failed: {exc}", file=sys.stderr)
        return 3
    except WirewatchError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
