"""`juesuan serve` started as a user starts it, in a process of its own, with a data directory
of the test's: what the serve tests and the demo browser test share."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 120  # seconds: migrations and the demo's example on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def juesuan_command() -> list[str]:
    """The `juesuan` console script of this environment (as the README runs it)."""
    script = Path(sys.executable).with_name("juesuan")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "juesuan.cli"]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("JUESUAN_DATABASE_URL", "DATABASE_URL", "JUESUAN_BROKER_URL", "JUESUAN_MEDIA_ROOT")
        and not k.startswith("PYTEST")
    }
    env.pop("JUESUAN_JOBS_MODE", None)  # the server's own default: a thread pool in each process
    env.update(JUESUAN_DATA_DIR=str(data_dir), **extra)
    return env


@dataclass
class RunningServer:
    process: subprocess.Popen
    url: str = ""
    user: str = ""
    password: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def running_server(args: list[str], data_dir: Path, **env: str):
    """`juesuan ARGS` until the block ends; the printed URL (and the demo's user and password)
    read from its output. Stopped with SIGTERM, as Ctrl+C would."""
    process = subprocess.Popen(
        [*juesuan_command(), *args],
        env=server_env(data_dir, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = RunningServer(process)
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            server.lines.append(line.rstrip("\n"))
            if found := re.search(r"演示账号：(\S+)\s+密码：([A-Za-z0-9_-]+)", line):
                server.user, server.password = found.groups()
            if found := re.search(r"(http://\S+?)/?\s", line):
                server.url = found.group(1)
                ready.set()
        ready.set()  # the process ended

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(START_TIMEOUT)
        assert server.url, f"the server printed no address:\n{server.output}"
        _wait_until_answering(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)


def _wait_until_answering(server: RunningServer) -> None:
    parts = urllib.parse.urlsplit(server.url)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the server did not answer:\n{server.output}")


class Visitor:
    """A signed-in visitor over plain HTTP (cookies and the CSRF token kept)."""

    def __init__(self, base: str, timeout: float):
        self.base = base
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=self.timeout) as response:
            return response.status, response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        data = {**fields, "csrfmiddlewaretoken": self.csrf}
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST"
        )
        with self.opener.open(request, timeout=self.timeout) as response:
            return response.status, response.url, response.read().decode()

    @property
    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "juesuan_csrftoken")

    def sign_in(self, username: str, password: str) -> str:
        """Sign in; the page signed in to (its text)."""
        self.get("/login/")
        _status, url, page = self.post("/login/", {"username": username, "password": password})
        assert url.rstrip("/") == self.base.rstrip("/"), page
        return page
