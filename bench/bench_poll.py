"""Poll benchmark: 100 loopback feeds x 25 items, 300 ms each: wirewatch on SQLite beside its baselines.

Every goal row is printed beside a baseline measured in the same run, on the same feeds: the raw
concurrent-fetch floor at wirewatch's own concurrency, rss2email, newsboat, a sequential
feedparser loop. Everything talks to 127.0.0.0/8 only: the feeds come from the loopback
FeedServer, spread over 127.0.0.1..25 (four feeds a host, wirewatch's per-host limit), and
wirewatch runs in local mode on a fresh SQLite state directory. Peers that cannot be installed here
get a "not available" row instead of failing the run.

The cheap rows (floor, wirewatch cycles) run BENCH_RUNS times (default 3), interleaved, so each
figure is a range over runs on a shared machine; verdicts are judged on the median.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from loopback.feed_server import FeedServer, Request, Response

REPO = Path(__file__).resolve().parents[1]
FEEDS = 100
ITEMS = 25
DELAY = 0.3
HOSTS = 25  # 127.0.0.1 .. 127.0.0.25, four feeds each
PEERS_VENV = Path("/tmp/wirewatch-bench-peers")
GNU_TIME = Path("/usr/bin/time")
# Every child process is bounded; a peer that hangs becomes a row that says so.
CHILD_TIMEOUT = 120.0
HANDLERS = {path.parent.name: path for path in sorted((REPO / "functions").glob("*/app.py"))}
IMPORT_RUNS = 5
IMPORT_GOAL = 0.3
FIRST_CYCLE_RATIO = 1.5  # x the floor at the same concurrency
UNCHANGED_SLACK = 0.4  # s over the floor
RSS2EMAIL_SPEEDUP = 10.0
NEWSBOAT_SPEEDUP = 3.0


def runs() -> int:
    """How many times the cheap rows run (BENCH_RUNS, default 3)."""
    return max(1, int(os.environ.get("BENCH_RUNS", "3")))


# ---------------------------------------------------------------------------------------------- table


@dataclass
class Row:
    """One line of a results table: what was measured, beside what, against which goal."""

    name: str
    measured: str
    baseline: str = ""
    goal: str = ""
    ok: bool | None = None  # None: no goal on this row
    notes: str = ""


def span(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    """'1.23 s' for one value, '1.23–1.41 s' for several (min–max)."""
    if not values:
        return "-"
    low, high = min(values), max(values)
    text = (
        f"{low:.{digits}f}"
        if len(values) == 1 or f"{low:.{digits}f}" == f"{high:.{digits}f}"
        else (f"{low:.{digits}f}–{high:.{digits}f}")
    )
    return f"{text} {unit}".rstrip()


def print_table(title: str, rows: Sequence[Row]) -> None:
    """One table: name | measured | baseline | goal | verdict, each row's notes on the line below."""
    heads = ("", "measured", "baseline", "goal", "verdict")
    cells = [
        (r.name, r.measured, r.baseline, r.goal, "" if r.ok is None else ("met" if r.ok else "MISSED")) for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = " | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    print(f"\n{title}\n{line}\n" + "-+-".join("-" * w for w in widths))
    for row, cell in zip(rows, cells, strict=True):
        print(" | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip())
        if row.notes:
            print(f"    {row.notes}")
    missed = [r.name.strip() for r in rows if r.ok is False]
    judged = sum(r.ok is not None for r in rows)
    print(f"goals: {judged - len(missed)}/{judged} met" + (f"; missed: {'; '.join(missed)}" if missed else ""))


# ---------------------------------------------------------------------------------------------- feeds


@dataclass
class Traffic:
    """What the feed server sent, counted per phase."""

    requests: int = 0
    bodies: int = 0
    body_bytes: int = 0
    not_modified: int = 0
    conditional: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests = self.bodies = self.body_bytes = self.not_modified = self.conditional = 0

    def summary(self) -> str:
        return (
            f"{self.requests} req ({self.conditional} conditional), {self.bodies} bodies "
            f"({self.body_bytes / 1e6:.1f} MB), {self.not_modified}x304"
        )


_DESKS = ["Tokyo", "Seoul", "Beijing", "Washington", "Brussels", "Manila", "Taipei", "Canberra"]
_TOPICS = [
    "rice prices",
    "the yen",
    "a typhoon warning",
    "port congestion",
    "chip exports",
    "a rail strike",
    "the central bank",
    "tourism numbers",
    "a cabinet reshuffle",
    "fishing quotas",
    "an election count",
    "wildfire smoke",
]
_DPRK = [
    (
        "North Korea fires ballistic missile into the Sea of Japan, Seoul says",
        "North Korea launched a short-range ballistic missile from near Pyongyang on {day}, South "
        "Korea's Joint Chiefs of Staff said. Japan's coast guard said it fell outside its exclusive "
        "economic zone after flying about 350 km.",
    ),
    (
        "Pyongyang test-fires suspected ICBM, Japan issues alert",
        "North Korea fired what appeared to be an intercontinental ballistic missile on {day}, "
        "prompting Japan to warn residents in Hokkaido. KCNA later said Kim Jong Un oversaw the launch.",
    ),
    (
        "U.S. Treasury sanctions firms over North Korean oil transfers",
        "The Treasury designated three shipping companies it accused of ship-to-ship transfers "
        "of refined petroleum to North Korea in violation of UN Security Council sanctions.",
    ),
]


def feed_body(index: int, now: datetime, items: int = ITEMS) -> bytes:
    """RSS 2.0 for feed index: distinct items published in the last hours, a few about the DPRK."""
    rng = random.Random(index)
    desk = _DESKS[index % len(_DESKS)]
    entries = []
    for n in range(items):
        published = now - timedelta(minutes=7 * n + rng.randint(0, 6))
        if n % 9 == 4:
            title, summary = _DPRK[(index + n) % len(_DPRK)]
            summary = summary.format(day=format_datetime(published)[:3])
        else:
            topic = rng.choice(_TOPICS)
            title = f"Wire story {index * items + n} about {topic} from {desk}"
            summary = (
                f"Officials in {desk} said on {format_datetime(published)[:3]} that {topic} would be "
                f"reviewed again next week. Analysts quoted by the desk expect little change, "
                f"while opposition lawmakers called for a fuller inquiry (item {n} of feed {index})."
            )
        guid = f"bench-{index:03d}-{n:02d}"
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://wire{index:03d}.example.com/news/{guid}?utm_source=rss</link>"
            f'<guid isPermaLink="false">{guid}</guid>'
            f"<description>{escape(summary)}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench Wire {index:03d} ({desk})</title><link>https://wire{index:03d}.example.com/</link>"
        f"<description>Synthetic wire feed for the poll benchmark</description>"
        f"<lastBuildDate>{format_datetime(now)}</lastBuildDate>{''.join(entries)}</channel></rss>\n"
    ).encode()


def feed_route(
    body: bytes, modified: datetime, traffic: Traffic, delay: float = DELAY
) -> Callable[[Request], Response]:
    """A route answering 304 to a matching If-None-Match / If-Modified-Since, else the body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    last_modified = format_datetime(modified, usegmt=True)
    headers = {
        "Content-Type": "application/rss+xml; charset=utf-8",
        "ETag": etag,
        "Last-Modified": last_modified,
    }

    def handle(request: Request) -> Response:
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        fresh = (inm is not None and etag in inm) or (inm is None and ims == last_modified)
        with traffic.lock:
            traffic.requests += 1
            traffic.conditional += inm is not None or ims is not None
            if fresh:
                traffic.not_modified += 1
            else:
                traffic.bodies += 1
                traffic.body_bytes += len(body)
        if fresh:
            return Response(304, {"ETag": etag, "Last-Modified": last_modified}, b"", delay=delay)
        return Response(200, headers, body, delay=delay)

    return handle


def serve_feeds(
    server: FeedServer, traffic: Traffic, now: datetime, feeds: int = FEEDS, delay: float = DELAY
) -> list[str]:
    """Register the bench feeds on server, spread over its hosts in turn; their URLs."""
    urls = []
    hosts = len(server.hosts)
    for i in range(feeds):
        path = f"/feeds/{i:03d}.xml"
        server.route(path, feed_route(feed_body(i, now), now - timedelta(minutes=5), traffic, delay))
        urls.append(server.url(path, host=i % hosts))
    return urls


# ---------------------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: exit code, wall time, peak RSS and its output."""

    code: int
    wall: float
    max_rss_mb: float | None
    stdout: str
    stderr: str


def run_child(argv: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = CHILD_TIMEOUT) -> ChildRun:
    """Run argv, returning its wall time and its own peak RSS.

    The RSS comes from GNU time, which starts the command from its own small process: os.wait4 on a
    child of this process reports this process's (larger) peak, because a spawned child runs in the
    parent's address space until it execs. Without GNU time the RSS is not measured (None).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rss:
        wrapped = [str(GNU_TIME), "-o", rss.name, "-f", "%M", *argv] if GNU_TIME.exists() else list(argv)
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the command too, not only GNU time
            proc.wait()
        wall = time.perf_counter() - start
        words = Path(rss.name).read_text().split()  # "Command exited with non-zero status N" may come first
        out.seek(0)
        err.seek(0)
        return ChildRun(
            code=proc.returncode,
            wall=wall,
            max_rss_mb=int(words[-1]) / 1024 if words and words[-1].isdigit() else None,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def base_env(home: Path) -> dict[str, str]:
    """The bench process environment, minus anything that would point a child off this machine."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    loopback = "127.0.0.1,localhost,127.0.0.0/8"
    env.update({"HOME": str(home), "NO_PROXY": loopback, "no_proxy": loopback})
    return env


def wirewatch_argv() -> list[str]:
    script = Path(sys.executable).parent / "wirewatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "wirewatch.cli"]


def wirewatch_env(work: Path, **extra: str) -> dict[str, str]:
    """Local mode on SQLite (no endpoint, no table name) with loopback feeds allowed."""
    env = base_env(work)
    for name in ("AWS_ENDPOINT_URL", "WIREWATCH_TABLE", "AWS_PROFILE", "WIREWATCH_STATE_DIR"):
        env.pop(name, None)
    env["WIREWATCH_STORE"] = "sqlite"
    env["WIREWATCH_ALLOW_LOOPBACK"] = "1"
    env.update(extra)
    return env


def wirewatch_limits() -> tuple[int, int]:
    """(concurrency, per-host connections) a wirewatch child of this bench uses."""
    from wirewatch.config import Settings

    settings = Settings.from_env(wirewatch_env(Path(tempfile.gettempdir())))
    return settings.concurrency, settings.per_host_connections


def mb(value: float | None) -> str:
    return "RSS not measured" if value is None else f"{value:.0f} MB"


def tail(text: str, lines: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])[:200]


