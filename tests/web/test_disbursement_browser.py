"""代发 in a real browser: Playwright drives Debian's Chromium against the app served on a free
loopback port, with jobs in the web process's thread pool as `juesuan serve` runs them.

One month of the example's payments, by three people: the 经办 signs in, follows the unit page
to 代发, imports the schemes, a roster with a wrong 公民身份号码 (rejected: the page names the row
and the column, nothing is stored) and then the corrected roster of 20 persons, and prepares
March; the 经办 cannot approve, the 复核 reviews, the 审批 approves. The 经办 downloads the bank
files (one payment per person), imports the bank's result with one return, reads the reason in
Chinese, imports the same file again (nothing changes), enters a correction; the 复核 checks it;
the supplementary run is prepared, reviewed, approved and paid. Statistics show 发放人数, 人次,
金额 and 失败退回率, the fund request downloads, and the conservation balance holds.

Set JUESUAN_SCREENSHOTS=<folder> to keep a full-page screenshot of each main page.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from web.browser_support import Shots, browser_page, live_server, sign_in
from web.conftest import EXAMPLE, PASSWORD, UNIT_NAME

JOB_TIMEOUT_MS = 45_000
SOURCE = EXAMPLE / "disbursement"
MONTH = "2020-03"
# persons taken from the example's roster, by scheme (all paid since before 2020)
PICK = {"QYJS": 12, "JGLG": 4, "PCLX": 4}
BAD_ROW = 6  # the row as Excel shows it (the titles are row 1)
RETURN_CODE = "AC01"
RETURN_TEXT = "账号不存在"
NEW_ACCOUNT = "6216610200016587010"


@pytest.fixture
def server(transactional_db):
    with live_server() as live:
        yield live


@pytest.fixture
def page():
    """A fresh Chromium profile and page that accepts the pages' confirmation questions; the
    browser is closed before the database is reset."""
    with browser_page(accept_dialogs=True) as tab:
        yield tab


# ---- files --------------------------------------------------------------------------------


def _standards() -> dict[tuple[str, str], int]:
    """(scheme, tier) → the 2020 standard in 分, from the example's schemes.yaml."""
    import yaml

    data = yaml.safe_load((SOURCE / "schemes.yaml").read_text(encoding="utf-8"))
    return {
        (s["code"], st.get("tier", "")): int(Decimal(st["amount"]) * 100)
        for s in data["schemes"]
        for st in s["standards"]
    }


def _rosters(folder: Path) -> tuple[Path, Path, str, list[dict]]:
    """A small roster from the example's (PICK persons per scheme, paid since before 2020), and
    a copy in which row BAD_ROW has a wrong check digit: (good, broken, wrong number, persons)."""
    with open(SOURCE / "roster.csv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        titles = reader.fieldnames
        rows = list(reader)
    wanted = dict(PICK)
    persons = []
    for row in rows:
        if wanted.get(row["补贴类别"], 0) and row["开始发放月份"] <= "2020-01":
            persons.append(row)
            wanted[row["补贴类别"]] -= 1
    assert not any(wanted.values()), wanted

    def write(path: Path, people: list[dict]) -> Path:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, titles, lineterminator="\n")
            writer.writeheader()
            writer.writerows(people)
        return path

    good = write(folder / "花名册（20人）.csv", persons)
    broken_rows = [dict(p) for p in persons]
    victim = broken_rows[BAD_ROW - 2]
    last = victim["公民身份号码"][-1]
    victim["公民身份号码"] = victim["公民身份号码"][:-1] + ("1" if last != "1" else "2")
    broken = write(folder / "花名册（有错）.csv", broken_rows)
    return good, broken, victim["公民身份号码"], persons


def _bank_rows(path: Path) -> list[dict]:
    """The payment rows of a generic-csv bank file (GB18030; payer line, totals, titles)."""
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="gb18030"))))
    start = next(i for i, line in enumerate(lines) if line and line[0] == "序号")
    titles = lines[start]
    return [dict(zip(titles, line, strict=True)) for line in lines[start + 1 :] if line]


