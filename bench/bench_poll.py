"""Poll benchmark: 100 loopback feeds x 25 items, 300 ms each, against wirewatch, its peers and baselines.

Everything talks to 127.0.0.1 only: the feeds come from the loopback FeedServer and wirewatch
runs in local mode (its embedded moto server is loopback too). Peers that cannot be installed
here get a "not available" row instead of failing the run.
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

try:  # the loopback server moved out of tests/support; accept either home
    from loopback.feed_server import FeedServer, Request, Response
except ImportError:
    from tests.support.feed_server import FeedServer, Request, Response  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
FEEDS = 100
ITEMS = 25
DELAY = 0.3
PEERS_VENV = Path("/tmp/wirewatch-bench-peers")
GNU_TIME = Path("/usr/bin/time")
# Every child process is bounded; a peer that hangs becomes a row that says so.
CHILD_TIMEOUT = 90.0
HANDLERS = {path.parent.name: path for path in sorted((REPO / "functions").glob("*/app.py"))}
IMPORT_RUNS = 5


@dataclass
class Row:
    """One line of the results table."""

    name: str
    wall: float | None
    goal: str = ""
    notes: str = ""
    ok: bool | None = None  # None: no goal to meet


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


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: exit code, wall time, peak RSS and its output."""

    code: int
    wall: float
    max_rss_mb: float | None
    stdout: str
    stderr: str


# ---------------------------------------------------------------------------------------------- feeds

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


def feed_body(index: int, now: datetime) -> bytes:
    """RSS 2.0 for feed index: 25 distinct items published in the last hours, a few about the DPRK."""
    rng = random.Random(index)
    desk = _DESKS[index % len(_DESKS)]
    items = []
    for n in range(ITEMS):
        published = now - timedelta(minutes=7 * n + rng.randint(0, 6))
        if n % 9 == 4:
            title, summary = _DPRK[(index + n) % len(_DPRK)]
            summary = summary.format(day=format_datetime(published)[:3])
        else:
            topic = rng.choice(_TOPICS)
            title = f"Wire story {index * ITEMS + n} about {topic} from {desk}"
            summary = (
                f"Officials in {desk} said on {format_datetime(published)[:3]} that {topic} would be "
                f"reviewed again next week. Analysts quoted by the desk expect little change, "
                f"while opposition lawmakers called for a fuller inquiry (item {n} of feed {index})."
            )
        guid = f"bench-{index:03d}-{n:02d}"
        items.append(
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
        f"<lastBuildDate>{format_datetime(now)}</lastBuildDate>{''.join(items)}</channel></rss>\n"
    ).encode()


def feed_route(body: bytes, modified: datetime, traffic: Traffic) -> Callable[[Request], Response]:
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
            return Response(304, {"ETag": etag, "Last-Modified": last_modified}, b"", delay=DELAY)
        return Response(200, headers, body, delay=DELAY)

    return handle


