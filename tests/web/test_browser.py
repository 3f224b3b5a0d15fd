"""The workplace in a real browser: Playwright drives Debian's Chromium against the app served on
a free loopback port.

One finance officer's year, end to end: sign in, download the blank template, upload a workbook
with a wrong amount and read the error by sheet, row and column, upload the corrected workbook,
build the package and follow the job's progress, download the package; then a user of another
unit finds none of it, neither listed nor reachable.

Set JUESUAN_SCREENSHOTS=<folder> to keep a screenshot of each main page.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from web.browser_support import Shots, browser_page, live_server, sign_in
from web.conftest import PASSWORD, UNIT_NAME

BUILD_TIMEOUT_MS = 45_000
SPENDING = "支出"
WRONG_AMOUNT = "一千元"


@pytest.fixture
def server(transactional_db):
    with live_server() as live:
        yield live


@pytest.fixture
def page():
    """A fresh Chromium profile and page; the browser is closed before the database is reset."""
    with browser_page() as tab:
        yield tab


def _workbooks(folder: Path) -> tuple[Path, Path, int, str]:
    """The example as a workbook, and a copy with one 支出 amount written as text: (good, broken,
    row, column header)."""
    import openpyxl

    from juesuan.ledger.export import write_workbook
    from juesuan.ledger.load import load
    from web.conftest import EXAMPLE

    dataset, issues = load(EXAMPLE)
    assert dataset is not None, issues
    good = folder / "泸州社保局2020年决算数据.xlsx"
    write_workbook(dataset, good)
    broken = folder / "泸州社保局2020年决算数据（有错）.xlsx"
    book = openpyxl.load_workbook(good)
    sheet = book[SPENDING]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if h and str(h).startswith("金额"))
    row = 5
    sheet.cell(row=row, column=column + 1, value=WRONG_AMOUNT)
    book.save(broken)
    return good, broken, row, str(header[column]).rstrip("*")


def _upload(page, path: Path) -> None:
    page.set_input_files("form[enctype='multipart/form-data'] input[type=file]", path)
    with page.expect_navigation():
        page.click("form[enctype='multipart/form-data'] button[type=submit]")


def _download(page, selector: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


@pytest.mark.django_db(transaction=True)
def test_a_finance_officer_year_in_the_browser(server, world, page, settings, tmp_path):
    import openpyxl

    settings.JOBS_MODE = "thread"
    shots = Shots()
    base = server.url
    unit = world.unit.pk
    other = world.other.pk
    year = 2020
    good, broken, row, column = _workbooks(tmp_path)
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    # ---- sign in as 财务 of unit A ----
    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login/"))
    shots.take(page, "login")
    sign_in(page, base, "finance", PASSWORD)
    assert page.locator("h1").first.inner_text() == "我的单位"
    assert UNIT_NAME in page.content() and "另一个单位" not in page.content()
    shots.take(page, "home")

    # ---- the blank template ----
    template = _download(page, "header .who a[href='/template.xlsx']", downloads)
    assert template.suffix == ".xlsx"
    sheets = openpyxl.load_workbook(template, read_only=True).sheetnames
    assert SPENDING in sheets and "收入" in sheets

    # ---- a workbook with a wrong amount: rejected, the error shown by sheet, row and column ----
    page.click(f"a[href='/u/{unit}/']")
    page.wait_for_url(f"{base}/u/{unit}/")
    shots.take(page, "unit")
    _upload(page, broken)  # read in the background: the job's page turns into the report
    page.locator(".notice.fatal", has_text="未导入").wait_for()
    group = page.locator(".card", has=page.locator("h2", has_text=f"工作表“{SPENDING}”"))
    error_row = group.locator("tbody tr", has_text=WRONG_AMOUNT)
    cells = error_row.locator("td").all_inner_texts()
    assert cells[0] == "错误" and cells[1] == f"第 {row} 行" and cells[3] == WRONG_AMOUNT, cells
    assert cells[2] and cells[2] in column, (cells, column)
    shots.take(page, "import-rejected")

    # ---- the corrected workbook: version 1 ----
    page.goto(f"{base}/u/{unit}/")
    _upload(page, good)
    page.wait_for_url(f"{base}/u/{unit}/{year}/versions/1/")
    assert "第 1 版已导入" in page.locator(".notice.ok").inner_text()
    shots.take(page, "import-accepted")

    # ---- the year's pages ----
    page.click(".tabs a:text-is('数据与版本')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/versions/")
    shots.take(page, "versions")
    page.click(".tabs a:text-is('概览')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/")
    assert page.locator(".stat.fatal").count() == 0  # no fatal problem: publishable
    shots.take(page, "dashboard")
    page.click(".tabs a:text-is('报表')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/tables/")
    assert page.locator("table.statement").count() > 0
    shots.take(page, "tables")
    page.click("table.statement td.amount a >> nth=0")  # where a figure comes from
    page.wait_for_url(re.compile(rf"/u/{unit}/{year}/tables/[^/]+/cell/"))
    assert "收支明细" in page.locator("main").inner_text()
    shots.take(page, "cell")
    page.click(".tabs a:text-is('审核')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/checks/")
    shots.take(page, "checks")
    page.click(".tabs a:text-is('文字说明')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/texts/")
    shots.take(page, "texts")

    # ---- build the package; the progress page follows the job to its end ----
    page.click(".tabs a:text-is('公开包')")
    page.wait_for_url(f"{base}/u/{unit}/{year}/builds/")
    shots.take(page, "builds")
    # the job's page is asked for after the POST; a job that ends first goes on at once, so
    # the request is caught rather than the page waited for
    with page.expect_request(re.compile(rf"/u/{unit}/jobs/[0-9a-f-]+/$")) as job_page:
        page.click("button:text-is('开始生成')")
    job_url = job_page.value.url
    if "/jobs/" in page.url:
        shots.take(page, "job-progress")
    page.wait_for_url(f"{base}/u/{unit}/{year}/builds/1/", timeout=BUILD_TIMEOUT_MS)
    assert "公开包第 1 版" in page.locator("h2").first.inner_text()
    shots.take(page, "build")

    # ---- the package zip ----
    package = _download(page, "a.button:text-is('下载压缩包')", downloads)
    assert package.suffix == ".zip" and zipfile.is_zipfile(package)
    names = zipfile.ZipFile(package).namelist()
    assert "manifest.json" in names and "checks.json" in names
    for suffix in (".pdf", ".docx", ".html", "附表.xlsx"):
        assert any(n.endswith(suffix) for n in names), (suffix, names)
    assert any(n.startswith("figures/") for n in names), names

    # ---- sign out ----
    page.click("header form button:text-is('退出')")
    page.wait_for_url(base + "/login/")
    assert "您已退出" in page.content()

    # ---- a user of unit B sees none of unit A ----
    sign_in(page, base, "other_finance", PASSWORD)
    listed = page.locator("main").inner_text()
    assert "另一个单位" in listed and UNIT_NAME not in listed
    shots.take(page, "other-home")
    job_path = job_url.removeprefix(base)
    for path in (
        f"/u/{unit}/",
        f"/u/{unit}/{year}/",
        f"/u/{unit}/{year}/tables/",
        f"/u/{unit}/{year}/checks/",
        f"/u/{unit}/{year}/texts/",
        f"/u/{unit}/{year}/builds/",
        f"/u/{unit}/{year}/builds/1/",
        f"/u/{unit}/{year}/versions/",
        f"/u/{unit}/log/",
        job_path,
        job_path + "status.json",
    ):
        response = page.goto(base + path)
        assert response.status in (403, 404), (path, response.status)
        text = page.locator("main").inner_text()
        assert UNIT_NAME not in text and "找不到页面" in text, (path, text)
    shots.take(page, "other-not-found")
    for path in (
        f"/u/{unit}/{year}/builds/1/zip/",
        f"/u/{unit}/{year}/builds/1/files/0/",
        f"/u/{unit}/{year}/versions/1/download/",
    ):
        response = page.request.get(base + path)
        assert response.status in (403, 404), (path, response.status)
        assert "attachment" not in response.headers.get("content-disposition", "")
    # the user's own unit still works
    page.goto(f"{base}/u/{other}/")
    assert page.locator("h1").first.inner_text() == "另一个单位"
