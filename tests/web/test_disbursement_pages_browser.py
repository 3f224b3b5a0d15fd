"""Every page of the benefits office's flow, in Chromium at 1366 and 1024 px: the page is no
wider than the window, no table cell wraps one character per line, and each page says what it
is. A unit with three months paid, a return, a late-reported death and the next month waiting
for 复核 and then 审批. Screenshots of each page at both widths go to $JUESUAN_SCREENSHOTS."""

from __future__ import annotations

from datetime import date

import pytest

from web.browser_support import Shots, browser_page, live_server, sign_in
from web.conftest import PASSWORD
from web.test_disbursement_forms_browser import _apart

WIDTHS = (1366, 1024)


@pytest.fixture
def server(transactional_db):
    with live_server() as live:
        yield live


def _office(tmp_path) -> dict:
    """January to March paid, person 1's March returned, person 2 reported dead in January
    (February and March to recover), April prepared."""
    from juesuan.disbursement import model as core
    from juesuan.web.disbursement import services
    from juesuan.web.disbursement.models import Beneficiary, ResultImport
    from juesuan.web.disbursement.services import events
    from web.conftest import World
    from web.test_disbursement_forms import _returned
    from web.test_disbursement_support import person_id, set_up_unit

    world = World()
    unit, clerk = world.unit, world.users["clerk"]
    set_up_unit(unit, clerk, tmp_path, people=6)
    payment = _returned(unit, world, tmp_path, n=1)
    death = events.EventEntry(
        "QYJS", person_id(2), core.DEATH, date(2020, 1, 15), reported=date(2020, 4, 2)
    )
    assert events.record_event(unit, clerk, death).ok
    run = services.prepare_run(unit, clerk, core.Month(2020, 4)).data["run"]
    return {
        "unit": unit.pk,
        "payment": payment.pk,
        "person": Beneficiary.objects.get(unit=unit, person_id=person_id(0)).pk,
        "result": ResultImport.objects.get(unit=unit, returned__gt=0).pk,
        "run": run,
    }


NEW_ACCOUNT = "6228480402564890018"


def _correct(unit_id: int, payment_id: int) -> int:
    from juesuan.web.accounts.models import Unit, User
    from juesuan.web.disbursement import services

    entered = services.enter_correction(
        Unit.objects.get(pk=unit_id),
        User.objects.get(username="clerk"),
        payment_id,
        name="李淑芬",
        bank="中国农业银行泸州分行",
        account=NEW_ACCOUNT,
        account_name="李淑芬",
    )
    return entered.data["correction"]


def _check(unit_id: int, correction_id: int) -> None:
    from juesuan.web.accounts.models import Unit, User
    from juesuan.web.disbursement import services

    reviewer = User.objects.get(username="reviewer")
    assert services.check_correction(Unit.objects.get(pk=unit_id), reviewer, correction_id).ok


def _review(unit_id: int, run_id: int) -> None:
    from juesuan.web.accounts.models import Unit, User
    from juesuan.web.disbursement import services

    unit = Unit.objects.get(pk=unit_id)
    assert services.review_run(unit, User.objects.get(username="reviewer"), run_id).ok


def _sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, username, PASSWORD)


