"""The demo as the README offers it, in a real browser: `juesuan serve --demo` started as a
user starts it (its own process, gunicorn with several workers, jobs in each worker's threads),
its printed address, user and password read from its output; then sign in, upload the example
workbook, follow the import to its report, and open the tables, checks and texts pages.

Each page must come within a few seconds: a worker forked after the example was read in the
server's first process used to wait forever on polars' thread pool.
"""

from __future__ import annotations

import re

import pytest

from juesuan.web.commands import gunicorn_available
from web.browser_support import Shots, browser_page, sign_in
from web.conftest import UNIT_NAME
from web.serve_support import free_port, running_server

PAGE_TIMEOUT_MS = 15_000  # the first read of the workbook in a worker takes about 2 s
IMPORT_TIMEOUT_MS = 60_000


@pytest.mark.skipif(not gunicorn_available(), reason="gunicorn is not installed here")
def test_the_demo_in_the_browser(example_workbook, tmp_path):
    shots = Shots("demo-")
    with (
        running_server(
            ["serve", "--demo", "--port", str(free_port())], tmp_path / "data"
        ) as server,
        browser_page() as page,
    ):
        base = server.url
        assert server.user and server.password, server.output
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        sign_in(page, base, server.user, server.password)
        shots.take(page, "home")

        page.click(f"a:text-is('{UNIT_NAME}')")
        page.wait_for_url(re.compile(r"/u/\d+/$"))
        unit_url = page.url
        form = "form[enctype='multipart/form-data']"
        page.set_input_files(f"{form} input[type=file]", example_workbook)
        with page.expect_request(re.compile(r"/jobs/[0-9a-f-]+/$")):
            page.click(f"{form} button[type=submit]")  # an import done first goes on at once
        if "/jobs/" in page.url:
            shots.take(page, "import-job")
        # the demo holds the example as version 1: the upload becomes version 2
        page.wait_for_url(unit_url + "2020/versions/2/", timeout=IMPORT_TIMEOUT_MS)
        assert "第 2 版已导入" in page.locator(".notice.ok").inner_text()
        shots.take(page, "import-report")

        for tab, url, shown in (
            ("报表", "tables/", "table.statement"),
            ("审核", "checks/", "main h2"),
            ("文字说明", "texts/", "textarea"),
        ):
            page.click(f".tabs a:text-is('{tab}')")
            page.wait_for_url(unit_url + "2020/" + url)
            assert page.locator(shown).count() > 0, tab
            assert "出错了" not in page.content()
            shots.take(page, url.strip("/"))
    assert server.process.returncode == 0, server.output
