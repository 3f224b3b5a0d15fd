"""The forms a benefits clerk fills in instead of a file: one life event (with the next
payment shown before saving), a scheme with its standards, a cancellation that says whether
the person's payments stop. Each: valid, refused with errors by field and nothing changed,
audit-logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

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
    ("then", "next_after"),
    [
        ("continue", "2020-04 发放 2,200.00 元（当月标准 1,100.00 元，补发 1,100.00 元）。"),
        ("stop", "2020-04 不发放"),
    ],
)
def test_cancelling_says_whether_payments_continue(client, world, unit, tmp_path, then, next_after):
    payment = _returned(unit, world, tmp_path)
    client.force_login(world.users["clerk"])
    url = reverse("pay:payment_cancel", args=[unit.pk, payment.pk])
    assert "此人以后的发放" in client.get(url).content.decode()

    # without the choice: refused by field, nothing changed
    page = client.post(url, {"reason": "领取人已死亡", "action": "preview"})
    assert "then" in page.context["form"].errors
    page = client.post(url, {"reason": "领取人已死亡", "then": then, "action": "preview"})
    text = page.content.decode()
    assert "2020-04 发放 1,100.00 元（当月标准 1,100.00 元）。" in text  # now
    assert next_after in text  # after the cancellation
    payment.refresh_from_db()
    assert payment.status == core.RETURNED and not LifeEvent.objects.exists()

    digest = page.context["form"].data["previewed"]
    client.post(
        url, {"reason": "领取人已死亡", "then": then, "previewed": digest, "action": "save"}
    )
    payment.refresh_from_db()
    assert payment.status == core.CANCELLED
    suspended = LifeEvent.objects.filter(unit=unit, kind=core.SUSPEND)
    assert suspended.exists() == (then == "stop")
    entry = AuditEntry.objects.filter(action="pay_cancel").get()
    assert next_after in entry.summary and entry.after["stop"] == (then == "stop")
    # the run pays what the preview said
    services.prepare_run(unit, world.users["clerk"], core.Month(2020, 4))
    from juesuan.web.disbursement.models import Payment

    paid = Payment.objects.filter(unit=unit, month="2020-04", person_id=payment.person_id)
    assert paid.exists() == (then == "continue")


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
