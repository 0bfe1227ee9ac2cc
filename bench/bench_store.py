"""Store scale benchmark: the commands a user runs, on a small SQLite store and on one of 1,000,000 items.

Both stores are seeded through the store's public methods (put_item_if_new, save_story), then the
same loopback poll (100 feeds x 25 items, no delay) writes the last day's items into each. Each
command then runs in a fresh process, as a user runs it, alternately on the small and the big store:
`items --since 24h`, an unchanged `poll`, `digest --preview`. Start-up (`--version`, `feeds` on an
empty state dir), peak RSS, a purge of 100,000 expired rows and the file size per 100k items follow.

WIREWATCH_BENCH_ITEMS sets the big store's size (default 1,000,000: seeding takes minutes);
BENCH_RUNS how many times each command runs (default 3).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bench_poll import (
    REPO,
    ChildRun,
    Row,
    Traffic,
    print_table,
    run_child,
    runs,
    serve_feeds,
    span,
    tail,
    wirewatch_argv,
    wirewatch_env,
)
from loopback.feed_server import FeedServer
from wirewatch.adapters.local.sqlite import DATABASE_FILE, SqliteStore
from wirewatch.models import Classification, Evidence, Item, Story, StorySource

SMALL = 1_000
PURGE = 100_000
SAME_WITHIN = 0.5  # s: big store vs small, per command
STARTUP_GOAL = 0.3
RSS_GOAL = 150.0
PURGE_GOAL = 5.0
HISTORY_DAYS = 365
RELEVANT_EVERY = 12  # one item in 12 is relevant, as on a wire desk
STORY_EVERY = 3  # relevant items per story


def big_size() -> int:
    return int(os.environ.get("WIREWATCH_BENCH_ITEMS", "1000000").replace("_", ""))


_EVIDENCE = (
    Evidence("missile.launch.en", "missile", "fired a ballistic missile", 3.0),
    Evidence("missile.actor.en", "missile", "North Korea", 1.0),
)


def history_item(n: int, now: datetime, rng: random.Random, *, expired: bool = False) -> tuple[Item, datetime]:
    """Item n of the seeded history (older than a day) and its expiry; every RELEVANT_EVERY-th is relevant."""
    age = timedelta(days=1, seconds=rng.randrange((HISTORY_DAYS - 1) * 86_400))
    published = now - age - timedelta(days=400 if expired else 0)
    relevant = n % RELEVANT_EVERY == 0
    feed = n % 200
    classification = (
        Classification(
            topics=("missile",),
            scores={"missile": 4.0},
            severity="high" if n % 5 else "urgent",
            severity_reason="a launch",
            evidence=_EVIDENCE,
            facts={"missile_class": "SRBM", "count": 1 + n % 3},
        )
        if relevant
        else Classification()
    )
    item = Item(
        id=f"{'x' if expired else 'h'}{n:09d}",
        feed_id=f"hist-{feed:03d}",
        source=f"Seeded Wire {feed:03d}",
        title=f"Seeded wire story {n} about {'a DPRK launch' if relevant else 'the regional economy'}",
        link=f"https://seed{feed:03d}.example.com/news/{n}",
        summary=(
            f"Officials said on day {age.days} that the matter would be reviewed again next week; "
            f"analysts expect little change (seeded item {n})."
        ),
        published=published,
        first_seen=published + timedelta(minutes=3),
        language="en",
        classification=classification,
    )
    # Expired rows lie in the past; live ones outlive the bench (a year of relevant and other items).
    expires = now - timedelta(days=1) if expired else published + timedelta(days=HISTORY_DAYS + 35)
    return item, expires


def story_for(items: list[Item]) -> Story:
    """A story clustering these relevant items (several sources about one event)."""
    first = items[0]
    return Story(
        id=f"st-{first.id}",
        headline=first.title,
        topics=first.classification.topics,
        severity=first.classification.severity,
        severity_reason="seeded",
        first_seen=min(i.first_seen for i in items),
        last_seen=max(i.first_seen for i in items),
        sources=tuple(StorySource(i.id, i.source, i.title, i.link, i.published) for i in items),
        facts=dict(first.classification.facts),
        evidence=first.classification.evidence,
    )


@dataclass
class Seeded:
    """A seeded state directory: how many rows of each kind, and how long seeding took."""

    state: Path
    items: int
    stories: int
    seconds: float
    relevant: int = 0


def seed(state: Path, count: int, now: datetime, *, expired: bool = False, seed_value: int = 9) -> Seeded:
    """count items (and a story per STORY_EVERY relevant ones) through SqliteStore's public methods."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = SqliteStore(state / DATABASE_FILE)
    rng = random.Random(seed_value)
    stories = relevant = 0
    pending: list[Item] = []
    started = time.perf_counter()
    report_every = max(count // 10, 1)
    try:
        for n in range(count):
            item, expires = history_item(n, now, rng, expired=expired)
            stored = store.put_item_if_new(item, expires)
            if stored and item.relevant and not expired:
                relevant += 1
                pending.append(item)
                if len(pending) == STORY_EVERY:
                    store.save_story(story_for(pending), None)
                    stories += 1
                    pending = []
            if count >= 100_000 and (n + 1) % report_every == 0:
                rate = (n + 1) / (time.perf_counter() - started)
                print(f"    {n + 1:>9,} / {count:,} items ({rate:,.0f}/s)", flush=True)
    finally:
        store.close()
    return Seeded(state, count, stories, time.perf_counter() - started, relevant)


def db_bytes(state: Path) -> int:
    """The database file with its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in state.glob(f"{DATABASE_FILE}*"))


@dataclass
class Timings:
    """Wall seconds and peak RSS of one command on each store, run after run."""

    small: list[float] = field(default_factory=list)
    big: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    output: str = ""


def run_command(argv: list[str], work: Path) -> ChildRun:
    return run_child([*wirewatch_argv(), *argv], wirewatch_env(work), REPO)


def compare(name: str, argv_for: Callable[[Path], list[str]], small: Path, big: Path, work: Path) -> Timings:
    """The command on the small store, then the big one, runs() times; fresh processes each."""
    found = Timings()
    for _ in range(runs()):
        for state, walls in ((small, found.small), (big, found.big)):
            run = run_command(argv_for(state), work)
            if run.code != 0:
                found.errors.append(f"exit {run.code}: {tail(run.stderr)}")
                continue
            walls.append(run.wall)
            found.output = tail(run.stdout, 1)
            if run.max_rss_mb is not None:
                found.rss.append(run.max_rss_mb)
    return found


def compare_row(name: str, found: Timings, size: int) -> Row:
    if found.errors or not found.small or not found.big:
        return Row(name, "FAILED", "", "", False, "; ".join(found.errors[:2]))
    gap = statistics.median(found.big) - statistics.median(found.small)
    return Row(
        f"{name}, {size:,} items",
        f"{span(found.big)} (median {gap:+.2f} s)",
        f"small store {span(found.small)}",
        f"<= small + {SAME_WITHIN:g} s",
        gap <= SAME_WITHIN,
        f"fresh process each; output: {found.output}",
    )


def startup_rows(work: Path) -> tuple[list[Row], list[float]]:
    """`wirewatch --version` and `wirewatch feeds` on a new, empty state dir, beside a bare interpreter's start."""
    bare = [run_child([sys.executable, "-c", "pass"], os.environ.copy(), REPO) for _ in range(runs())]
    rows, rss = [], [r.max_rss_mb for r in bare if r.max_rss_mb]
    for label, argv_for in (
        ("wirewatch --version", lambda n: ["--version"]),
        ("wirewatch feeds, empty state dir", lambda n: ["feeds", "--state", str(work / f"empty-{n}")]),
    ):
        walls, errors = [], []
        for n in range(runs()):
            run = run_command(argv_for(n), work)
            if run.code != 0:
                errors.append(f"exit {run.code}: {tail(run.stderr)}")
                continue
            walls.append(run.wall)
            if run.max_rss_mb:
                rss.append(run.max_rss_mb)
        if errors or not walls:
            rows.append(Row(label, "FAILED", "", "", False, "; ".join(errors[:2])))
            continue
        rows.append(
            Row(
                f"start-up: {label}",
                span(walls),
                f"python -c pass {span([r.wall for r in bare])}",
                f"<= {STARTUP_GOAL:g} s",
                statistics.median(walls) <= STARTUP_GOAL,
                "a new process each (the state dir is created, the schema migrated)" if "feeds" in label else "",
            )
        )
    return rows, rss


def purge_row(state: Path, count: int, work: Path, label: str, baseline: str = "") -> tuple[Row, float]:
    """Seed count expired items into state, then time `wirewatch purge` in a fresh process."""
    seeded = seed(state, count, datetime.now(UTC), expired=True, seed_value=11)
    run = run_command(["purge", "--state", str(state)], work)
    match = re.search(r"purged (\d+)", run.stdout)
    purged = int(match.group(1)) if match else -1
    ok = run.code == 0 and purged >= count and run.wall <= PURGE_GOAL
    return (
        Row(
            f"purge {count:,} expired rows, {label}",
            span([run.wall]),
            baseline,
            f"<= {PURGE_GOAL:g} s" if baseline != "-" else "",
            ok,
            f"exit {run.code}; {purged:,} rows purged; expired rows seeded in {seeded.seconds:.0f} s"
            + ("" if run.code == 0 else f"; {tail(run.stderr)}"),
        ),
        run.wall,
    )


def main() -> None:
    """Seed a small and a big store, time the user's commands on both, and print one table."""
    size = big_size()
    print(f"store bench: SQLite, small store {SMALL:,} items vs big store {size:,} items; {runs()} runs")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work makes the times noisy)")
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    traffic = Traffic()
    rows: list[Row] = []
    with FeedServer(hosts=25) as server, tempfile.TemporaryDirectory(prefix="wirewatch-bench-store-") as tmp:
        work = Path(tmp)
        print(f"  seeding the small store ({SMALL:,} items) ...", flush=True)
        small = seed(work / "small", SMALL, now)
        print(f"  seeding the big store ({size:,} items, through put_item_if_new/save_story) ...", flush=True)
        big = seed(work / "big", size, now)
        # The feeds answer at once: these rows measure the store's share, not the network's.
        urls = serve_feeds(server, traffic, now, delay=0.0)
        feeds_file = work / "feeds.txt"
        feeds_file.write_text("\n".join(urls) + "\n")
        seeded_note = (
            f"big store seeded in {big.seconds:.0f} s ({size / big.seconds:,.0f} items/s, {big.relevant:,} relevant, "
            f"{big.stories:,} stories); small in {small.seconds:.1f} s"
        )
        print("  first poll of each store (the last day's 2,500 items) ...", flush=True)
        first = {}
        for seeded in (small, big):
            run = run_command(["poll", "--feeds", str(feeds_file), "--state", str(seeded.state)], work)
            first[seeded.state.name] = run
            if run.code != 0:
                print(f"    first poll failed on {seeded.state.name}: {tail(run.stderr)}")
        size_bytes = db_bytes(big.state)
        print("  timing commands on both stores ...", flush=True)
        commands: list[tuple[str, Callable[[Path], list[str]]]] = [
            ("items --since 24h", lambda s: ["items", "--since", "24h", "--state", str(s)]),
            ("poll, unchanged", lambda s: ["poll", "--feeds", str(feeds_file), "--state", str(s)]),
            (
                "digest --preview --since 24h",
                lambda s: ["digest", "--preview", "--since", "24h", "--out", str(s / "preview"), "--state", str(s)],
            ),
        ]
        rss: list[float] = []
        for name, argv_for in commands:
            found = compare(name, argv_for, small.state, big.state, work)
            rows.append(compare_row(name, found, size))
            rss += found.rss
        rows[0].notes += f"; {seeded_note}"
        start_rows, start_rss = startup_rows(work)
        rows += start_rows
        rss += start_rss
        peak = max(rss) if rss else None
        rows.append(
            Row(
                "peak RSS of every command above",
                "not measured" if peak is None else span(rss, "MB", 0),
                "",
                f"<= {RSS_GOAL:g} MB",
                None if peak is None else peak <= RSS_GOAL,
                "GNU time, each process; first polls: "
                + ", ".join(f"{k} {v.max_rss_mb or 0:.0f} MB" for k, v in first.items()),
            )
        )
        per_100k = size_bytes / (size + 2_500) * 100_000
        rows.append(
            Row(
                "database size per 100k items",
                f"{per_100k / 1e6:.1f} MB",
                f"{size_bytes / 1e6:,.0f} MB for {size + 2_500:,} items",
                "",
                None,
                f"with {big.stories:,} stories; one JSON document per item plus four indexed columns",
            )
        )
        print(f"  purge of {PURGE:,} expired rows, small store then big ...", flush=True)
        small_purge, small_wall = purge_row(small.state, PURGE, work, f"among {SMALL:,}", "-")
        small_purge.ok = None
        big_purge, _ = purge_row(big.state, PURGE, work, f"among {size:,}", f"small store {small_wall:.2f} s")
        rows += [big_purge, small_purge]
    print_table(f"store: SQLite, {SMALL:,} vs {size:,} items, commands in fresh processes", rows)
    print(f"\n(store bench took {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