# ---------------------------------------------------------------------------------------- processes


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
    env.update({"HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


def mb(value: float | None) -> str:
    return "RSS not measured" if value is None else f"{value:.0f} MB"


def tail(text: str, lines: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])[:200]


# ------------------------------------------------------------------------------------------ subjects


def bench_floor(urls: Sequence[str], traffic: Traffic, concurrency: int | None = None) -> Row:
    """Every URL with httpx.AsyncClient, all at once or concurrency at a time: the wall time nothing can beat."""
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

    traffic.reset()
    start = time.perf_counter()
    sizes = asyncio.run(fetch_all())
    wall = time.perf_counter() - start
    if concurrency is None:
        notes = f"{len(sizes)} bodies, in-process; {traffic.summary()}"
        return Row("raw concurrent fetch (floor)", wall, "~0.6", notes)
    return Row(
        f"  same, {concurrency} at once (wirewatch's default)",
        wall,
        "",
        f"floor of any poll at this limit: {-(-len(urls) // concurrency)} waves of {DELAY * 1000:.0f} ms",
    )


def bench_emulator_puts(urls: Sequence[str], work: Path) -> Row:
    """The local store's own cost: the first cycle's 2,500 conditional puts, nothing else, 16 at once.

    The items are the benchmark's own, parsed and classified beforehand; the emulator is the one
    local mode starts (a background moto server), on a fresh state directory.
    """
    from concurrent.futures import ThreadPoolExecutor

    import botocore.session

    from wirewatch import emulator, local
    from wirewatch.adapters.aws.dynamodb.feeds_items import FeedItemStore
    from wirewatch.classify import classify
    from wirewatch.config import Settings
    from wirewatch.feeds.parse import parse_feed
    from wirewatch.models import Feed
    from wirewatch.usecases import build_items

    now = datetime.now(UTC)
    settings = Settings(table_name=emulator.TABLE)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    items = []
    for index, url in enumerate(urls):
        feed = Feed(id=f"f{index}", url=url, name=f"f{index}")
        entries = parse_feed(feed_body(index, now), headers, url, summary_max=settings.summary_max_chars).entries
        items += build_items(feed, entries, classify=classify, settings=settings, now=now)
    state = work / "emulator-only"
    endpoint = local.start_emulator(state)
    try:
        client = botocore.session.get_session().create_client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        store = FeedItemStore(client, emulator.TABLE)
        expires = now + timedelta(days=14)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            stored = sum(pool.map(lambda item: store.put_item_if_new(item, expires), items))
        wall = time.perf_counter() - start
    finally:
        local.stop_emulator(state)
    return Row(
        f"local store alone: {len(items)} conditional puts",
        wall,
        "",
        f"{stored} stored, {len(items) / wall:.0f} puts/s; the floor of a first cycle in local mode",
    )


def bench_sequential(urls: Sequence[str], traffic: Traffic) -> Row:
    """feedparser.parse(url) one feed after another: what a naive cron script does."""
    import feedparser

    traffic.reset()
    start = time.perf_counter()
    entries = sum(len(feedparser.parse(u).entries) for u in urls)
    wall = time.perf_counter() - start
    return Row("sequential feedparser baseline", wall, "~31", f"{entries} entries; {traffic.summary()}")


def wirewatch_argv() -> list[str]:
    script = Path(sys.executable).parent / "wirewatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "wirewatch.cli"]


def wirewatch_env(work: Path, **extra: str) -> dict[str, str]:
    """Local mode (no endpoint, no table name) with loopback feeds allowed."""
    env = base_env(work)
    for name in ("AWS_ENDPOINT_URL", "WIREWATCH_TABLE", "AWS_PROFILE"):
        env.pop(name, None)
    env["WIREWATCH_ALLOW_LOOPBACK"] = "1"
    env.update(extra)
    return env


def stop_emulator(state: Path) -> None:
    """Stop the background emulator a local-mode command left for state (it outlives the command)."""
    subprocess.run([*wirewatch_argv(), "local", "stop", "--state", str(state)], capture_output=True, timeout=60)


def bench_wirewatch(urls: Sequence[str], urls_file: Path, work: Path, traffic: Traffic) -> list[Row]:
    """`wirewatch poll` in local mode: fixed cost on one feed, then two cycles of all feeds on fresh state.

    A third, unchanged cycle with WIREWATCH_CONCURRENCY=100 shows how much of cycle 2 is the
    default limit of 32 feeds at once (4 waves of 300 ms).
    """
    one_file = work / "one-feed.txt"
    one_file.write_text(urls[0] + "\n")
    traffic.reset()
    one = run_child(
        [*wirewatch_argv(), "poll", "--feeds", str(one_file), "--state", str(work / "ww-one"), "--json"],
        wirewatch_env(work),
        REPO,
    )
    rows = [
        Row(
            "wirewatch poll, 1 feed (fixed cost)",
            one.wall,
            "",
            f"exit {one.code}; imports, emulator start (first command), 0.3 s feed delay",
        )
    ]
    stop_emulator(work / "ww-one")
    state = work / "wirewatch-state"
    argv = [*wirewatch_argv(), "poll", "--feeds", str(urls_file), "--state", str(state), "--json"]
    peaks: list[float | None] = []
    for cycle, extra in ((1, {}), (2, {}), (3, {"WIREWATCH_CONCURRENCY": "100"})):
        traffic.reset()
        run = run_child(argv, wirewatch_env(work, **extra), REPO)
        peaks.append(run.max_rss_mb)
        goal, limit = ("<= 2.0", 2.0) if cycle == 1 else ("<= 1.0", 1.0)
        name = {
            1: "wirewatch poll, cycle 1",
            2: "wirewatch poll, cycle 2 (unchanged)",
            3: "  same, WIREWATCH_CONCURRENCY=100",
        }[cycle]
        if run.code != 0:
            rows.append(Row(name, run.wall, goal, f"FAILED exit {run.code}: {tail(run.stderr)}", False))
            continue
        report = json.loads(run.stdout)
        notes = (
            f"fetched {report.get('fetched')}, 304 {report.get('not_modified')}, failed {report.get('failed')}, "
            f"new {report.get('new_items')}, relevant {report.get('relevant_items')}; {traffic.summary()}"
        )
        ok = run.wall <= limit and report.get("failed") == 0
        if cycle > 1:
            ok = ok and traffic.bodies == 0 and report.get("new_items") == 0
            notes += "; no body sent" if traffic.bodies == 0 else f"; {traffic.bodies} BODIES SENT"
        rows.append(Row(name, run.wall, goal, notes, None if cycle == 3 else ok))
    emulator_mb = emulator_peak_mb(state)
    stop_emulator(state)
    # Shown in the numbers column: it is MB, not seconds.
    peak = None if None in peaks else max(p for p in peaks if p is not None)
    rss_notes = "the wirewatch process, max of the cycles" if peak else "not measured: no GNU time at /usr/bin/time"
    rows.append(Row("wirewatch peak RSS (MB)", peak, "<= 200", rss_notes, None if peak is None else peak <= 200))
    rows.append(Row("  local AWS emulator RSS (MB)", emulator_mb, "", "the background moto process (local mode only)"))
    return rows


def emulator_peak_mb(state: Path) -> float:
    """Peak RSS of the background emulator serving state (VmHWM), 0 when it is not running."""
    try:
        pid = json.loads((state / "emulator.json").read_text())["pid"]
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, KeyError):
        return 0.0
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kb / 1024


