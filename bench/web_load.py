"""Benchmark: 50 finance officers at once on the workplace's dashboard and tables pages.

What it measures: the web app served by waitress (in a process of its own, on 127.0.0.1 at a
free port) over PostgreSQL, with the bundled example loaded as the demo unit. Each simulated user
signs in through the login form with its own account and session, then, on one keep-alive
connection, asks for the year's dashboard and a table page in turn (the table rotates through
the format's 14 tables) for a fixed number of rounds, with no pause between requests (the
worst case: every user clicking without stop; `--think S` adds a pause). Every request is timed
from sending to the last byte of the body; the report gives requests per second and
p50/p95/p99 per page.

The first dashboard and tables request after start-up, which reads and checks the stored
workbook once (the app caches the result per file), is timed apart as "cold"; the sign-ins are
timed apart too (PBKDF2 hashes each password on purpose).

The database is a fresh PostgreSQL database made for the run and dropped after it
(postgres://postgres@127.0.0.1:5432 by default, or --postgres URL of the server); when no
PostgreSQL server answers, SQLite in a temporary folder is used and the report says so.

Bounded: loopback only, `--users` × `--rounds` × 2 requests, and the run stops at `--deadline`
seconds whatever is left.

Target (printed beside the figures, not asserted): p95 under 300 ms for each page.

Run:
    make bench
    python bench/web_load.py
    python bench/web_load.py --users 20 --rounds 5 --threads 8
    python bench/web_load.py --think 1        # a second between one user's requests
    python bench/web_load.py --json          # one JSON line
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

HOST = "127.0.0.1"  # loopback only, by design
TARGET_P95_MS = 300.0
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


def serve(port: int, threads: int) -> None:
    """--serve: run waitress on the app until terminated (the child process)."""
    from juesuan.web.commands import setup

    setup(migrate=False)
    from waitress import serve as waitress_serve

    from juesuan.web.wsgi import application

    waitress_serve(application, host=HOST, port=port, threads=threads, ident="juesuan")


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
    """One user's keep-alive connection and cookies."""

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


def run_load(port, unit_id, accounts, rounds, deadline_s, think_s=0.0) -> dict:
    dashboard = f"/u/{unit_id}/{YEAR}/"
    tables = f"/u/{unit_id}/{YEAR}/tables/"

    # sign everyone in at once (own session each), timed apart
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

    # cold: the first request of each page reads and checks the workbook once
    cold = {}
    cold["dashboard"], ok = timed(browsers[0], dashboard, "致命问题")
    began = time.perf_counter()
    status, page = browsers[0].request("GET", tables)
    cold["tables"] = time.perf_counter() - began
    table_ids = re.findall(r'href="\?t=([^"]+)"', page) or [""]
    if not (ok and status == 200 and "附表" in page):
        raise RuntimeError("the demo unit's pages did not render")

    # the load: every user, dashboard then a table, `rounds` times, until the deadline
    samples: dict[str, list[float]] = {"dashboard": [], "tables": []}
    failures = {"dashboard": 0, "tables": 0}
    stop_at = time.monotonic() + deadline_s
    barrier = threading.Barrier(len(browsers) + 1)

    def user(n: int, browser: Browser):
        mine = {"dashboard": [], "tables": []}
        bad = {"dashboard": 0, "tables": 0}
        barrier.wait()
        for r in range(rounds):
            if time.monotonic() > stop_at:
                break
            table = table_ids[(n + r) % len(table_ids)]
            for page_name, path, expect in (
                ("dashboard", dashboard, "致命问题"),
                ("tables", f"{tables}?t={table}" if table else tables, "附表"),
            ):
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
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    for b in browsers:
        b.close()

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
        "cold_ms": {k: v * 1000 for k, v in cold.items()},
        "sign_in": {
            "wall_s": sign_in_wall,
            "p50_ms": percentile(sign_in_times, 50) * 1000,
            "max_ms": max(sign_in_times) * 1000,
        },
    }


def report(result: dict, database: str, threads: int) -> None:
    think = f", {result['think_s']:g} s between requests" if result["think_s"] else ", no pause"
    print(
        f"web load: {result['users']} users × {result['rounds']} rounds (dashboard + one of "
        f"{result['tables_rotated']} tables{think}), waitress {threads} threads, {database}, "
        "127.0.0.1"
    )
    sign_in = result["sign_in"]
    print(
        f"  sign-in of {result['users']} users at once: {sign_in['wall_s']:.1f} s "
        f"(p50 {sign_in['p50_ms']:.0f} ms, max {sign_in['max_ms']:.0f} ms; PBKDF2 per password)"
    )
    cold = result["cold_ms"]
    print(
        f"  cold (first request after start): dashboard {cold['dashboard']:.0f} ms, "
        f"tables {cold['tables']:.0f} ms"
    )
    print(
        f"  {result['requests']} requests in {result['wall_s']:.1f} s: {result['rps']:.1f} req/s"
        + ("  (stopped at the deadline)" if result["stopped_by_deadline"] else "")
    )
    print(
        f"  {'page':<10} {'requests':>8} {'failed':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}   target p95 < {TARGET_P95_MS:.0f} ms"
    )
    for name, page in result["pages"].items():
        verdict = "met" if page["p95_ms"] < TARGET_P95_MS else "NOT met"
        print(
            f"  {name:<10} {page['requests']:>8} {page['failed']:>6} {page['rps']:>7.1f} "
            f"{page['p50_ms']:>8.0f} {page['p95_ms']:>8.0f} {page['p99_ms']:>8.0f} "
            f"{page['max_ms']:>8.0f}   {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="dashboard + table pairs per user")
    parser.add_argument(
        "--threads", type=int, default=8, help="waitress threads (as juesuan serve)"
    )
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds each user waits between requests"
    )
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds; the load stops")
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server on this machine; a fresh database is made and dropped",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.threads)
        return 0
    if urlsplit(args.postgres).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be on this machine (127.0.0.1)")
    args.users = max(1, min(args.users, 200))
    args.rounds = max(1, min(args.rounds, 1000))
    args.think = max(0.0, min(args.think, 10.0))

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
    url, name_or_reason = fresh_postgres(args.postgres)
    if url is None:
        database = "SQLite (PostgreSQL not used: " + name_or_reason + ")"
        print(f"note: {name_or_reason}; falling back to SQLite", file=sys.stderr)
    else:
        env["JUESUAN_DATABASE_URL"] = url
        database = "PostgreSQL"
    os.environ.clear()
    os.environ.update(env)
    server = None
    log = (work / "server.log").open("w")
    try:
        unit_id, accounts = prepare_world(args.users)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(port, server)
        result = run_load(port, unit_id, accounts, args.rounds, args.deadline, args.think)
        result.update({"database": database, "waitress_threads": args.threads})
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            report(result, database, args.threads)
        failed = sum(p["failed"] for p in result["pages"].values())
        return 1 if failed else 0
    except Exception:
        log.flush()
        tail = (work / "server.log").read_text(errors="replace")[-3000:]
        if tail:
            print("server log (tail):\n" + tail, file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        if url is not None:
            drop_postgres(args.postgres, name_or_reason)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
