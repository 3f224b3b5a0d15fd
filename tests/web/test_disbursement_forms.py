"""The forms a benefits clerk fills in instead of a file: one life event (with the next
payment shown before saving), a scheme with its standards, a cancellation that says whether
the person's payments stop. Each: valid, refused with errors by field and nothing changed,
audit-logged."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Beneficiary, LifeEvent
from web.test_disbursement_support import STANDARD, person_id, set_up_unit


@pytest.fixture
def unit(world, tmp_path):
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
    return world.unit


def _person(unit, n: int) -> Beneficiary:
    return Beneficiary.objects.get(unit=unit, person_id=person_id(n))


def _event_url(unit, person, kind):
    return reverse("pay:event_new", args=[unit.pk, person.pk]) + f"?kind={kind}"


def _pay_month(unit, world, month):
    """A month prepared, reviewed and approved."""
    prepared = services.prepare_run(unit, world.users["clerk"], month)
    run = prepared.data["run"]
    assert services.review_run(unit, world.users["reviewer"], run).ok
    assert services.approve_run(unit, world.users["approver"], run).ok


def test_the_event_form_says_which_month_is_paid_next_and_why(client, world, unit):
    client.force_login(world.users["clerk"])
    url = _event_url(unit, _person(unit, 0), core.SUSPEND)
    this_month = core.Month.of(timezone.localdate())
    text = client.get(url).content.decode()
    assert f"下一次发放为 {this_month}（本单位还没有审批通过的月度发放，暂按本月计" in text
    assert "上一个已审批" not in text
    _pay_month(unit, world, core.Month(2020, 3))
    text = client.get(url).content.decode()
    assert "下一次发放为 2020-04（上一个已审批的月份 2020-03 的次月）" in text


def test_a_suspension_is_shown_before_it_is_saved(client, world, unit):
    _pay_month(unit, world, core.Month(2020, 3))
    person = _person(unit, 0)  # QYJS, 1,100.00 a month
    client.force_login(world.users["clerk"])
    url = _event_url(unit, person, core.SUSPEND)
    page = client.get(url)
    assert page.status_code == 200
    # months are offered, not typed: the next month to pay is chosen
    assert '<option value="2020-04" selected>' in page.content.decode()

    page = client.post(url, {"kind": core.SUSPEND, "month": "2020-04", "action": "preview"})
    text = page.content.decode()
    assert "2020-04 发放 1,100.00 元" in text  # now
    assert "2020-04 不发放" in text  # with the suspension
    assert not LifeEvent.objects.filter(unit=unit).exists()  # a preview saves nothing
    digest = page.context["form"].data["previewed"]

    page = client.post(
        url,
        {
            "kind": core.SUSPEND,
            "month": "2020-04",
            "reason": "未按期资格认证",
            "previewed": digest,
            "action": "save",
        },
        follow=True,
    )
    # the reason changed after the preview: shown again, not saved
    assert not LifeEvent.objects.filter(unit=unit).exists()
    digest = page.context["form"].data["previewed"]
    client.post(
        url,
        {
            "kind": core.SUSPEND,
            "month": "2020-04",
            "reason": "未按期资格认证",
            "previewed": digest,
            "action": "save",
        },
    )
    event = LifeEvent.objects.get(unit=unit)
    assert (event.kind, event.day.isoformat()) == (core.SUSPEND, "2020-04-01")
    assert event.detail == {"reason": "未按期资格认证"}
    entry = AuditEntry.objects.filter(action="pay_event").get()
    assert "2020-04 不发放" in entry.summary and entry.username == "clerk"

    # the run computes what the preview said
    outcome = services.prepare_run(unit, world.users["clerk"], core.Month(2020, 4))
    assert outcome.ok
    from juesuan.web.disbursement.models import Payment

    assert not Payment.objects.filter(month="2020-04", person_id=person.person_id).exists()


def _offered(form) -> list[str]:
    return [value for _year, months in form.fields["month"].choices for value, _ in months]


def test_the_month_to_pay_is_chosen_from_a_list(client, world, unit):
    from django.utils import timezone

    from juesuan.web.disbursement.models import Run

    client.force_login(world.users["clerk"])
    url = reverse("pay:runs", args=[unit.pk])
    # nothing paid yet: the months from this year back to the year of the 2020 standards
    this_year = timezone.localdate().year
    page = client.get(url)
    offered = _offered(page.context["form"])
    assert offered[:12] == [f"{this_year}-{m:02d}" for m in range(1, 13)]
    assert offered[-12:] == [f"2020-{m:02d}" for m in range(1, 13)]
    assert '<select name="month"' in page.content.decode()
    assert 'type="text" id="id_month"' not in page.content.decode()
    # a month not offered is refused, nothing is prepared
    prepare = reverse("pay:run_prepare", args=[unit.pk])
    page = client.post(prepare, {"month": "2020-3"}, follow=True)
    assert "请从列表中选择发放月份（2020-3 不在可选范围内）" in page.content.decode()
    assert not Run.objects.filter(unit=unit).exists()
    client.post(prepare, {"month": "2020-03"})
    assert Run.objects.get(unit=unit).month == "2020-03"

    # once a month is paid: its year and the year before, the next month chosen
    run = Run.objects.get(unit=unit)
    assert services.review_run(unit, world.users["reviewer"], run.pk).ok
    assert services.approve_run(unit, world.users["approver"], run.pk).ok
    page = client.get(url)
    assert _offered(page.context["form"]) == [
        f"{y}-{m:02d}" for y in (2020, 2019) for m in range(1, 13)
    ]
    assert '<option value="2020-04" selected>' in page.content.decode()


def test_months_and_dates_are_written_the_chinese_way(client, world, unit, tmp_path):
    """No <input type=month|date>: Chromium writes them in its build's language and order
    ("January 2020", "02/20/2020"); text boxes say 2020-01 and 2020-03-15."""
    payment = _returned(unit, world, tmp_path, n=1)
    person = _person(unit, 0)
    client.force_login(world.users["clerk"])
    pages = {
        "补贴类别": reverse("pay:scheme", args=[unit.pk, "QYJS"]),
        "死亡": _event_url(unit, person, core.DEATH),
        "暂停": _event_url(unit, person, core.SUSPEND),
        "取消付款": reverse("pay:payment_cancel", args=[unit.pk, payment.pk]),
        "追回": reverse("pay:recoveries", args=[unit.pk]),
    }
    for name, url in pages.items():
        text = client.get(url).content.decode()
        assert 'type="month"' not in text and 'type="date"' not in text, name
    assert 'placeholder="如 2020-01"' in client.get(pages["补贴类别"]).content.decode()
    assert 'placeholder="如 2020-03-15"' in client.get(pages["死亡"]).content.decode()
    # a date is read as the clerk writes it, and says how when it cannot be
    url = pages["死亡"]
    for typed in ("2020-03-15", "2020/3/15", "2020年3月15日", "20200315"):
        page = client.post(url, {"kind": core.DEATH, "day": typed, "action": "preview"})
        assert "day" not in page.context["form"].errors, typed
        assert page.context["form"].cleaned_data["day"].isoformat() == "2020-03-15"
    page = client.post(url, {"kind": core.DEATH, "day": "03/15/2020", "action": "preview"})
    assert page.context["form"].errors["day"] == ["请写作 2020-03-15（年-月-日）。"]


def test_resuming_shows_the_back_pay(client, world, unit):
    _pay_month(unit, world, core.Month(2020, 3))
    person = _person(unit, 0)
    clerk = world.users["clerk"]
    for kind, month in ((core.SUSPEND, "2020-04"), (core.RESUME, "2020-06")):
        entry = services_event(person, kind, month)
        assert services_record(unit, clerk, entry).changed
    for month in (4, 5):
        _pay_month(unit, world, core.Month(2020, month))
    client.force_login(clerk)
    # the resume is already recorded; the next payment (June) pays April and May back
    found = services.preview(unit, "QYJS", person.person_id, lambda: None)
    assert found.before.amount == 3 * STANDARD["QYJS"]
    assert found.before.back_pay == 2 * STANDARD["QYJS"]
    assert "补发 2,200.00 元" in found.before.describe()


def services_event(person, kind, month):
    from datetime import date

    from juesuan.web.disbursement.services.events import EventEntry

    return EventEntry(
        scheme=person.scheme.code,
        person_id=person.person_id,
        kind=kind,
        day=date(int(month[:4]), int(month[5:]), 1),
    )


def services_record(unit, user, entry):
    from juesuan.web.disbursement.services.events import record_event

    return record_event(unit, user, entry)


def test_an_account_change_is_checked_like_a_file_row(client, world, unit):
    _pay_month(unit, world, core.Month(2020, 3))
    person = _person(unit, 0)
    client.force_login(world.users["clerk"])
    url = _event_url(unit, person, core.ACCOUNT_CHANGE)
    before = AuditEntry.objects.count()
    page = client.post(
        url,
        {
            "kind": core.ACCOUNT_CHANGE,
            "month": "2020-04",
            "bank": "=HYPERLINK()",
            "account": "12ab",
            "action": "preview",
        },
    )
    form = page.context["form"]
    assert "account" in form.errors and "bank" in form.errors, form.errors
    assert "数字" in " ".join(form.errors["account"])
    assert not LifeEvent.objects.exists() and AuditEntry.objects.count() == before

    # a good one: the same amount, but into the new account, and the preview says so
    new = {"bank": "中国农业银行泸州分行", "account": "6228480402564890018"}
    page = client.post(
        url, {"kind": core.ACCOUNT_CHANGE, "month": "2020-04", **new, "action": "preview"}
    )
    shown = page.context["preview"]
    assert shown.before.amount == shown.after.amount == STANDARD["QYJS"]
    assert shown.changes and shown.new_account
    assert (shown.after.bank, shown.after.account) == (new["bank"], new["account"])
    text = page.content.decode()
    assert "改为 中国农业银行泸州分行" in text and "保存后下一次发放不变" not in text


def test_only_a_clerk_records_events(client, world, unit):
    person = _person(unit, 0)
    client.force_login(world.users["reviewer"])
    page = client.post(
        _event_url(unit, person, core.DEATH),
        {"kind": core.DEATH, "day": "2020-03-15", "action": "preview"},
    )
    assert page.status_code == 403
    assert not LifeEvent.objects.exists()


def _returned(unit, world, tmp_path, n: int = 0):
    """January to March paid, except person n's March payment, which the bank returned."""
    from juesuan.web.disbursement.models import Payment, Run
    from web.test_disbursement_support import bank_answers

    for month in (1, 2, 3):
        _pay_month(unit, world, core.Month(2020, month))
        run = Run.objects.get(unit=unit, month=f"2020-{month:02d}")
        returned = {person_id(n): "AC01"} if month == 3 else {}
        for path in bank_answers(run, tmp_path, returned):
            outcome = services.import_results(
                unit, world.users["clerk"], path, adapter_id="generic-csv"
            )
            assert outcome.ok, outcome.message
    return Payment.objects.get(unit=unit, person_id=person_id(n), status=core.RETURNED)


