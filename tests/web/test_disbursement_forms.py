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