def item_rows(state: Path) -> tuple[int, str]:
    """(item rows, newest first_seen) of a state dir's database, read-only: what a poll wrote."""
    from wirewatch.adapters.local.sqlite import DATABASE_FILE

    db = sqlite3.connect(f"file:{state / DATABASE_FILE}?mode=ro", uri=True)
    try:
        count, newest = db.execute("SELECT count(*), max(first_seen) FROM items").fetchone()
    finally:
        db.close()
    return int(count), str(newest)


# ------------------------------------------------------------------------------------------ subjects


def fetch_floor(urls: Sequence[str], concurrency: int | None = None) -> float:
    """Seconds to GET every URL with httpx.AsyncClient in-process, concurrency at a time (None: all)."""
    import httpx

    at_once = concurrency or len(urls)

    async def fetch_all() -> list[int]:
        semaphore = asyncio.Semaphore(at_once)
        limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=at_once)
        async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=10) as client:

            async def one(url: str) -> int:
                async with semaphore:
                    return len((await client.get(url)).content)

            return await asyncio.gather(*(one(u) for u in urls))

    start = time.perf_counter()
    sizes = asyncio.run(fetch_all())
    wall = time.perf_counter() - start
    assert len(sizes) == len(urls) and all(sizes)
    return wall


@dataclass
class Cycles:
    """wirewatch's two cycles and the floor, measured run after run (interleaved)."""

    floor: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    unchanged: list[float] = field(default_factory=list)
    first_notes: str = ""
    unchanged_notes: str = ""
    first_clean: bool = True  # every feed fetched, every item stored
    unchanged_clean: bool = True  # no body sent, no item written, nothing failed
    rss: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def bench_cycles(urls: Sequence[str], urls_file: Path, work: Path, traffic: Traffic, concurrency: int) -> Cycles:
    """Per run: the floor at wirewatch's concurrency, then `wirewatch poll` cycle 1 (fresh state) and cycle 2."""
    found = Cycles()
    for n in range(runs()):
        traffic.reset()
        found.floor.append(fetch_floor(urls, concurrency))
        state = work / f"wirewatch-state-{n}"
        argv = [*wirewatch_argv(), "poll", "--feeds", str(urls_file), "--state", str(state), "--json"]
        for cycle in (1, 2):
            before = item_rows(state) if cycle == 2 else (0, "")
            traffic.reset()
            run = run_child(argv, wirewatch_env(work), REPO)
            if run.max_rss_mb is not None:
                found.rss.append(run.max_rss_mb)
            if run.code != 0:
                found.failures.append(f"cycle {cycle}: exit {run.code}: {tail(run.stderr)}")
                break
            report = json.loads(run.stdout)
            after = item_rows(state)
            notes = (
                f"fetched {report['fetched']}, 304 {report['not_modified']}, failed {report['failed']}, "
                f"new items {report['new_items']} (item rows {before[0]} -> {after[0]}), "
                f"relevant {report['relevant_items']}; server: {traffic.summary()}"
            )
            if cycle == 1:
                found.first.append(run.wall)
                found.first_notes = notes
                found.first_clean &= report["failed"] == 0 and after[0] == FEEDS * ITEMS
            else:
                found.unchanged.append(run.wall)
                found.unchanged_notes = notes
                found.unchanged_clean &= (
                    report["failed"] == 0 and report["new_items"] == 0 and traffic.bodies == 0 and after == before
                )
    return found


