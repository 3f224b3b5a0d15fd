"""Benchmark: 50 finance officers at once on the workplace's dashboard and tables pages.

What it measures: the web app started exactly as `juesuan serve` starts it (in a process of its
own, on 127.0.0.1 at a free port: several gunicorn processes by default, see
juesuan.web.commands.server_plan) over PostgreSQL, with the bundled example loaded as the demo
unit. Each simulated user signs in through the login form with its own account and session,
then, on one connection (kept open while the server keeps it, as a browser does), asks for the year's dashboard and a table page in turn (the
table rotates through the format's 14 tables) for a fixed number of rounds. Two scenarios run
one after the other by default: no pause between requests (the hard case: every user clicking
without stop) and a 1 s pause (a realistic office); `--think` chooses others. Every request is
timed from sending to the last byte of the body; the report gives requests per second and
p50/p95/p99 per page and scenario, `--repeat` runs each scenario several times.

The first dashboard and tables request after start-up, which reads and checks the stored
workbook once (the app caches the result per file), is timed apart as "cold"; then one untimed
round lets every server process do the same (`--no-warmup` measures from the first request). The sign-ins are timed apart too
(PBKDF2 hashes each password on purpose). The load generator runs on the same machine and
takes its share of the cores; its threads hand Python's lock over every 0.5 ms (not the
default 5 ms), so a response that has arrived is read at once rather than timed while it waits.

The database is a fresh PostgreSQL database made for the run and dropped after it
(postgres://postgres@127.0.0.1:5432 by default, or --postgres URL of the server); when no
PostgreSQL server answers, SQLite in a temporary folder is used and the report says so.

Bounded: loopback only, `--users` × `--rounds` × 2 requests per scenario, and each scenario
stops at `--deadline` seconds whatever is left.

Floor: the same users, rounds and connections on the home page (signed in, nothing of a
dataset read or drawn), without pause, after the scenarios. The headline is the slower page's
p95 in the first run of the shortest pause, against the floor's p95.

Target (printed beside the figures, not asserted): p95 under 200 ms for each page.

Run:
    make bench
    python bench/web_load.py                        # no pause, then 1 s pause
    python bench/web_load.py --users 20 --rounds 5 --workers 3 --threads 4
    python bench/web_load.py --think 0 --repeat 3   # the hard case, three times
    python bench/web_load.py --json                 # one JSON line per scenario run
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from summary import summary_line

HOST = "127.0.0.1"  # loopback only, by design
TARGET_P95_MS = 200.0
SESSION_COOKIE = "juesuan_session"
CSRF_COOKIE = "juesuan_csrftoken"
YEAR = 2020


# ---- the database ------------------------------------------------------------------------------


def fresh_postgres(server_url: str) -> tuple[str | None, str]:
    """(URL of a new empty database, note); (None, reason) when the server does not answer."""
    try:
        import psycopg
    except ImportError as exc:
        return None, f"psycopg missing: {exc}"
    name = f"juesuan_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        return None, f"PostgreSQL at {server_url} unreachable ({type(exc).__name__}: {exc})"
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, "")), name


def drop_postgres(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the world: the demo unit and one account per simulated user -------------------------------


def prepare_world(users: int) -> tuple[int, list[tuple[str, str]]]:
    """Migrate, load the example as the demo unit, make `users` 财务 accounts on it."""
    from juesuan.web.commands import prepare_demo, setup

    setup(migrate=True)
    from juesuan.web.accounts.models import FINANCE, Grant, Unit, User
    from juesuan.web.workplace.models import DatasetVersion

    prepare_demo()
    unit = Unit.objects.get(pk=DatasetVersion.objects.get(year=YEAR).unit_id)
    accounts = []
    for n in range(1, users + 1):
        username = f"load{n:02d}"
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(username, password=password, display_name=f"压测{n}")
        Grant.objects.create(user=user, unit=unit, role=FINANCE)
        accounts.append((username, password))
    from django.db import connections

    connections.close_all()
    return unit.pk, accounts


# ---- the server --------------------------------------------------------------------------------


SERVE = "import sys; from juesuan.cli import main; sys.exit(main(sys.argv[1:]))"


def server_command(port: int) -> list[str]:
    """`juesuan serve` on the port, as an administrator would start it."""
    return [sys.executable, "-c", SERVE, "serve", "--host", HOST, "--port", str(port)]


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of `root` and every process under it (Linux /proc; 0 elsewhere):
    what the server spent, whatever else the machine was doing."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        total += spent.get(pid, 0.0)
        frontier += [child for child, parent in parents.items() if parent == pid]
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_description() -> str:
    from juesuan.web.commands import server_plan

    return server_plan().describe()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start (exit {process.returncode})")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


# ---- one simulated user ------------------------------------------------------------------------


class Browser:
    """One user's connection (reopened when the server closes it) and cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Host": f"{HOST}:{self.port}", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, data.decode("utf-8", "replace")

    def sign_in(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
                "next": "",
            }
        )
        status, _ = self.request("POST", "/login/", form)
        if status != 302 or SESSION_COOKIE not in self.cookies:
            raise RuntimeError(f"sign-in of {username} failed: HTTP {status}")

    def close(self) -> None:
        self.conn.close()