class _MemoryStore:
    """The poll use case's store port in a dict: what the pipeline costs without any AWS emulator."""

    def __init__(self) -> None:
        self.items: dict[str, object] = {}
        self.stories: dict[str, object] = {}

    def existing_item_ids(self, item_ids: object) -> set[str]:
        return {i for i in item_ids if i in self.items}  # type: ignore[attr-defined]

    def put_item_if_new(self, item: object, expires_at: object) -> bool:
        return self.items.setdefault(item.id, item) is item  # type: ignore[attr-defined]

    def save_feeds(self, feeds: object) -> None:
        pass

    def stories_seen_between(self, since: object, until: object, limit: object = None) -> list[object]:
        return list(self.stories.values())

    def save_story(self, story: object, previous: object) -> None:
        self.stories[story.id] = story  # type: ignore[attr-defined]


def bench_pipeline(urls: Sequence[str], traffic: Traffic) -> list[Row]:
    """The same poll use case in-process with an in-memory store: fetch, parse, classify, cluster."""
    from wirewatch.classify import classify
    from wirewatch.config import Settings
    from wirewatch.feeds.fetch import FetchLimits, fetch_each
    from wirewatch.models import Feed
    from wirewatch.usecases import poll

    rows = []
    for concurrency in (32, 100):
        store = _MemoryStore()
        settings = Settings(table_name="memory", allow_loopback=True, concurrency=concurrency)
        limits = FetchLimits(concurrency=concurrency, allow_loopback=True)
        feeds = [Feed(id=f"f{i}", url=u, name=f"f{i}") for i, u in enumerate(urls)]
        traffic.reset()
        start = time.perf_counter()
        report = poll(
            feeds,
            store=store,
            fetch=lambda fs, limits=limits: fetch_each(fs, limits),
            classify=classify,
            settings=settings,
            now=datetime.now(UTC),
        )
        wall = time.perf_counter() - start
        rows.append(
            Row(
                f"poll pipeline, in-memory store, concurrency {concurrency}",
                wall,
                "",
                f"no emulator: what wirewatch itself costs; new {report.new_items}, relevant {report.relevant_items}",
            )
        )
    return rows


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