@pytest.mark.parametrize(
    ("then", "reason", "next_after", "kind"),
    [
        (
            "continue",
            "原账户已销户",
            "2020-04 发放 2,200.00 元（当月标准 1,100.00 元，补发 1,100.00 元）。",
            None,
        ),
        (
            "stop",
            "未按期完成资格认证",
            "2020-04 不发放：暂停发放（未按期完成资格认证，自 2020-03 起）。",
            core.SUSPEND,
        ),
        (
            "death",
            "领取人已死亡",
            "2020-04 不发放：已死亡（2020-02-20），死亡当月之后停发。",
            core.DEATH,
        ),
    ],
)
def test_cancelling_says_whether_payments_continue(
    client, world, unit, tmp_path, then, reason, next_after, kind
):
    payment = _returned(unit, world, tmp_path)
    client.force_login(world.users["clerk"])
    url = reverse("pay:payment_cancel", args=[unit.pk, payment.pk])
    assert "此人以后的发放" in client.get(url).content.decode()

    # without the choice: refused by field, nothing changed
    page = client.post(url, {"reason": reason, "action": "preview"})
    assert "then" in page.context["form"].errors
    values = {"reason": reason, "then": then, "died": "2020-02-20"}
    page = client.post(url, {**values, "action": "preview"})
    text = page.content.decode()
    assert "2020-04 发放 1,100.00 元（当月标准 1,100.00 元）。" in text  # now
    assert next_after in text  # after the cancellation, in the clerk's words
    payment.refresh_from_db()
    assert payment.status == core.RETURNED and not LifeEvent.objects.exists()

    digest = page.context["form"].data["previewed"]
    client.post(url, {**values, "previewed": digest, "action": "save"})
    payment.refresh_from_db()
    assert payment.status == core.CANCELLED
    recorded = LifeEvent.objects.filter(unit=unit, person_id=payment.person_id)
    assert [e.kind for e in recorded] == ([kind] if kind else [])
    if kind:
        assert recorded.get().detail["reason"] == reason
    entry = AuditEntry.objects.filter(action="pay_cancel").get()
    assert next_after in entry.summary and entry.after["stop"] == (then == "stop")
    # the run pays what the preview said
    services.prepare_run(unit, world.users["clerk"], core.Month(2020, 4))
    from juesuan.web.disbursement.models import Payment

    paid = Payment.objects.filter(unit=unit, month="2020-04", person_id=payment.person_id)
    assert paid.exists() == (then == "continue")


