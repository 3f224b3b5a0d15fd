"""The clerk's forms in Chromium: a new 补贴类别, a 暂停 seen before it is saved, a returned
payment cancelled with the person's payments stopped. Screenshots of each page at 1366 and
1024 px go to $JUESUAN_SCREENSHOTS."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from web.browser_support import Shots, browser_page, live_server, sign_in
from web.conftest import PASSWORD


@pytest.fixture
def server(transactional_db):
    with live_server() as live:
        yield live


def _apart(work):
    """Database work outside the live server's thread, as the page's own tests do."""
    from django.db import connections

    def run():
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def _both_widths(page, shots: Shots, name: str) -> None:
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        shots.take(page, f"{name}-{width}")


def test_the_clerk_does_it_in_the_browser(server, tmp_path):
    from web.conftest import World
    from web.test_disbursement_forms import _returned
    from web.test_disbursement_support import person_id, set_up_unit

    def prepare():
        world = World()
        set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
        payment = _returned(world.unit, world, tmp_path, n=2)
        return world.unit.pk, payment.pk

    unit, payment = _apart(prepare)
    base = server.url
    shots = Shots("forms-")
    with browser_page(accept_dialogs=True) as page:
        sign_in(page, base, "clerk", PASSWORD)

        # a new scheme, with an error first: the field says what is wrong
        page.goto(f"{base}/u/{unit}/pay/")
        page.click("a:text-is('新建补贴类别')")
        page.fill("#id_code", "DSZN")
        page.fill("#id_name", "独生子女父母奖励")
        page.fill("#id_payment_day", "31")
        page.fill("#id_standards-0-start", "2020-01")
        page.fill("#id_standards-0-amount", "100.00")
        # a fourth standard row, added in place: what was typed stays
        page.click("button:text-is('添加一行')")
        assert page.input_value("#id_standards-0-amount") == "100.00"
        assert page.input_value("#id_standards-TOTAL_FORMS") == "4"
        page.fill("#id_standards-3-start", "2020-07")
        page.fill("#id_standards-3-amount", "120.00")
        page.fill("#id_payer_account", "51050163010000000123")
        page.fill("#id_payer_bank", "中国建设银行泸州分行")
        page.click("button:text-is('保存')")
        assert "1–28" in page.locator(".errorlist").first.inner_text()
        _both_widths(page, shots, "scheme-error")
        page.fill("#id_payment_day", "15")
        page.click("button:text-is('保存')")
        assert "已保存补贴类别" in page.locator(".notice.ok, .messages").first.inner_text()
        assert "新建补贴类别" in page.locator("table.list.small").inner_text()
        amounts = page.locator("table.standards input[name$='-amount']")
        saved = [amounts.nth(i).input_value() for i in range(amounts.count())]
        assert [a for a in saved if a] == ["100.00", "120.00"], saved
        _both_widths(page, shots, "scheme")

        # a suspension: the next payment is shown before saving
        page.goto(f"{base}/u/{unit}/pay/roster/?q={person_id(0)}")
        page.click("a:text-is('登记变动')")
        page.click("nav.small-tabs a:text-is('暂停（未资格认证）')")
        page.select_option("#id_month", "2020-04")
        page.click("button:text-is('计算对下一次发放的影响')")
        preview = page.locator(".preview").inner_text()
        assert "2020-04 发放 1,100.00 元" in preview and "2020-04 不发放" in preview
        _both_widths(page, shots, "event-preview")
        page.click("button:text-is('确认保存')")
        page.wait_for_url(f"{base}/u/{unit}/pay/events/")
        assert "已登记暂停" in page.content()

        # the returned payment cancelled: the person died; a suspension is not a death
        page.goto(f"{base}/u/{unit}/pay/returns/{payment}/cancel/")
        page.fill("#id_reason", "领取人已死亡")
        page.check("input[value=stop]")
        page.click("button:text-is('计算对下一次发放的影响')")
        assert "暂停发放（领取人已死亡" in page.locator(".preview").inner_text()
        assert "请改选“领取人已死亡”" in page.locator(".notice.warning").first.inner_text()
        _both_widths(page, shots, "cancel-as-suspension")
        page.check("input[value=death]")
        page.fill("#id_died", "2020-02-20")
        page.click("button:text-is('修改后重新计算')")
        preview = page.locator(".preview").inner_text()
        assert "2020-04 不发放：已死亡（2020-02-20）" in preview
        assert "请点“确认取消付款”" in preview  # the button's name
        _both_widths(page, shots, "cancel-preview")
        page.click("button:text-is('确认取消付款')")
        page.wait_for_url(f"{base}/u/{unit}/pay/returns/")
        assert "付款已取消" in page.content()


def test_the_clerk_chooses_the_month_a_re_issue_is_booked_in(server, tmp_path):
    """A checked correction of a returned March payment: the list offers March (the default)
    and the month the next run pays; the clerk picks the latter and the run is booked in it."""
    from web.conftest import World
    from web.test_disbursement_forms import _returned
    from web.test_disbursement_support import set_up_unit

    def prepare():
        from juesuan.web.disbursement import services

        world = World()
        set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
        payment = _returned(world.unit, world, tmp_path, n=1)
        entered = services.enter_correction(
            world.unit,
            world.users["clerk"],
            payment.pk,
            name=payment.name,
            bank="中国农业银行泸州分行",
            account="6228480402564890018",
            account_name=payment.name,
        )
        correction = entered.data["correction"]
        assert services.check_correction(world.unit, world.users["reviewer"], correction).ok
        return world.unit.pk

    unit = _apart(prepare)
    base = server.url
    shots = Shots("reissue-")
    with browser_page(accept_dialogs=True) as page:
        sign_in(page, base, "clerk", PASSWORD)
        page.goto(f"{base}/u/{unit}/pay/returns/")
        choice = page.locator("#id_supplementary_month")
        assert choice.locator("option").all_inner_texts()[0].startswith("2020-03")
        assert choice.input_value() == "2020-03"  # the month of the payment it pays again
        assert [o.get_attribute("value") for o in choice.locator("option").all()] == [
            "2020-03",
            "2020-04",
        ]
        _both_widths(page, shots, "month-choice")
        choice.select_option("2020-04")
        page.click("button:text-is('生成补发批次')")
        page.wait_for_url(re.compile(rf"{base}/u/{unit}/pay/runs/\d+/$"))
        assert "2020-04 补发批次" in page.locator("h2").first.inner_text()
        _both_widths(page, shots, "run")