def _bank_answer(files: list[Path], folder: Path, name: str, returns: dict[str, str]) -> Path:
    """The bank's result for the payments in `files`: all paid, except the references in
    `returns` (reference → ISO reason code), written with the bank simulator."""
    from juesuan.disbursement.banks import (
        PAID,
        RETURNED,
        BatchHeader,
        Outcome,
        get_adapter,
        write_results,
    )
    from juesuan.disbursement.model import Month

    outcomes = []
    for path in files:
        for row in _bank_rows(path):
            reference = row["业务编号"]
            fen = int(Decimal(row["金额"]) * 100)
            if reference in returns:
                outcomes.append(Outcome(reference, fen, RETURNED, returns[reference], RETURN_TEXT))
            else:
                outcomes.append(Outcome(reference, fen, PAID, bank_serial=f"S{len(outcomes)}"))
    month = Month.parse(MONTH)
    header = BatchHeader(
        UNIT_NAME, "1", "银行", "LZSB", "B1", "ALL", month, date(month.year, month.month, 15)
    )
    written = write_results(get_adapter("generic-csv"), header, outcomes, folder / name)
    assert written.ok, written.problems
    return folder / name


# ---- browser steps ------------------------------------------------------------------------


def _read(query):
    """Run a database read on a thread of its own and close its connection: Playwright's sync
    API keeps an event loop in the test's thread, where Django refuses queries, and a connection
    left open would keep the test database from being dropped."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def _sign_out(page, base: str) -> None:
    page.click("header form button:text-is('退出')")
    page.wait_for_url(base + "/login/")


def _upload(page, form: str, path: Path) -> None:
    page.set_input_files(f"{form} input[type=file]", path)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def _download(page, selector: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def _follow_job(page) -> str:
    """From a job's progress page on to its result: the page reloads when the job ends and goes
    on to what the job made, saying what was done (a job that found problems stays and offers
    “查看结果”). Returns the job's final message.

    What is waited for is that end, not the progress page on the way: a job done before the
    browser asks for its page (an import already made takes no time) is redirected straight to
    its result, and the progress page is never shown. The step's own navigation (the form's POST)
    is awaited by the caller, so the page here is already past the one the step started on."""
    page.wait_for_function(
        "() => !location.pathname.includes('/jobs/') || document.querySelector('a.button')",
        timeout=JOB_TIMEOUT_MS,
    )
    page.wait_for_load_state()
    if "/jobs/" not in page.url:
        return page.locator("ul.messages li").first.inner_text()
    message = page.locator(".card .notice.ok, .card .notice.info").first.inner_text()
    page.click("a.button:text-is('查看结果')")
    page.wait_for_load_state()
    return message


def _notice(page) -> str:
    """The page's messages (after a redirect) and notices (on a report page)."""
    return " ".join(page.locator("ul.messages li, .notice").all_inner_texts())


def _cells(row) -> list[str]:
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole:,}.{cents:02d}"


def _figures(page, card, name: str) -> list[str]:
    """The statistics row of scheme `name` in `card`: 类别, 人数, 人次, 金额, 退回, 退回率, 按时率."""
    return _cells(card.locator("tbody tr", has=page.locator(f"td:text-is('{name}')")))