def test_a_death_is_not_entered_as_a_suspension(client, world, unit, tmp_path):
    payment = _returned(unit, world, tmp_path)
    client.force_login(world.users["clerk"])
    url = reverse("pay:payment_cancel", args=[unit.pk, payment.pk])
    # a death needs its date, checked as the 死亡 form checks it
    page = client.post(url, {"reason": "领取人已死亡", "then": "death", "action": "preview"})
    assert page.context["form"].errors["died"] == ["领取人已死亡时须填写死亡日期。"]
    page = client.post(
        url, {"reason": "领取人已死亡", "then": "death", "died": "2020-13-01", "action": "preview"}
    )
    assert "2020-03-15" in page.context["form"].errors["died"][0]
    page = client.post(
        url, {"reason": "领取人已死亡", "then": "death", "died": "2099-01-01", "action": "preview"}
    )
    assert page.context["form"].errors["died"] == ["死亡日期 2099-01-01 晚于今天，请核对。"]
    assert page.context["preview"] is None
    # a death chosen as a suspension is previewed, with a word on what a suspension does
    page = client.post(url, {"reason": "领取人已死亡", "then": "stop", "action": "preview"})
    assert "暂停发放（领取人已死亡，自 2020-03 起）" in page.content.decode()
    assert "请改选“领取人已死亡”并填写死亡日期" in page.content.decode()
    page = client.post(
        url, {"reason": "银行卡挂失", "then": "stop", "died": "不详", "action": "preview"}
    )
    assert "请改选" not in page.content.decode()  # and the date, not asked for, is not read
    assert page.context["form"].is_valid() and page.context["preview"] is not None
    payment.refresh_from_db()
    assert payment.status == core.RETURNED and not LifeEvent.objects.exists()