def _looked_at(page, shots: Shots, name: str, says: str, in_sight: str = "") -> None:
    """The page at both widths: it says `says`, fits the window, no cell one character wide,
    and `in_sight` (a row's button or link) is not scrolled out of its table's box."""
    from web.test_layout_browser import _fits, _narrowest_line

    assert says in page.locator("main, body").first.inner_text(), (name, says)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _fits(page)
        chars, text = _narrowest_line(page, "td, th, label, .field")
        assert chars >= 2, f"{name} at {width}px: “{text}” wraps in {chars:.1f} characters"
        if in_sight:
            assert page.locator(in_sight).first.evaluate(
                """e => {
                  const box = (e.closest('.table-scroll') || document.body).getBoundingClientRect();
                  return e.getBoundingClientRect().right <= box.right + 0.5;
                }"""
            ), f"{name} at {width}px: {in_sight} is out of sight"
        shots.take(page, f"{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


# what each life event's form is filled with before its preview
EVENT_INPUTS = {
    "death": {"#id_day": "2020-04-10"},
    "suspend": {"#id_month": "2020-05"},
    "resume": {"#id_month": "2020-06"},
    "account_change": {
        "#id_bank": "中国农业银行泸州分行",
        "#id_account": "6228480402564890018",
    },
    "stop": {"#id_day": "2020-05-01", "#id_reason": "迁出本市"},
}


def test_every_page_of_the_office_at_both_widths(server, tmp_path):
    office = _apart(lambda: _office(tmp_path))
    base = server.url
    pay = f"{base}/u/{office['unit']}/pay/"
    shots = Shots("office-pages-")
    with browser_page(accept_dialogs=True) as page:
        _sign_in(page, base, "clerk")
        page.goto(pay)
        _looked_at(page, shots, "overview", "补贴类别")
        # April's payments wait for 复核 as their run does, not for 审批
        april = page.locator("tr", has_text="第 4 批 月度发放").inner_text()
        assert "待复核 5 笔" in april and "待审批" not in april, april
        page.goto(pay + "schemes/new/")
        _looked_at(page, shots, "scheme-new", "发放标准")
        page.goto(pay + "schemes/QYJS/")
        _looked_at(page, shots, "scheme-history", "修改记录")
        page.goto(pay + "roster/")
        _looked_at(page, shots, "roster", "花名册")

        for kind, inputs in EVENT_INPUTS.items():
            page.goto(f"{pay}events/new/{office['person']}/?kind={kind}")
            for selector, value in inputs.items():
                if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                    page.select_option(selector, value)
                else:
                    page.fill(selector, value)
            page.click("button:text-is('计算对下一次发放的影响')")
            _looked_at(page, shots, f"event-{kind}", "保存后")
            assert "下一次发放为 2020-04（上一个已审批的月份 2020-03 的次月）" in page.inner_text(
                "main"
            )
        # the schemes here have no tiers: the tier change says so instead of asking
        page.goto(f"{pay}events/new/{office['person']}/?kind=tier_change")
        assert page.locator("form button:text-is('计算对下一次发放的影响')").count() == 0
        _looked_at(page, shots, "event-tier_change", "不分档次，没有可变更的档次")
        page.goto(pay + "events/")
        _looked_at(page, shots, "events", "人员变动")

        page.goto(pay + "runs/")
        _looked_at(page, shots, "runs", "生成发放批次")
        page.goto(f"{pay}runs/{office['run']}/")
        _looked_at(page, shots, "run-prepared", "付款状态：待复核 5 笔，11,500.00 元")
        assert page.locator("select[name=status] option[value=pending]").inner_text() == "待复核"
        page.goto(pay + "results/")
        _looked_at(page, shots, "results", "回盘文件")
        # the file box speaks Chinese (Chromium's own says "Choose File", "No file chosen")
        box = page.locator(".file-pick").first
        assert box.inner_text().split() == ["选择文件", "未选择文件"]
        file = box.locator("input[type=file]")
        assert file.evaluate("e => e.reportValidity() ? '' : e.validationMessage") == "请选择文件。"
        answer = tmp_path / "回盘.csv"
        answer.write_text("x\n", encoding="utf-8")
        file.set_input_files(answer)
        assert box.locator(".file-chosen").inner_text() == "回盘.csv"
        assert file.evaluate("e => e.checkValidity()")
        page.goto(f"{pay}results/{office['result']}/")
        _looked_at(page, shots, "result-report", "账号不存在")

        page.goto(pay + "returns/")
        _looked_at(page, shots, "returns", "退回", in_sight="a:text-is('取消付款…')")
        page.goto(f"{pay}returns/{office['payment']}/cancel/")
        page.fill("#id_reason", "领取人已死亡")
        page.check("input[value=death]")
        page.fill("#id_died", "2020-02-20")
        page.click("button:text-is('计算对下一次发放的影响')")
        _looked_at(page, shots, "cancel", "已死亡（2020-02-20）")
        correction = _apart(lambda: _correct(office["unit"], office["payment"]))
        # 复核 checks the corrected number in full, on request
        _sign_in(page, base, "reviewer")
        page.goto(pay + "returns/")
        assert NEW_ACCOUNT not in page.locator("main").inner_text()
        page.click("button:text-is('显示完整账号')")
        _looked_at(page, shots, "correction-revealed", NEW_ACCOUNT, in_sight="button[value=accept]")
        _apart(lambda: _check(office["unit"], correction))
        _sign_in(page, base, "clerk")
        page.goto(pay + "returns/")
        _looked_at(page, shots, "reissue", "生成补发批次", in_sight="a:text-is('取消付款…')")
        page.goto(pay + "recoveries/")
        _looked_at(
            page,
            shots,
            "recoveries",
            "多发 2,200.00 元（2020-02 至 2020-03）",
            in_sight="summary:text-is('登记追回')",
        )
        page.goto(pay + "stats/?year=2020")
        _looked_at(page, shots, "stats", "按时发放率")
        page.goto(pay + "balance/")
        _looked_at(page, shots, "balance", "资金守恒")

        _sign_in(page, base, "reviewer")
        page.goto(f"{pay}runs/{office['run']}/")
        _looked_at(page, shots, "run-review", "复核通过")
        _apart(lambda: _review(office["unit"], office["run"]))
        _sign_in(page, base, "approver")
        page.goto(f"{pay}runs/{office['run']}/")
        _looked_at(page, shots, "run-approve", "付款状态：待审批 5 笔")

        _sign_in(page, base, "admin")
        page.goto(base + "/manage/")
        _looked_at(page, shots, "grants", "经办")