def cycle_rows(found: Cycles, concurrency: int, per_host: int) -> list[Row]:
    """The first-cycle and unchanged-cycle goals, each beside the floor of the same runs."""
    floor = span(found.floor)
    if found.failures:
        return [Row("wirewatch poll", "FAILED", f"floor {floor}", "", False, "; ".join(found.failures))]
    ratios = [w / f for w, f in zip(found.first, found.floor, strict=False)]
    overs = [w - f for w, f in zip(found.unchanged, found.floor, strict=False)]
    first_ok = statistics.median(ratios) <= FIRST_CYCLE_RATIO and found.first_clean
    unchanged_ok = statistics.median(overs) <= UNCHANGED_SLACK and found.unchanged_clean
    label = f"concurrency {concurrency}, {per_host} per host"
    return [
        Row(
            "raw concurrent fetch (floor)",
            floor,
            "",
            "",
            None,
            f"httpx in-process, {concurrency} at once: {-(-FEEDS // concurrency)} waves of {DELAY * 1000:.0f} ms",
        ),
        Row(
            "wirewatch poll, first cycle",
            f"{span(found.first)} = {span(ratios, 'x')}",
            f"floor {floor}",
            f"<= {FIRST_CYCLE_RATIO:g}x floor",
            first_ok,
            f"fresh SQLite state dir, {label}, a new process each; {found.first_notes}",
        ),
        Row(
            "wirewatch poll, unchanged cycle",
            f"{span(found.unchanged)} = floor + {span(overs)}",
            f"floor {floor}",
            f"<= floor + {UNCHANGED_SLACK:g} s",
            unchanged_ok,
            f"no body sent, no item row written: {'yes' if found.unchanged_clean else 'NO'}; {found.unchanged_notes}",
        ),
    ]