def test_a_reissue_is_booked_in_the_month_of_its_payment(client, world, unit, tmp_path):
    payment = _returned(unit, world, tmp_path)
    clerk, reviewer = world.users["clerk"], world.users["reviewer"]
    entered = services.enter_correction(
        unit,
        clerk,
        payment.pk,
        name=payment.name,
        bank="中国银行",
        account="6222020200000000018",
        account_name=payment.name,
    )
    assert services.check_correction(unit, reviewer, entered.data["correction"]).ok
    client.force_login(clerk)
    page = client.get(reverse("pay:returns", args=[unit.pk]))
    months = [v for v, _ in page.context["supplementary_form"].fields["month"].choices]
    assert months == ["2020-03", "2020-04"]  # its own month first, then the next run's
    # a month not offered is refused, nothing made
    client.post(reverse("pay:supplementary", args=[unit.pk]), {"month": "2026-12"})
    from juesuan.web.disbursement.models import Run

    assert not Run.objects.filter(unit=unit, kind=core.SUPPLEMENTARY).exists()
    client.post(reverse("pay:supplementary", args=[unit.pk]), {"month": "2020-03"})
    run = Run.objects.get(unit=unit, kind=core.SUPPLEMENTARY)
    assert run.month == "2020-03"


def test_the_grant_page_says_what_each_role_does(client, world):
    client.force_login(world.users["admin"])
    text = client.get(reverse("manage")).content.decode()
    assert "<dt>经办</dt><dd>办理代发：" in text
    assert "<dt>复核</dt><dd>复核代发批次" in text and "<dt>审批</dt><dd>审批代发批次" in text
    assert "经办、复核：查看" not in text