def bench_newsboat(urls: Sequence[str], work: Path, traffic: Traffic) -> list[Row]:
    """newsboat -x reload, twice, with its own urls file, cache and config in a temp dir."""
    try:
        binary = install_newsboat()
    except (OSError, subprocess.SubprocessError) as exc:
        binary, reason = None, str(exc)
    else:
        reason = "apt-get install newsboat failed or not root"
    if binary is None:
        return [Row("newsboat -x reload", None, "", f"not available: {reason}")]
    home = work / "newsboat"
    home.mkdir()
    (home / "urls").write_text("\n".join(urls) + "\n")
    # Same concurrency as wirewatch's default (newsboat's own default is 1 thread: ~31 s).
    (home / "config").write_text("reload-threads 32\ndownload-timeout 30\nshow-read-feeds yes\n")
    argv = [binary, "-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config")]
    rows = []
    for cycle in (1, 2):
        traffic.reset()
        run = run_child([*argv, "-x", "reload"], base_env(home), home)
        status = "ok" if run.code == 0 else f"exit {run.code}: {tail(run.stderr or run.stdout)}"
        rows.append(
            Row(
                f"newsboat -x reload, cycle {cycle}",
                run.wall,
                "",
                f"{status}; reload-threads 32; {mb(run.max_rss_mb)}; {traffic.summary()}",
            )
        )
    return rows


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


