"""The benefits office's whole walk on the demo, in Chromium: `juesuan serve --demo` started as
the README says, the users per role read from what it prints; 经办 prepares a month, 复核 and
审批 pass it, the bank file is downloaded, the bank's result with two returns imported, one
return corrected, checked and re-issued in a supplementary run of the month it belongs to.
Each page is checked for what it must say."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest

from juesuan.web.commands import gunicorn_available
from web.browser_support import Shots, browser_page, sign_in
from web.conftest import UNIT_NAME
from web.serve_support import free_port, running_server

PAGE_TIMEOUT_MS = 30_000  # a month of the example's 756 people is prepared in a few seconds
JOB_TIMEOUT_MS = 120_000
MONTH = "2020-02"


def _accounts(output: str) -> dict[str, tuple[str, str]]:
    """{role: (user, password)} from the lines the demo prints for the 代发 roles."""
    found = re.findall(r"^\s+(经办|复核|审批|财政局)\s+(\S+)\s+密码：(\S+)$", output, re.M)
    return {role: (user, password) for role, user, password in found}


def _sign_in(page, base: str, account: tuple[str, str]) -> None:
    if page.locator("form[action$='/logout/'] button").count():
        page.click("form[action$='/logout/'] button")
    sign_in(page, base, *account)


def _bank_file_rows(path: Path) -> list[tuple[str, str]]:
    """(payment number, amount) of each row of a generic-csv batch file."""
    with path.open(encoding="gb18030", newline="") as handle:
        lines = list(csv.reader(handle))
    titles = next(i for i, line in enumerate(lines) if "业务编号" in line)
    reference, amount = lines[titles].index("业务编号"), lines[titles].index("金额")
    return [(line[reference], line[amount]) for line in lines[titles + 1 :] if line]


def _bank_answer(batch: Path, folder: Path, returned: set[int]) -> Path:
    """The bank's result for `batch`: the rows at the positions `returned` returned (账号不存在),
    the others paid on the 10th."""
    from juesuan.disbursement.banks import (
        PAID,
        RETURNED,
        BatchHeader,
        Outcome,
        get_adapter,
        write_results,
    )
    from juesuan.disbursement.banks.fields import parse_amount
    from juesuan.disbursement.model import Month

    answers = []
    for n, (reference, amount) in enumerate(_bank_file_rows(batch)):
        fen = parse_amount(amount, "yuan")
        if n in returned:
            answers.append(Outcome(reference, fen, RETURNED, "AC01"))
        else:
            answers.append(Outcome(reference, fen, PAID, paid_on=date(2020, 2, 10)))
    month = Month.parse(MONTH)
    header = BatchHeader("单位", "1", "银行", "U", "B", "QYJS", month, date(2020, 2, 10))
    path = folder / f"{batch.stem}_result.csv"
    assert write_results(get_adapter("generic-csv"), header, answers, path).ok
    return path


@pytest.mark.skipif(not gunicorn_available(), reason="gunicorn is not installed here")
def test_the_office_walks_a_month_on_the_demo(tmp_path):
    shots = Shots("office-")
    with (
        running_server(
            ["serve", "--demo", "--port", str(free_port())], tmp_path / "data"
        ) as server,
        browser_page(accept_dialogs=True) as page,
    ):
        base = server.url
        accounts = _accounts(server.output)
        assert set(accounts) == {"经办", "复核", "审批", "财政局"}, server.output
        page.set_default_timeout(PAGE_TIMEOUT_MS)

        # 经办 prepares February
        _sign_in(page, base, accounts["经办"])
        page.click(f"a:text-is('{UNIT_NAME}')")
        page.wait_for_url(re.compile(r"/u/\d+/$"))
        pay = page.url + "pay/"
        page.goto(pay)
        assert "代发" in page.locator("h1, h2").first.inner_text()
        page.goto(pay + "runs/")
        page.select_option("#id_month", MONTH)
        page.click("button:text-is('生成批次')")
        page.wait_for_url(re.compile(r"/pay/runs/\d+/$"), timeout=JOB_TIMEOUT_MS)
        run = page.url
        assert f"{MONTH} 月度发放 · 第 1 批" in page.locator("h2").first.inner_text()
        assert "等待复核人员复核" in page.locator(".notice.info").inner_text()
        assert page.locator("button:text-is('复核通过')").count() == 0  # not the clerk's step
        shots.take(page, "prepared")

        # 复核 passes it
        _sign_in(page, base, accounts["复核"])
        page.goto(run)
        assert "请核对下表的笔数和金额" in page.locator(".notice.info").inner_text()
        page.click("button:text-is('复核通过')")
        page.wait_for_url(run)
        assert "等待审批人员审批" in page.locator(".notice.info").inner_text()
        shots.take(page, "reviewed")

        # 审批 approves it; the bank files are made and downloaded
        _sign_in(page, base, accounts["审批"])
        page.goto(run)
        page.click("button:text-is('审批通过并生成银行文件')")
        page.wait_for_url(run, timeout=JOB_TIMEOUT_MS)
        assert "下载下方的银行文件报送银行" in page.locator(".notice.info").inner_text()
        links = page.locator("a[href*='/files/']")
        assert links.count() == 3  # one bank file per scheme
        qyjs = page.locator("a[href*='/files/']", has_text="QYJS")
        with page.expect_download() as download:
            qyjs.click()
        batch = tmp_path / download.value.suggested_filename
        download.value.save_as(batch)
        rows = _bank_file_rows(batch)
        assert len(rows) > 100 and all(r.startswith("QYJS-P") for r, _ in rows)
        shots.take(page, "approved")

        # 经办 imports the bank's answer: two rows returned
        result = _bank_answer(batch, tmp_path, returned={3, 7})
        _sign_in(page, base, accounts["经办"])
        page.goto(pay + "results/")
        page.select_option("#id_adapter", "generic-csv")
        page.set_input_files("#id_result_file", result)
        page.click("button:text-is('上传并导入')")
        page.wait_for_url(re.compile(r"/pay/results/\d+/$"), timeout=JOB_TIMEOUT_MS)
        stats = page.locator(".stat .value").all_inner_texts()
        assert stats[:2] == [f"{len(rows) - 2} 笔", "2 笔"], stats
        shots.take(page, "result")

        # one return corrected by 经办 …
        page.goto(pay + "returns/")
        assert page.locator("form[action$='/correct/']").count() == 2
        corrected = page.locator("table.list tbody tr").first.locator("td.num").inner_text()
        page.locator("summary:text-is('录入更正')").first.click()
        fix = page.locator("form[action$='/correct/']").first
        fix.locator("input[name=account]").fill("6228482305460012345")
        fix.locator("input[name=note]").fill("家属提供了新的银行卡")
        fix.locator("button:text-is('保存更正')").click()
        page.wait_for_url(pay + "returns/")
        assert page.locator("td .pill", has_text="待复核").count() == 1
        shots.take(page, "correction-entered")

        # … checked by 复核 …
        _sign_in(page, base, accounts["复核"])
        page.goto(pay + "returns/")
        page.click("button[name=decision][value=accept]")
        page.wait_for_url(pay + "returns/")
        assert page.locator("td .pill", has_text="已复核").count() == 1

        # … and re-issued by 经办, booked in the month of the payment it pays again
        _sign_in(page, base, accounts["经办"])
        page.goto(pay + "returns/")
        months = page.locator("#id_supplementary_month option").all_inner_texts()
        assert months[0].startswith(MONTH), months
        shots.take(page, "reissue-month")
        page.click("button:text-is('生成补发批次')")
        page.wait_for_url(re.compile(r"/pay/runs/\d+/$"), timeout=JOB_TIMEOUT_MS)
        heading = page.locator("h2").first.inner_text()
        assert f"{MONTH} 补发批次 · 第 2 批" in heading, heading
        totals = page.locator("table.list").first.locator("tbody tr").all_inner_texts()
        assert [t.split("\t") for t in totals] == [
            ["企业教师生活补贴", "1", corrected],
            ["合计", "1", corrected],
        ], totals
        shots.take(page, "reissue-run")
    assert server.process.returncode == 0, server.output
