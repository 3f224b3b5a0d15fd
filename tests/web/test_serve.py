"""`juesuan serve`: several processes where gunicorn runs, one waitress process otherwise."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from juesuan.web.commands import default_workers, gunicorn_available, server_plan
from web.conftest import UNIT_NAME
from web.serve_support import Visitor, free_port, running_server


def test_plan_follows_the_setting(settings):
    settings.WEB_WORKERS, settings.WEB_THREADS = 3, 2
    plan = server_plan()
    if gunicorn_available():
        assert (plan.server, plan.workers, plan.threads) == ("gunicorn", 3, 2)
        assert "3 个进程" in plan.describe()
    else:
        assert plan.server == "waitress" and "gunicorn" in plan.note
    settings.WEB_WORKERS = 1
    plan = server_plan()
    assert (plan.server, plan.workers) == ("waitress", 1) and not plan.note
    assert server_plan(workers=2).workers == (2 if gunicorn_available() else 1)
    assert 2 <= default_workers() <= 8


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not gunicorn_available(), reason="gunicorn is not installed here")
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts processes through /proc")
def test_serve_runs_several_processes_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JUESUAN_DATABASE_URL", "DATABASE_URL", "JUESUAN_BROKER_URL")
    }
    env.update(JUESUAN_DATA_DIR=str(tmp_path), JUESUAN_WEB_WORKERS="2", JUESUAN_JOBS_MODE="sync")
    code = "import sys; from juesuan.cli import main; sys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login/", headers={"Host": f"127.0.0.1:{port}"})
                status = conn.getresponse().status
                conn.close()
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assert len(_children(server.pid)) == 2  # the two worker processes
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "gunicorn 2 个进程" in output and output.count("已停止。") == 1


@pytest.mark.skipif(not gunicorn_available(), reason="gunicorn is not installed here")
def test_demo_server_answers_the_pages_that_read_the_workbook(tmp_path):
    """`juesuan serve --demo` as the README starts it: the pages that read the example (tables,
    checks, texts) answer, in every server process. The example used to be read in the process
    gunicorn forks its workers from, and their first polars call then waited forever."""
    with running_server(["serve", "--demo", "--port", str(free_port())], tmp_path) as server:
        assert server.user and server.password, server.output
        visitor = Visitor(server.url, timeout=30)
        home = visitor.sign_in(server.user, server.password)
        year_page = re.search(r'href="(/u/\d+/2020/)"', home).group(1)
        # each page asked twice at once, so that both server processes read the workbook
        with ThreadPoolExecutor(2) as pool:
            for tab in ("tables/", "checks/", "texts/"):
                for status, page in pool.map(visitor.get, [year_page + tab] * 2):
                    assert status == 200 and UNIT_NAME in page
    assert server.process.returncode == 0, server.output