def bench_rss2email(urls: Sequence[str], work: Path, traffic: Traffic) -> Row:
    """r2e run --no-send (first cycle only: it fetches one feed at a time, ~31 s a cycle)."""
    r2e, reason = install_rss2email()
    if r2e is None:
        return Row("rss2email run --no-send", None, "", f"not available: {reason}")
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
            return Row("rss2email run --no-send", None, "", f"not available: {step[0]}: {tail(setup.stderr)}")
    traffic.reset()
    run = run_child([*base, "run", "--no-send"], env, home)
    status = "ok" if run.code == 0 else f"exit {run.code}: {tail(run.stderr)}"
    return Row(
        "rss2email run --no-send, cycle 1",
        run.wall,
        "",
        f"{status}; sequential; {mb(run.max_rss_mb)}; {traffic.summary()}",
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
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update({"WIREWATCH_TABLE": "bench-table", "AWS_DEFAULT_REGION": "us-east-1"})
    if lean:
        env["BENCH_BLOCK_IMPORTS"] = ",".join(NOT_DEPLOYED)
    return env


def heaviest_imports(path: Path, top: int = 5) -> str:
    """Third-party and stdlib packages with the largest cumulative import time (python -X importtime)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _IMPORT_PROBE, str(path)],
        env=import_env(),
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


def bench_imports() -> list[Row]:
    """Cold import of each handler module, each in a fresh interpreter (median of a few).

    The lean rows hide packages that only the dev venv has (awscrt makes botocore load the CRT;
    rich and click make httpx load its command line), so they approximate the deployed function:
    the poll goal is judged there.
    """
    rows = []
    runs = [(name, path, lean) for name, path in HANDLERS.items() for lean in (False, True)]
    for name, path, lean in runs:
        label = f"import {name} handler" + (", lean" if lean else "")
        samples, info = [], {}
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
                rows.append(Row(label, None, "", f"FAILED: {tail(run.stderr)}", False))
                break
            info = json.loads(run.stdout)
            samples.append(info["seconds"])
        else:
            seconds = statistics.median(samples)
            jinja = "jinja2" in info["loaded"]
            notes = f"{info['modules']} modules; jinja2 {'IMPORTED' if jinja else 'not imported'}"
            if lean:
                notes += f"; without {', '.join(NOT_DEPLOYED)} (not in the layer)"
            else:
                notes += f"; heaviest ms: {heaviest_imports(path)}"
            judged = name == "poll" and lean
            ok = seconds <= 0.4 and not jinja if judged else None
            rows.append(Row(label, seconds, "<= 0.40" if judged else "", notes, ok))
    return rows


# ---------------------------------------------------------------------------------------------- main


def print_table(rows: Sequence[Row]) -> None:
    width = max(len(r.name) for r in rows)
    print(f"\n{'name':<{width}} | {'wall s':>7} | {'goal':<7} | {'met':<4} | notes")
    print(f"{'-' * width}-+-{'-' * 7}-+-{'-' * 7}-+-{'-' * 4}-+-{'-' * 40}")
    for r in rows:
        wall = "   -   " if r.wall is None else f"{r.wall:7.2f}"
        met = "" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"{r.name:<{width}} | {wall} | {r.goal:<7} | {met:<4} | {r.notes}")


def main() -> None:
    """Run the poll benchmark and print one table."""
    print(f"poll bench: {FEEDS} loopback feeds x {ITEMS} items, every response delayed {DELAY * 1000:.0f} ms")
    load = os.getloadavg()[0]
    print(f"  load average {load:.1f} on {os.cpu_count()} CPUs (other work on the machine makes the times noisy)")
    rows: list[Row] = []
    t0 = time.perf_counter()
    print("  importing handlers ...", flush=True)
    rows += bench_imports()
    now = datetime.now(UTC)
    traffic = Traffic()
    with FeedServer() as server, tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmp:
        work = Path(tmp)
        urls = []
        for i in range(FEEDS):
            path = f"/feeds/{i:03d}.xml"
            server.route(path, feed_route(feed_body(i, now), now - timedelta(minutes=5), traffic))
            urls.append(server.url(path))
        urls_file = work / "feeds.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        steps: list[tuple[str, Callable[[], Row | list[Row]]]] = [
            ("raw concurrent fetch", lambda: bench_floor(urls, traffic)),
            ("raw concurrent fetch, 32 at once", lambda: bench_floor(urls, traffic, concurrency=32)),
            ("wirewatch poll", lambda: bench_wirewatch(urls, urls_file, work, traffic)),
            ("poll pipeline without the emulator", lambda: bench_pipeline(urls, traffic)),
            ("the local store alone", lambda: bench_emulator_puts(urls, work)),
            ("newsboat x2", lambda: bench_newsboat(urls, work, traffic)),
            ("rss2email", lambda: bench_rss2email(urls, work, traffic)),
            ("sequential feedparser (~31 s)", lambda: bench_sequential(urls, traffic)),
        ]
        for label, step in steps:
            print(f"  {label} ...", flush=True)
            result = step()
            rows += result if isinstance(result, list) else [result]
        print(f"  feed server: max {server.max_in_flight} requests in flight")
    print_table(rows)
    print(f"\n(wall s of the RSS row is MB; whole bench took {time.perf_counter() - t0:.0f} s)")
    missed = [r.name for r in rows if r.ok is False]
    print("goals: all met" if not missed else "goals missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