class _MemoryStore:
    """The poll use case's store port in a dict: what the pipeline costs with no database at all."""

    def __init__(self) -> None:
        self.items: dict[str, object] = {}
        self.stories: dict[str, object] = {}

    def existing_item_ids(self, item_ids: object) -> set[str]:
        return {i for i in item_ids if i in self.items}  # type: ignore[attr-defined]

    def put_item_if_new(self, item: object, expires_at: object) -> bool:
        return self.items.setdefault(item.id, item) is item  # type: ignore[attr-defined]

    def put_items_if_new(self, items: list[tuple[object, object]]) -> list[bool]:
        return [self.put_item_if_new(item, expires_at) for item, expires_at in items]

    def save_feeds(self, feeds: object) -> None:
        pass

    def stories_seen_between(self, since: object, until: object, limit: object = None) -> list[object]:
        return list(self.stories.values())

    def save_story(self, story: object, previous: object) -> None:
        self.stories[story.id] = story  # type: ignore[attr-defined]


def bench_breakdown(urls: Sequence[str], work: Path, concurrency: int, per_host: int) -> list[Row]:
    """Where a first cycle's time goes, in-process: the pipeline on a dict, then on SQLite; the store's puts alone."""
    from wirewatch.adapters.local.sqlite import SqliteStore
    from wirewatch.classify import classify
    from wirewatch.config import Settings
    from wirewatch.feeds.fetch import FetchLimits, fetch_each
    from wirewatch.feeds.parse import parse_feed
    from wirewatch.models import Feed
    from wirewatch.usecases import build_items, poll

    settings = Settings(store="sqlite", allow_loopback=True, concurrency=concurrency, per_host_connections=per_host)
    limits = FetchLimits(concurrency=concurrency, per_host=per_host, allow_loopback=True)
    feeds = [Feed(id=f"f{i}", url=u, name=f"f{i}") for i, u in enumerate(urls)]
    rows = []
    for label, store in (
        ("in-memory dict", _MemoryStore()),
        ("SQLite", SqliteStore(work / "breakdown.db")),
    ):
        start = time.perf_counter()
        report = poll(
            feeds,
            store=store,  # type: ignore[arg-type]
            fetch=lambda fs: fetch_each(fs, limits),
            classify=classify,
            settings=settings,
            now=datetime.now(UTC),
        )
        wall = time.perf_counter() - start
        rows.append(
            Row(
                f"  in-process poll, {label} store",
                span([wall]),
                "",
                "",
                None,
                f"no interpreter start-up; new {report.new_items}, relevant {report.relevant_items}",
            )
        )
    now = datetime.now(UTC)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    items = []
    for index, feed in enumerate(feeds):
        entries = parse_feed(feed_body(index, now), headers, feed.url, summary_max=settings.summary_max_chars).entries
        items += build_items(feed, entries, classify=classify, settings=settings, now=now)
    store = SqliteStore(work / "puts-only.db")
    expires = now + timedelta(days=14)
    start = time.perf_counter()
    stored = sum(store.put_item_if_new(item, expires) for item in items)
    wall = time.perf_counter() - start
    store.close()
    rows.append(
        Row(
            f"  SQLite store alone: {len(items)} put_item_if_new",
            span([wall]),
            "",
            "",
            None,
            f"{stored} stored, {len(items) / wall:,.0f} puts/s, one transaction each (the emulator did 200-290/s)",
        )
    )
    return rows