def _scheme_post(code="DSZN", **changes):
    data = {
        "code": code,
        "name": "独生子女父母奖励",
        "payment_day": "15",
        "function_code": "2089999",
        "economic_code": "30305",
        "project": "",
        "bank_adapter": "generic-csv",
        "payer_account": "51050163010000000123",
        "payer_bank": "中国建设银行泸州分行",
        "payer_name": "泸州市社会保险事业管理局",
        "standards-TOTAL_FORMS": "3",
        "standards-INITIAL_FORMS": "0",
        "standards-0-tier": "",
        "standards-0-start": "2020-01",
        "standards-0-amount": "100.00",
        "standards-0-announced": "",
        "standards-1-tier": "",
        "standards-1-start": "",
        "standards-1-amount": "",
        "standards-1-announced": "",
        "standards-2-tier": "",
        "standards-2-start": "",
        "standards-2-amount": "",
        "standards-2-announced": "",
    }
    data.update(changes)
    return data


def test_a_scheme_is_made_and_changed_by_form_with_its_history(client, world, unit):
    from juesuan.web.disbursement.models import Scheme

    client.force_login(world.users["clerk"])
    page = client.post(reverse("pay:scheme_new", args=[unit.pk]), _scheme_post(), follow=True)
    assert "已保存补贴类别" in page.content.decode()
    scheme = Scheme.objects.get(unit=unit, code="DSZN")
    assert (scheme.payment_day, scheme.payer_bank) == (15, "中国建设银行泸州分行")
    assert [(s.start, s.amount) for s in scheme.standards.all()] == [("2020-01", 10000)]

    # a raise from July announced in September, another adapter
    url = reverse("pay:scheme", args=[unit.pk, "DSZN"])
    client.post(
        url,
        _scheme_post(
            **{
                "standards-1-start": "2020-07",
                "standards-1-amount": "120",
                "standards-1-announced": "2020-09",
                "bank_adapter": "fixed-txt",
            }
        ),
    )
    scheme.refresh_from_db()
    assert scheme.bank_adapter == "fixed-txt"
    assert scheme.as_core().standard(core.Month(2020, 8)) == 12000
    page = client.get(url).content.decode()
    assert "新增标准 自 2020-07 起 120.00 元（2020-09 公布）" in page
    assert "银行接口 generic-csv → fixed-txt" in page
    entries = AuditEntry.objects.filter(action="pay_scheme_edit")
    assert entries.count() == 2 and {e.username for e in entries} == {"clerk"}