@pytest.mark.django_db(transaction=True)
def test_a_month_of_payments_by_three_people(server, world, page, settings, tmp_path):
    from juesuan.web.disbursement.models import Beneficiary, Payment, PersonKey

    settings.JOBS_MODE = "thread"
    shots = Shots("pay-")
    base = server.url
    unit = world.unit.pk
    pay = f"{base}/u/{unit}/pay"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    good, broken, broken_id, persons = _rosters(tmp_path)
    standards = _standards()
    amount = {p["公民身份号码"]: standards[(p["补贴类别"], p["档次"])] for p in persons}
    by_scheme = {code: 0 for code in PICK}
    for p in persons:
        by_scheme[p["补贴类别"]] += amount[p["公民身份号码"]]
    total = sum(amount.values())
    people = len(persons)

    # ---- 经办: from the unit page to 代发 ----
    sign_in(page, base, "clerk", PASSWORD)
    page.click(f"a[href='/u/{unit}/']")
    page.wait_for_url(f"{base}/u/{unit}/")
    page.click("a:text-is('进入代发工作台')")
    page.wait_for_url(f"{pay}/")
    assert page.locator("h1").first.inner_text() == f"{UNIT_NAME} · 代发"
    assert "还没有补贴类别" in page.locator("main").inner_text()
    assert "开始使用" in page.locator("main").inner_text()
    shots.take(page, "overview-empty")

    # ---- the schemes ----
    _upload(page, f"form[action='/u/{unit}/pay/schemes/import/']", SOURCE / "schemes.yaml")
    page.wait_for_url(f"{pay}/")
    assert "补贴类别" in _notice(page)
    schemes = page.locator(".card", has=page.locator("h2:text-is('补贴类别')"))
    assert schemes.locator("tbody tr").count() == 3
    qyjs = _cells(schemes.locator("tbody tr", has_text="QYJS"))
    assert qyjs[1] == "企业教师生活补贴" and qyjs[2] == "0", qyjs
    tiers = qyjs[4].splitlines()  # in their natural order, with thousands separators
    assert [t.split()[:2] for t in tiers] == [
        ["一档", "1,315.00（2020-01"],
        ["二档", "1,230.00（2020-01"],
        ["三档", "1,155.00（2020-01"],
    ], tiers

    # ---- the account each scheme is paid from: a batch is not approved without it ----
    assert schemes.locator("text=批次不能审批").count() == 3
    for code in [c.inner_text() for c in schemes.locator("tbody td.mono").all()]:
        payer = f"form[action='/u/{unit}/pay/schemes/{code}/payer/']"
        page.fill(f"{payer} input[name=account]", "51050163010000000123")
        page.fill(f"{payer} input[name=bank]", "中国建设银行泸州分行")
        assert page.input_value(f"{payer} input[name=name]") == UNIT_NAME  # offered
        page.click(f"{payer} button")
        page.wait_for_url(f"{pay}/")
        assert "已设置" in _notice(page)
    assert schemes.locator("text=批次不能审批").count() == 0

    # ---- a roster with a wrong 公民身份号码: the row and column named, nothing stored ----
    page.click(".tabs a:text-is('花名册')")
    page.wait_for_url(f"{pay}/roster/")
    assert "共 0 人" in page.locator("main").inner_text()
    roster_form = f"form[action='/u/{unit}/pay/roster/import/']"
    _upload(page, roster_form, broken)
    assert "花名册未导入" in page.locator(".notice.fatal").inner_text()
    errors = page.locator(".card", has=page.locator("h2", has_text="逐行说明"))
    error_row = errors.locator("tbody tr", has_text=f"第 {BAD_ROW} 行")
    cells = _cells(error_row)
    assert cells[0] == "错误" and cells[2] == "公民身份号码", cells
    assert cells[3] == broken_id and "校验位" in cells[4], cells
    assert _read(Beneficiary.objects.count) == 0
    shots.take(page, "roster-import-error")
    page.click("a.button:text-is('返回花名册')")
    page.wait_for_url(f"{pay}/roster/")
    assert "共 0 人" in page.locator("main").inner_text()

    # ---- the corrected roster: 20 persons ----
    _upload(page, roster_form, good)
    page.wait_for_url(f"{pay}/roster/")
    assert f"新增 {people} 人" in _notice(page)
    assert f"共 {people} 人" in page.locator("main").inner_text()
    assert page.locator("main table.list tbody tr").count() == people
    first = persons[0]
    listed = page.locator("main table.list").inner_text()
    full = first["公民身份号码"]
    assert full not in listed and f"{full[:4]}**********{full[-4:]}" in listed  # masked
    shots.take(page, "roster")
    # the person's page shows the numbers in full when 经办 asks
    page.click(f"main table.list a:text-is('{first['姓名']}')")
    page.wait_for_url(re.compile(rf"{pay}/people/P\d{{9}}/$"))
    assert full not in page.locator("main").inner_text()
    page.click("button:text-is('显示完整身份证号和银行账号')")
    page.wait_for_load_state()
    assert full in page.locator("main").inner_text()
    shots.take(page, "person-revealed")
    page.goto(f"{pay}/roster/")

    # ---- prepare March ----
    page.click(".tabs a:text-is('月度发放')")
    page.wait_for_url(f"{pay}/runs/")
    page.select_option("#id_month", MONTH)
    with page.expect_navigation():
        page.click("button:text-is('生成批次')")
    message = _follow_job(page)
    assert "生成" in message, message
    page.wait_for_url(re.compile(rf"/u/{unit}/pay/runs/\d+/$"))
    run_url = page.url
    heading = page.locator("main h2").first.inner_text()
    assert MONTH in heading and "第 1 批" in heading and "经办已提交" in heading, heading
    run_totals = page.locator("main .card").first.locator("table.list")
    assert _cells(run_totals.locator("tbody tr").last) == ["合计", str(people), _yuan(total)]
    assert page.locator("button:text-is('复核通过')").count() == 0
    # the 经办 cannot approve: no button, and the address answers 403
    assert page.locator("button", has_text="审批通过").count() == 0
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "juesuan_csrftoken")
    refused = page.request.post(
        run_url + "approve/", headers={"X-CSRFToken": token, "Referer": run_url}
    )
    assert refused.status == 403
    page.goto(f"{pay}/")
    todo = page.locator(".card", has=page.locator("h2:text-is('待办事项')")).inner_text()
    assert f"{MONTH} 月度发放第 1 批待复核" in todo.replace("\t", " "), todo
    assert f"{people} 笔 · {_yuan(total)} 元" in page.locator("main").inner_text()
    shots.take(page, "overview")
    _sign_out(page, base)

    # ---- 复核 reviews ----
    sign_in(page, base, "reviewer", PASSWORD)
    page.goto(run_url)
    assert page.locator("button", has_text="审批通过").count() == 0
    with page.expect_navigation():
        page.click("button:text-is('复核通过')")
    assert "已复核通过" in _notice(page)
    assert "复核通过" in page.locator("main h2").first.inner_text()
    _sign_out(page, base)

    # ---- 审批 approves: the run is frozen and the bank files written ----
    sign_in(page, base, "approver", PASSWORD)
    page.goto(run_url)
    signed = page.locator("dl.kv").inner_text()
    assert "clerk用户" in signed and "reviewer用户" in signed and "approver用户" not in signed
    assert "下一步：请审批" in page.locator(".card .notice.info").inner_text()
    shots.take(page, "run-before-approval")
    with page.expect_navigation():
        page.click("button:text-is('审批通过并生成银行文件')")
    message = _follow_job(page)
    assert "审批通过" in message, message
    page.wait_for_url(run_url)
    assert "审批通过" in page.locator("main h2").first.inner_text()
    files_card = page.locator(".card", has=page.locator("h2:text-is('银行文件')"))
    file_rows = files_card.locator("tbody tr")
    assert file_rows.count() == len(PICK)
    listed = {}
    for i in range(file_rows.count()):
        cells = _cells(file_rows.nth(i))
        listed[cells[0]] = (int(cells[3]), cells[4])
    assert sum(n for n, _ in listed.values()) == people
    assert page.locator("button:text-is('复核通过')").count() == 0
    shots.take(page, "run-approved")
    _sign_out(page, base)

    # ---- 经办 downloads the bank files: one payment per person, the amounts as approved ----
    sign_in(page, base, "clerk", PASSWORD)
    page.goto(run_url)
    bank_files = []
    for name, (count, amount_text) in listed.items():
        path = _download(page, f".card a:text-is('{name}')", downloads)
        rows = _bank_rows(path)
        assert len(rows) == count, (name, len(rows), count)
        fen = sum(int(Decimal(r["金额"]) * 100) for r in rows)
        assert _yuan(fen) == amount_text
        bank_files.append(path)
    # the payment numbers name each person by key, never by identity number
    keys = dict(_read(lambda: list(PersonKey.objects.values_list("key", "person_id"))))
    paid_keys = [r["业务编号"].rsplit("-", 3)[1] for p in bank_files for r in _bank_rows(p)]
    assert sorted(keys[k] for k in paid_keys) == sorted(amount)

    # ---- the bank's answer: all paid but one (AC01) ----
    qyjs_rows = [r for p in bank_files for r in _bank_rows(p) if r["业务编号"].startswith("QYJS-")]
    returned = qyjs_rows[0]
    returned_person = keys[returned["业务编号"].rsplit("-", 3)[1]]
    returned_id = f"{returned_person[:4]}**********{returned_person[-4:]}"  # as lists show it
    returned_fen = int(Decimal(returned["金额"]) * 100)
    answer = _bank_answer(
        bank_files, tmp_path, "回盘202003.csv", {returned["业务编号"]: RETURN_CODE}
    )
    page.click(".tabs a:text-is('银行回盘')")
    page.wait_for_url(f"{pay}/results/")
    results_form = f"form[action='/u/{unit}/pay/results/import/']"
    _upload(page, results_form, answer)
    message = _follow_job(page)
    assert "1" in message, message
    page.wait_for_url(re.compile(rf"/u/{unit}/pay/results/\d+/$"))
    stats = page.locator(".stat .value").all_inner_texts()
    assert stats[:3] == [f"{people - 1} 笔", "1 笔", "0 笔"], stats
    returned_card = page.locator(".card", has=page.locator("h2:text-is('退回的付款')"))
    cells = _cells(returned_card.locator("tbody tr"))
    assert returned_id in cells and _yuan(returned_fen) in cells, cells
    assert any(RETURN_TEXT in c for c in cells), cells
    shots.take(page, "results-report")

    # the same file again: nothing changes, and the page says so
    def payments():
        return list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_on"))

    before = _read(payments)
    page.goto(f"{pay}/results/")
    _upload(page, results_form, answer)
    assert "导入过" in _follow_job(page)
    shots.take(page, "results-again")
    assert _read(payments) == before
    page.goto(f"{pay}/results/")
    imported = page.locator(".card", has=page.locator("h2:text-is('已导入的回盘')"))
    assert imported.locator("tbody tr").count() == 1
    assert _cells(imported.locator("tbody tr"))[3:6] == [str(people - 1), "1", "0"]
    shots.take(page, "results")

    # ---- the return: reason in Chinese, the 经办 enters the corrected account ----
    page.click(".tabs a:text-is('退回处理')")
    page.wait_for_url(f"{pay}/returns/")
    waiting = page.locator(".card", has=page.locator("h2:text-is('退回待处理的付款')"))
    row = waiting.locator("tbody tr").first
    cells = _cells(row)
    assert cells[0].endswith(returned_id) and _yuan(returned_fen) in cells, cells  # name, number
    assert any(RETURN_TEXT in c for c in cells), cells
    shots.take(page, "returns")
    row.locator("summary:text-is('录入更正')").click()
    row.locator("input[name=account]").fill(NEW_ACCOUNT)
    row.locator("input[name=note]").fill("本人来电更正账号")
    with page.expect_navigation():
        row.locator("button:text-is('保存更正')").click()
    assert "更正" in _notice(page)
    assert "待复核" in waiting.locator("tbody tr").first.inner_text()
    _sign_out(page, base)

    # ---- 复核 checks the correction ----
    sign_in(page, base, "reviewer", PASSWORD)
    page.goto(f"{pay}/returns/")
    checks = page.locator(".card", has=page.locator("h2:text-is('待复核的更正')"))
    shown = checks.inner_text()  # masked, as on every list
    assert NEW_ACCOUNT not in shown and "*" * (len(NEW_ACCOUNT) - 4) + NEW_ACCOUNT[-4:] in shown
    shots.take(page, "correction-to-check")
    with page.expect_navigation():
        checks.locator("button:text-is('复核通过')").click()
    assert page.locator("h2:text-is('待复核的更正')").count() == 0
    assert "1 笔更正已复核" in page.locator("main").inner_text()
    _sign_out(page, base)

    # ---- the supplementary run: 经办 prepares, 复核 reviews, 审批 approves ----
    sign_in(page, base, "clerk", PASSWORD)
    page.goto(f"{pay}/returns/")
    with page.expect_navigation():
        page.click("button:text-is('生成补发批次')")
    page.wait_for_url(re.compile(rf"/u/{unit}/pay/runs/\d+/$"))
    supplementary_url = page.url
    heading = page.locator("main h2").first.inner_text()
    assert "补发" in heading and "第 2 批" in heading and "经办已提交" in heading, heading
    details = page.locator(".card", has=page.locator("h2:text-is('付款明细')"))
    assert "*" * (len(NEW_ACCOUNT) - 4) + NEW_ACCOUNT[-4:] in details.inner_text()
    assert _yuan(returned_fen) in details.inner_text()
    shots.take(page, "supplementary-run")
    _sign_out(page, base)
    sign_in(page, base, "reviewer", PASSWORD)
    page.goto(supplementary_url)
    with page.expect_navigation():
        page.click("button:text-is('复核通过')")
    assert "复核通过" in page.locator("main h2").first.inner_text()
    _sign_out(page, base)
    sign_in(page, base, "approver", PASSWORD)
    page.goto(supplementary_url)
    with page.expect_navigation():
        page.click("button:text-is('审批通过并生成银行文件')")
    _follow_job(page)
    assert "审批通过" in page.locator("main h2").first.inner_text()
    _sign_out(page, base)

    # ---- 经办: the re-issue is paid ----
    sign_in(page, base, "clerk", PASSWORD)
    page.goto(supplementary_url)
    reissue_file = _download(page, ".card a[href*='/files/']", downloads)
    assert len(_bank_rows(reissue_file)) == 1
    assert _bank_rows(reissue_file)[0]["收款账号"] == NEW_ACCOUNT
    answer = _bank_answer([reissue_file], tmp_path, "回盘202003补发.csv", {})
    page.goto(f"{pay}/results/")
    _upload(page, results_form, answer)
    _follow_job(page)
    assert page.locator(".stat .value").first.inner_text() == "1 笔"

    # ---- the runs: March and its supplementary run, both approved ----
    page.click(".tabs a:text-is('月度发放')")
    page.wait_for_url(f"{pay}/runs/")
    listed_runs = page.locator(".card", has=page.locator("h2:text-is('发放批次')"))
    rows = [_cells(r) for r in listed_runs.locator("tbody tr").all()]
    assert [(r[0], r[3], r[4], r[5]) for r in rows] == [
        ("第 2 批", "审批通过", "1", _yuan(returned_fen)),
        ("第 1 批", "审批通过", str(people), _yuan(total)),
    ], rows
    shots.take(page, "runs")

    # ---- statistics: 发放人数, 人次, 金额, 失败退回率; the fund request ----
    page.click(".tabs a:text-is('统计')")
    page.wait_for_url(f"{pay}/stats/")
    year_card = page.locator(".card", has=page.locator("h2:text-is('2020 年度发放统计')"))
    teachers = _figures(page, year_card, "企业教师生活补贴")
    n = PICK["QYJS"]
    rate = Decimal(100) / (n + 1)
    assert teachers[1:6] == [
        str(n),
        str(n + 1),
        _yuan(by_scheme["QYJS"]),
        "1",
        f"{rate.quantize(Decimal('0.01'))}%",
    ], teachers
    cadres = _figures(page, year_card, "建国初期老干部困难补贴")
    assert cadres[1:5] == [str(PICK["JGLG"]), str(PICK["JGLG"]), _yuan(by_scheme["JGLG"]), "0"]
    assert cadres[5] == "0.00%", cadres
    month_card = page.locator(".card", has=page.locator("h2", has_text=MONTH))
    assert _figures(page, month_card, "企业教师生活补贴")[3] == _yuan(by_scheme["QYJS"])
    shots.take(page, "stats")
    request = _download(page, f"a[href$='/fund-request/{MONTH}.xlsx']", downloads)
    assert request.suffix == ".xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(request).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "合计" in values and people in values, values

    # ---- 资金守恒 ----
    page.click(".tabs a:text-is('资金守恒')")
    page.wait_for_url(f"{pay}/balance/")
    assert "全部有着落" in page.locator(".notice.ok").inner_text()
    balance = {_cells(r)[0]: _cells(r)[1] for r in page.locator("main table.list tbody tr").all()}
    assert balance["已审批"] == balance["已到账"] == balance["合计"] == _yuan(total), balance
    assert balance["退回待处理"] == balance["已送银行待回盘"] == "0.00", balance
    shots.take(page, "balance")