def bench_per_host(server: FeedServer, per_host: int) -> Row:
    """The politeness limit held during the wirewatch runs: most requests one host saw at once."""
    busiest = max(server.max_in_flight_by_host.values(), default=0)
    return Row(
        "most requests in flight to one host",
        str(busiest),
        "",
        f"<= {per_host}",
        busiest <= per_host,
        f"{len(server.hosts)} loopback hosts, {FEEDS // len(server.hosts)} feeds each; max in flight overall "
        f"{server.max_in_flight} (includes the floor and the peers, which have no per-host limit)",
    )


def install_newsboat() -> str | None:
    """Path of newsboat, installing the Debian package once if needed; None when it cannot be had."""
    found = shutil.which("newsboat")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "newsboat"]):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(argv, env=env, capture_output=True, timeout=300).returncode != 0:
            return None
    return shutil.which("newsboat")


def bench_newsboat(urls: Sequence[str], work: Path, traffic: Traffic, concurrency: int) -> list[ChildRun | str]:
    """newsboat -x reload, twice, at wirewatch's concurrency, with its own urls, cache and config."""
    try:
        binary = install_newsboat()
    except (OSError, subprocess.SubprocessError) as exc:
        return [f"not available: {exc}"]
    if binary is None:
        return ["not available: apt-get install newsboat failed or not root"]
    home = work / "newsboat"
    home.mkdir()
    (home / "urls").write_text("\n".join(urls) + "\n")
    # The same concurrency as wirewatch (newsboat's own default is 1 thread: ~31 s).
    (home / "config").write_text(f"reload-threads {concurrency}\ndownload-timeout 30\nshow-read-feeds yes\n")
    argv = [binary, "-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config")]
    found: list[ChildRun | str] = []
    for _cycle in (1, 2):
        traffic.reset()
        run = run_child([*argv, "-x", "reload"], base_env(home), home)
        found.append(run if run.code == 0 else f"exit {run.code}: {tail(run.stderr or run.stdout)}")
        found.append(traffic.summary())
    return found