def timed(browser: Browser, path: str, expect: str) -> tuple[float, bool]:
    started = time.perf_counter()
    status, page = browser.request("GET", path)
    elapsed = time.perf_counter() - started
    return elapsed, status == 200 and expect in page


# ---- the run -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def sign_in_all(port, unit_id, accounts) -> tuple[list[Browser], dict]:
    """Every user signed in at once (own session each), timed apart; then the cold requests."""
    dashboard = f"/u/{unit_id}/{YEAR}/"
    tables = f"/u/{unit_id}/{YEAR}/tables/"
    browsers = [Browser(port) for _ in accounts]
    errors: list[str] = []
    sign_in_times: list[float] = []
    lock = threading.Lock()

    def sign_in(browser, account):
        started = time.perf_counter()
        try:
            browser.sign_in(*account)
        except Exception as exc:
            with lock:
                errors.append(str(exc))
        with lock:
            sign_in_times.append(time.perf_counter() - started)

    started = time.perf_counter()
    workers = [
        threading.Thread(target=sign_in, args=pair) for pair in zip(browsers, accounts, strict=True)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    sign_in_wall = time.perf_counter() - started
    if errors:
        raise RuntimeError("sign-in failed: " + "; ".join(errors[:3]))

    # cold: the first request of each page reads and checks the workbook once (in one process)
    cold = {}
    cold["dashboard"], ok = timed(browsers[0], dashboard, "致命问题")
    began = time.perf_counter()
    status, page = browsers[0].request("GET", tables)
    cold["tables"] = time.perf_counter() - began
    table_ids = re.findall(r'href="\?t=([^"]+)"', page) or [""]
    if not (ok and status == 200 and "附表" in page):
        raise RuntimeError("the demo unit's pages did not render")
    return browsers, {
        "table_ids": table_ids,
        "cold_ms": {k: v * 1000 for k, v in cold.items()},
        "sign_in": {
            "wall_s": sign_in_wall,
            "p50_ms": percentile(sign_in_times, 50) * 1000,
            "max_ms": max(sign_in_times) * 1000,
        },
    }


def run_load(
    browsers, unit_id, table_ids, rounds, deadline_s, think_s=0.0, server_pid=0, floor=False
) -> dict:
    """Every user: dashboard then a table, `rounds` times (pausing `think_s` after each
    request), all starting together; stops at the deadline. The floor asks for the home page
    instead, twice a round: signed in, but nothing of a dataset read or drawn."""
    dashboard = f"/u/{unit_id}/{YEAR}/"
    tables = f"/u/{unit_id}/{YEAR}/tables/"
    names = ("home",) if floor else ("dashboard", "tables")
    lock = threading.Lock()
    samples: dict[str, list[float]] = {name: [] for name in names}
    failures = dict.fromkeys(names, 0)
    stop_at = time.monotonic() + deadline_s
    barrier = threading.Barrier(len(browsers) + 1)

    def requests(n: int, r: int) -> tuple[tuple[str, str, str], ...]:
        if floor:
            return (("home", "/", "</html>"),) * 2
        table = table_ids[(n + r) % len(table_ids)]
        return (
            ("dashboard", dashboard, "致命问题"),
            ("tables", f"{tables}?t={table}" if table else tables, "附表"),
        )

    def user(n: int, browser: Browser):
        mine: dict[str, list[float]] = {name: [] for name in names}
        bad = dict.fromkeys(names, 0)
        barrier.wait()
        if think_s:  # spread the users' first requests over one pause, as in an office
            time.sleep(think_s * n / len(browsers))
        for r in range(rounds):
            if time.monotonic() > stop_at:
                break
            for page_name, path, expect in requests(n, r):
                try:
                    elapsed, ok = timed(browser, path, expect)
                except Exception:
                    bad[page_name] += 1
                    continue
                mine[page_name].append(elapsed)
                if not ok:
                    bad[page_name] += 1
                if think_s:
                    time.sleep(think_s)
        with lock:
            for key in samples:
                samples[key] += mine[key]
                failures[key] += bad[key]

    workers = [threading.Thread(target=user, args=(n, b)) for n, b in enumerate(browsers)]
    for w in workers:
        w.start()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    server_before, client_before = process_tree_cpu(server_pid), own_cpu()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    server_cpu = process_tree_cpu(server_pid) - server_before
    client_cpu = own_cpu() - client_before

    pages = {}
    for key, values in samples.items():
        pages[key] = {
            "requests": len(values),
            "failed": failures[key],
            "rps": len(values) / wall if wall else 0.0,
            "p50_ms": percentile(values, 50) * 1000,
            "p95_ms": percentile(values, 95) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "max_ms": max(values) * 1000 if values else float("nan"),
        }
    total = sum(len(v) for v in samples.values())
    return {
        "users": len(browsers),
        "rounds": rounds,
        "think_s": think_s,
        "tables_rotated": len(table_ids),
        "wall_s": wall,
        "requests": total,
        "rps": total / wall if wall else 0.0,
        "stopped_by_deadline": time.monotonic() > stop_at,
        "pages": pages,
        # per request: what the server processes and this load generator spent on the CPU
        "server_cpu_ms": server_cpu / total * 1000 if total else float("nan"),
        "client_cpu_ms": client_cpu / total * 1000 if total else float("nan"),
        "load_average_before": load_before,
    }


def report_start(start: dict, users: int, database: str, server: str, warmup: bool) -> None:
    cache = "Redis page cache" if os.environ.get("JUESUAN_CACHE_URL") else "page cache in memory"
    print(f"web load: {users} users, juesuan serve ({server}, {cache}), {database}, 127.0.0.1")
    sign_in = start["sign_in"]
    print(
        f"  sign-in of {users} users at once: {sign_in['wall_s']:.1f} s "
        f"(p50 {sign_in['p50_ms']:.0f} ms, max {sign_in['max_ms']:.0f} ms; PBKDF2 per password)"
    )
    cold = start["cold_ms"]
    print(
        f"  cold (first request after start, one process): dashboard {cold['dashboard']:.0f} ms, "
        f"tables {cold['tables']:.0f} ms"
    )
    if warmup:
        print("  then one untimed round of every user (each process reads and draws once)")


def report(result: dict, run: int, runs: int) -> None:
    think = f"{result['think_s']:g} s pause" if result["think_s"] else "no pause"
    which = f" (run {run} of {runs})" if runs > 1 else ""
    print(
        f"  {think}{which}: {result['rounds']} rounds of dashboard + one of "
        f"{result['tables_rotated']} tables; {result['requests']} requests in "
        f"{result['wall_s']:.1f} s: {result['rps']:.1f} req/s"
        + ("  (stopped at the deadline)" if result["stopped_by_deadline"] else "")
    )
    print(
        f"    CPU per request: server {result['server_cpu_ms']:.1f} ms, load generator "
        f"{result['client_cpu_ms']:.1f} ms; load average before {result['load_average_before']:.1f}"
    )
    print(
        f"    {'page':<10} {'requests':>8} {'failed':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}   target p95 < {TARGET_P95_MS:.0f} ms"
    )
    for name, page in result["pages"].items():
        verdict = "met" if page["p95_ms"] < TARGET_P95_MS else "NOT met"
        print(
            f"    {name:<10} {page['requests']:>8} {page['failed']:>6} {page['rps']:>7.1f} "
            f"{page['p50_ms']:>8.0f} {page['p95_ms']:>8.0f} {page['p99_ms']:>8.0f} "
            f"{page['max_ms']:>8.0f}   {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    # 50 users are 50 threads of this process: a thread whose response has arrived waits for
    # Python's lock, by default up to 5 ms per hand-over, and that wait would be timed as the
    # server's. Handing over every 0.5 ms keeps the generator's own queueing out of the figures.
    sys.setswitchinterval(0.0005)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="dashboard + table pairs per user")
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[0.0, 1.0],
        help="seconds each user waits between requests; one scenario per value (default 0 1)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario")
    parser.add_argument(
        "--workers", type=int, help="server processes (JUESUAN_WEB_WORKERS; default: per core)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per process (JUESUAN_WEB_THREADS; default 1)"
    )
    parser.add_argument(
        "--cache-url",
        help="JUESUAN_CACHE_URL for the server, e.g. redis://127.0.0.1:6379/7 (default: none, "
        "each process keeps its own cache in memory)",
    )
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds; a run stops")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server on this machine; a fresh database is made and dropped",
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="measure from the first request (default: one untimed round first)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line per run")
    args = parser.parse_args(argv)
    if urlsplit(args.postgres).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be on this machine (127.0.0.1)")
    args.users = max(1, min(args.users, 200))
    args.rounds = max(1, min(args.rounds, 1000))
    args.repeat = max(1, min(args.repeat, 10))
    thinks = [max(0.0, min(t, 10.0)) for t in args.think]

    work = Path(tempfile.mkdtemp(prefix="juesuan-web-load-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JUESUAN_DATABASE_URL", "DATABASE_URL", "JUESUAN_BROKER_URL")
    }
    env.update(
        JUESUAN_DATA_DIR=str(work),
        JUESUAN_SECRET_KEY=secrets.token_urlsafe(40),
        JUESUAN_JOBS_MODE="sync",
        DJANGO_SETTINGS_MODULE="juesuan.web.settings",
    )
    if args.workers:
        env["JUESUAN_WEB_WORKERS"] = str(max(1, min(args.workers, 16)))
    if args.cache_url:
        if urlsplit(args.cache_url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error("--cache-url must be on this machine (127.0.0.1)")
        env["JUESUAN_CACHE_URL"] = args.cache_url
    if args.threads:
        env["JUESUAN_WEB_THREADS"] = str(max(1, min(args.threads, 64)))
    url, name_or_reason = fresh_postgres(args.postgres)
    if url is None:
        database = "SQLite (PostgreSQL not used: " + name_or_reason + ")"
        print(f"note: {name_or_reason}; falling back to SQLite", file=sys.stderr)
    else:
        env["JUESUAN_DATABASE_URL"] = url
        database = "PostgreSQL"
    os.environ.clear()
    os.environ.update(env)
    # a terminated run still stops its server and drops its database (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = None
    browsers: list[Browser] = []
    log = (work / "server.log").open("w")
    try:
        unit_id, accounts = prepare_world(args.users)
        description = server_description()
        port = free_port()
        server = subprocess.Popen(
            server_command(port), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_until_up(port, server)
        browsers, start = sign_in_all(port, unit_id, accounts)
        if args.warmup:
            # every server process reads the workbook and draws each table once; a server that
            # has run for a while has done so long ago (the cold figures above show the cost)
            run_load(browsers, unit_id, start["table_ids"], 1, args.deadline, 0.0, server.pid)
        if not args.json:
            report_start(start, len(browsers), database, description, args.warmup)
        failed = 0
        headline = None
        for think in thinks:
            for run in range(1, args.repeat + 1):
                result = run_load(
                    browsers,
                    unit_id,
                    start["table_ids"],
                    args.rounds,
                    args.deadline,
                    think,
                    server.pid,
                )
                failed += sum(p["failed"] for p in result["pages"].values())
                if headline is None and think == min(thinks):  # the hardest scenario
                    headline = max(p["p95_ms"] for p in result["pages"].values())
                if args.json:
                    result.update(
                        database=database,
                        server=description,
                        run=run,
                        cold_ms=start["cold_ms"],
                        sign_in=start["sign_in"],
                    )
                    print(json.dumps(result, ensure_ascii=False), flush=True)
                else:
                    report(result, run, args.repeat)
        floor = run_load(
            browsers, unit_id, [], args.rounds, args.deadline, 0.0, server.pid, floor=True
        )
        failed += floor["pages"]["home"]["failed"]
        floor_ms = floor["pages"]["home"]["p95_ms"]
        if not args.json:
            print(f"  floor, home page without pause: p95 {floor_ms:.0f} ms")
            print(
                summary_line(
                    "web_load",
                    headline,
                    "ms",
                    floor_ms,
                    TARGET_P95_MS,
                    what=f"p95 of the slower of dashboard and tables, {len(browsers)} users",
                    floor_what="p95 of the home page under the same users, no pause",
                )
            )
        return 1 if failed else 0
    except Exception:
        log.flush()
        tail = (work / "server.log").read_text(errors="replace")[-3000:]
        if tail:
            print("server log (tail):\n" + tail, file=sys.stderr)
        raise
    finally:
        for b in browsers:
            b.close()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        if url is not None:
            drop_postgres(args.postgres, name_or_reason)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