def test_a_scheme_form_is_checked_like_the_yaml_file(client, world, unit):
    from juesuan.web.disbursement.models import Scheme, Standard

    client.force_login(world.users["clerk"])
    before = (AuditEntry.objects.count(), Standard.objects.count())
    page = client.post(
        reverse("pay:scheme", args=[unit.pk, "QYJS"]),
        _scheme_post(
            code="QYJS",
            payment_day="31",
            function_code="20899",
            **{
                "standards-0-amount": "1,1.00.5",
                "standards-1-start": "2020-13",
                "standards-1-amount": "5",
            },
        ),
    )
    form, standards = page.context["form"], page.context["standards"]
    assert "payment_day" in form.errors and "1–28" in form.errors["payment_day"][0]
    assert "amount" in standards.forms[0].errors and "start" in standards.forms[1].errors
    assert "function_code" not in form.errors  # 5 digits are a valid 款-level code
    assert (AuditEntry.objects.count(), Standard.objects.count()) == before
    assert Scheme.objects.get(unit=unit, code="QYJS").payment_day == 10
    # a code that exists is refused for a new scheme
    page = client.post(reverse("pay:scheme_new", args=[unit.pk]), _scheme_post(code="QYJS"))
    assert "已有这个代码" in page.context["form"].errors["code"][0]
    # only the clerk saves
    client.force_login(world.users["reviewer"])
    url = reverse("pay:scheme", args=[unit.pk, "QYJS"])
    assert client.get(url).status_code == 200
    assert client.post(url, _scheme_post(code="QYJS")).status_code == 403


def test_schemes_export_reads_back(client, world, unit):
    from juesuan.disbursement.schemes import parse_schemes

    client.force_login(world.users["clerk"])
    text = client.get(reverse("pay:schemes_export", args=[unit.pk])).content.decode()
    again = parse_schemes(text)
    assert again.ok and {s.code for s in again} == {"QYJS", "LXRY"}
    assert again.get("QYJS").standard(core.Month(2020, 5)) == STANDARD["QYJS"]


def test_the_reviewer_sees_a_waiting_corrections_account_in_full_once_asked_and_logged(
    client, world, unit, tmp_path
):
    payment = _returned(unit, world, tmp_path)
    corrected = "6222020200000000018"
    entered = services.enter_correction(
        unit,
        world.users["clerk"],
        payment.pk,
        name=payment.name,
        bank="中国银行",
        account=corrected,
        account_name=payment.name,
    )
    correction = entered.data["correction"]
    returns = reverse("pay:returns", args=[unit.pk])
    reveal = reverse("pay:correction_reveal", args=[unit.pk, correction])
    client.force_login(world.users["reviewer"])
    page = client.get(returns).content.decode()
    assert corrected not in page and corrected[-4:] in page and reveal in page
    assert not AuditEntry.objects.filter(action="pay_correction_reveal").exists()
    shown = client.post(reveal).content.decode()
    assert corrected in shown and "复核通过" in shown  # beside the buttons that check it
    entry = AuditEntry.objects.get(action="pay_correction_reveal")
    assert entry.user_id == world.users["reviewer"].pk and entry.target == payment.reference
    # 经办 entered it and 财务 does not work with it: neither may ask, nothing logged
    for role in ("clerk", "finance"):
        client.force_login(world.users[role])
        assert reveal not in client.get(returns).content.decode()
        assert client.post(reveal).status_code in (403, 404)
    assert AuditEntry.objects.filter(action="pay_correction_reveal").count() == 1
    # once checked it is no longer waiting: nothing to reveal
    assert services.check_correction(unit, world.users["reviewer"], correction).ok
    client.force_login(world.users["reviewer"])
    assert client.post(reveal).status_code == 404