def install_rss2email() -> tuple[Path | None, str]:
    """r2e from a throwaway venv under /tmp, created on first use."""
    r2e = PEERS_VENV / "bin" / "r2e"
    if r2e.exists():
        return r2e, ""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True, capture_output=True)
        pip = subprocess.run(
            [str(PEERS_VENV / "bin" / "pip"), "install", "-q", "rss2email"], capture_output=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, str(exc)
    if pip.returncode != 0 or not r2e.exists():
        return None, tail(pip.stderr.decode(errors="replace"))
    return r2e, ""


def bench_rss2email(urls: Sequence[str], work: Path, traffic: Traffic) -> tuple[ChildRun | None, str]:
    """r2e run --no-send, first cycle (it fetches one feed at a time, ~31 s a cycle)."""
    r2e, reason = install_rss2email()
    if r2e is None:
        return None, f"not available: {reason}"
    home = work / "rss2email"
    home.mkdir()
    env = base_env(home)
    cfg, data = home / "r2e.cfg", home / "r2e.json"
    base = [str(r2e), "-c", str(cfg), "-d", str(data)]
    outlines = "".join(f'<outline type="rss" text="bench{i:03d}" xmlUrl="{u}"/>' for i, u in enumerate(urls))
    (home / "feeds.opml").write_text(f'<?xml version="1.0"?><opml version="1.0"><body>{outlines}</body></opml>')
    for step in (["new", "bench@example.invalid"], ["opmlimport", str(home / "feeds.opml")]):
        setup = run_child([*base, *step], env, home)
        if setup.code != 0:
            return None, f"not available: {step[0]}: {tail(setup.stderr)}"
    traffic.reset()
    run = run_child([*base, "run", "--no-send"], env, home)
    if run.code != 0:
        return None, f"exit {run.code}: {tail(run.stderr)}"
    return run, f"sequential; {mb(run.max_rss_mb)}; server: {traffic.summary()}"


def bench_sequential(urls: Sequence[str], traffic: Traffic) -> tuple[float, str]:
    """feedparser.parse(url) one feed after another: what a naive cron script does."""
    import feedparser

    traffic.reset()
    start = time.perf_counter()
    entries = sum(len(feedparser.parse(u).entries) for u in urls)
    return time.perf_counter() - start, f"{entries} entries; server: {traffic.summary()}"


def peer_rows(
    first: Sequence[float],
    unchanged: Sequence[float],
    rss2email: tuple[ChildRun | None, str],
    newsboat: list[ChildRun | str],
    sequential: tuple[float, str],
    concurrency: int,
) -> list[Row]:
    """wirewatch's cycles against each peer's, as speed-ups (peer time / wirewatch time)."""
    ww_first = statistics.median(first) if first else None
    ww_unchanged = statistics.median(unchanged) if unchanged else None
    rows = []
    r2e, r2e_notes = rss2email
    if r2e is None or ww_first is None:
        rows.append(
            Row("vs rss2email run --no-send, cycle 1", "-", "", f">= {RSS2EMAIL_SPEEDUP:g}x faster", None, r2e_notes)
        )
    else:
        speedup = r2e.wall / ww_first
        rows.append(
            Row(
                "vs rss2email run --no-send, cycle 1",
                f"{speedup:.1f}x faster",
                f"rss2email {span([r2e.wall])}",
                f">= {RSS2EMAIL_SPEEDUP:g}x faster",
                speedup >= RSS2EMAIL_SPEEDUP,
                f"wirewatch median {ww_first:.2f} s; rss2email {r2e_notes}",
            )
        )
    if isinstance(newsboat[0], str):
        rows.append(Row("vs newsboat -x reload", "-", "", f">= {NEWSBOAT_SPEEDUP:g}x faster", None, newsboat[0]))
        return rows
    for cycle, ww, offset in ((1, ww_first, 0), (2, ww_unchanged, 2)):
        run, served = newsboat[offset], newsboat[offset + 1]
        name = f"vs newsboat -x reload, cycle {cycle}" + (" (unchanged)" if cycle == 2 else "")
        if isinstance(run, str) or ww is None:
            rows.append(Row(name, "-", "", "", None, str(run)))
            continue
        speedup = run.wall / ww
        rows.append(
            Row(
                name,
                f"{speedup:.1f}x faster",
                f"newsboat {span([run.wall])}",
                f">= {NEWSBOAT_SPEEDUP:g}x faster" if cycle == 1 else "",
                speedup >= NEWSBOAT_SPEEDUP if cycle == 1 else None,
                f"wirewatch median {ww:.2f} s; newsboat reload-threads {concurrency}, {mb(run.max_rss_mb)}; "
                f"server: {served}",
            )
        )
    seconds, notes = sequential
    rows.append(
        Row(
            "vs sequential feedparser loop",
            "-" if ww_first is None else f"{seconds / ww_first:.1f}x faster",
            f"loop {span([seconds])}",
            "",
            None,
            notes,
        )
    )
    return rows


def rss_row(found: Cycles) -> Row:
    peak = max(found.rss) if found.rss else None
    return Row(
        "wirewatch poll peak RSS",
        "not measured" if peak is None else span(found.rss, "MB", 0),
        "",
        "<= 150 MB",
        None if peak is None else peak <= 150,
        "the wirewatch process (GNU time), every cycle above; no background process is left behind",
    )


# Packages in the dev venv but not in the deployed layer or the Lambda runtime; "lean" hides them.
NOT_DEPLOYED = ("awscrt", "rich", "click", "pygments")
_IMPORT_PROBE = """
import importlib.util, json, os, sys, time
blocked = set(filter(None, os.environ.get("BENCH_BLOCK_IMPORTS", "").split(",")))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"blocked by the bench: {name}", name=name)
sys.meta_path.insert(0, Block())
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "modules": len(sys.modules),
                  "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def import_env(lean: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "WIREWATCH_STORE")}
    env.update({"WIREWATCH_TABLE": "bench-table", "AWS_DEFAULT_REGION": "us-east-1"})
    if lean:
        env["BENCH_BLOCK_IMPORTS"] = ",".join(NOT_DEPLOYED)
    return env


def heaviest_imports(path: Path, top: int = 4) -> str:
    """Third-party and stdlib packages with the largest cumulative import time (python -X importtime)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _IMPORT_PROBE, str(path)],
        env=import_env(lean=True),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    costs: dict[str, int] = {}
    for line in run.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| +(\S+)", line)
        if match:
            # A package's largest cumulative figure is its first, complete import.
            name = match.group(2).split(".")[0]
            costs[name] = max(costs.get(name, 0), int(match.group(1)))
    ranked = sorted(
        ((n, us) for n, us in costs.items() if n not in ("wirewatch", "encodings", "site")), key=lambda kv: -kv[1]
    )
    return ", ".join(f"{name} {us / 1000:.0f}" for name, us in ranked[:top])


def import_samples(path: Path, lean: bool) -> tuple[list[float], dict[str, object], str]:
    """Cold imports of a handler module, each in a fresh interpreter; (seconds, last probe output, error)."""
    samples: list[float] = []
    info: dict[str, object] = {}
    for _ in range(IMPORT_RUNS):
        run = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE, str(path)],
            env=import_env(lean),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if run.returncode != 0:
            return samples, info, tail(run.stderr)
        info = json.loads(run.stdout)
        samples.append(float(info["seconds"]))  # type: ignore[arg-type]
    return samples, info, ""


def bench_imports() -> list[Row]:
    """Cold import of each handler module (lean: without the dev-only packages, like the deployed layer).

    The poll goal is judged on the lean run: awscrt makes botocore load the CRT and rich/click make
    httpx load its command line in the dev venv only. Its baseline is a bare interpreter's start.
    """
    bare = [run_child([sys.executable, "-c", "pass"], os.environ.copy(), REPO).wall for _ in range(IMPORT_RUNS)]
    rows = []
    for name, path in HANDLERS.items():
        samples, info, error = import_samples(path, lean=True)
        judged = name == "poll"
        label = f"import {name} handler"
        if error:
            rows.append(Row(label, "FAILED", "", "", False, error))
            continue
        loaded = info.get("loaded", [])
        jinja = "jinja2" in loaded  # type: ignore[operator]
        notes = f"{info['modules']} modules; jinja2 {'IMPORTED' if jinja else 'not imported'}"
        if judged:
            notes += f"; heaviest ms: {heaviest_imports(path)}"
        rows.append(
            Row(
                label,
                span(samples),
                f"python start {span(bare)}" if judged else "",
                f"<= {IMPORT_GOAL:g} s" if judged else "",
                statistics.median(samples) <= IMPORT_GOAL and not jinja if judged else None,
                notes,
            )
        )
    rows[0].notes += f"  (every row: {IMPORT_RUNS} fresh interpreters, without {', '.join(NOT_DEPLOYED)})"
    return rows


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    """Run the poll benchmark and print its tables."""
    concurrency, per_host = wirewatch_limits()
    print(
        f"poll bench: {FEEDS} loopback feeds x {ITEMS} items on {HOSTS} hosts, every response delayed "
        f"{DELAY * 1000:.0f} ms; wirewatch concurrency {concurrency}, {per_host} per host; {runs()} runs"
    )
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work makes the times noisy)")
    t0 = time.perf_counter()
    print("  importing handlers ...", flush=True)
    import_rows = bench_imports()
    now = datetime.now(UTC)
    traffic = Traffic()
    with FeedServer(hosts=HOSTS) as server, tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmp:
        work = Path(tmp)
        urls = serve_feeds(server, traffic, now)
        urls_file = work / "feeds.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        print("  floor and wirewatch poll cycles ...", flush=True)
        found = bench_cycles(urls, urls_file, work, traffic, concurrency)
        per_host_row = bench_per_host(server, per_host)
        print("  in-process breakdown ...", flush=True)
        breakdown = bench_breakdown(urls, work, concurrency, per_host)
        print("  newsboat x2 ...", flush=True)
        newsboat = bench_newsboat(urls, work, traffic, concurrency)
        print("  rss2email (~31 s) ...", flush=True)
        rss2email = bench_rss2email(urls, work, traffic)
        print("  sequential feedparser (~31 s) ...", flush=True)
        sequential = bench_sequential(urls, traffic)
    print_table(
        f"poll: {FEEDS} feeds x {ITEMS} items at {DELAY * 1000:.0f} ms, wirewatch on SQLite",
        [
            *cycle_rows(found, concurrency, per_host),
            per_host_row,
            rss_row(found),
            *peer_rows(found.first, found.unchanged, rss2email, newsboat, sequential, concurrency),
            *breakdown,
        ],
    )
    print_table("poll handler import (deployed packages)", import_rows)
    print(f"\n(poll bench took {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
