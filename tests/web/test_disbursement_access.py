"""Every disbursement URL answers each role on its own unit and on another unit as access.py
decides: allowed, 403 (own unit, the role lacks the capability) or 404 (not its unit)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from juesuan.disbursement import model as core
from juesuan.web.accounts.access import CAPABILITIES
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import (
    BankFile,
    Correction,
    Payment,
    Recovery,
    RecoverySettlement,
    ResultImport,
    Run,
    Scheme,
)
from web.test_disbursement_support import bank_answers, person_id, set_up_unit

ROLES = ("finance", "clerk", "reviewer", "approver", "bureau", "admin", "nobody", "other_finance")


@pytest.fixture
def setup(world, tmp_path):
    """Both units with a whole month (a run, files, a result import, a return with its
    correction and a job), so a 404 is about access, not absence."""
    from juesuan.web.accounts.models import APPROVER, CLERK, REVIEWER, Grant, User

    ids = {}
    for unit, suffix in ((world.unit, ""), (world.other, "_o")):
        users = {}
        for role in (CLERK, REVIEWER, APPROVER):
            if suffix:
                user = User.objects.create_user(role + suffix, password="x-long-password-1")
                Grant.objects.create(user=user, unit=unit, role=role)
            else:
                user = world.users[role]
            users[role] = user
        folder = tmp_path / (suffix or "own")
        folder.mkdir()
        set_up_unit(unit, users[CLERK], folder, people=4)
        run_id = services.prepare_run(unit, users[CLERK], core.Month(2020, 3)).data["run"]
        services.review_run(unit, users[REVIEWER], run_id)
        assert services.approve_run(unit, users[APPROVER], run_id).ok
        run = Run.objects.get(pk=run_id)
        for path in bank_answers(run, folder, {person_id(0): "AC01"}):
            services.import_results(unit, users[CLERK], path, adapter_id="generic-csv")
        returned = Payment.objects.get(run=run, status=core.RETURNED)
        services.enter_correction(
            unit,
            users[CLERK],
            returned.pk,
            name="改",
            bank="工行",
            account="6216610200016587010",
            account_name="改",
        )
        from juesuan.web.disbursement import jobs

        job = jobs.start(jobs.PREPARE_JOB, unit, users[CLERK], 2020, {"month": "2020-03"})
        recovery = Recovery.objects.create(
            unit=unit,
            scheme=Scheme.objects.get(unit=unit, code="QYJS"),
            person_id=person_id(2),
            month="2020-03",
            amount=110000,
            detail={"via_bank": True, "months": ["2020-02"], "name": "张三"},
        )
        settlement = services.enter_settlement(
            unit,
            users[CLERK],
            recovery.pk,
            method="family",
            amount=100,
            day=date(2020, 3, 20),
        ).data["settlement"]
        ids[unit.pk] = {
            "run": run.pk,
            "file": BankFile.objects.filter(run=run).first().pk,
            "import": ResultImport.objects.filter(unit=unit).first().pk,
            "payment": returned.pk,
            "correction": Correction.objects.get(payment=returned).pk,
            "job": job.pk,
            "recovery": recovery.pk,
            "settlement": settlement,
        }
    return world, ids


def urls(i: dict) -> list[tuple[str, list, str, str]]:
    """(url name, args after the unit, method, capability)"""
    return [
        ("pay:overview", [], "get", "pay_view"),
        ("pay:roster", [], "get", "pay_view"),
        ("pay:roster_template", [], "get", "pay_view"),
        ("pay:roster_import", [], "post", "pay_prepare"),
        ("pay:events", [], "get", "pay_view"),
        ("pay:events_template", [], "get", "pay_view"),
        ("pay:events_import", [], "post", "pay_prepare"),
        ("pay:schemes_import", [], "post", "pay_prepare"),
        ("pay:runs", [], "get", "pay_view"),
        ("pay:run_prepare", [], "post", "pay_prepare"),
        ("pay:run", [i["run"]], "get", "pay_view"),
        ("pay:run_review", [i["run"]], "post", "pay_review"),
        ("pay:run_approve", [i["run"]], "post", "pay_approve"),
        ("pay:run_send_back", [i["run"]], "post", "pay_view"),
        ("pay:bank_file", [i["run"], i["file"]], "get", "pay_files"),
        ("pay:results", [], "get", "pay_view"),
        ("pay:results_import", [], "post", "pay_prepare"),
        ("pay:result", [i["import"]], "get", "pay_view"),
        ("pay:returns", [], "get", "pay_view"),
        ("pay:correction_enter", [i["payment"]], "post", "pay_prepare"),
        ("pay:payment_cancel", [i["payment"]], "post", "pay_prepare"),
        ("pay:correction_check", [i["correction"]], "post", "pay_review"),
        ("pay:supplementary", [], "post", "pay_prepare"),
        ("pay:recoveries", [], "get", "pay_view"),
        ("pay:recovery_settle", [i["recovery"]], "post", "pay_prepare"),
        ("pay:recovery_check", [i["settlement"]], "post", "pay_review"),
        ("pay:recovery_approve", [i["settlement"]], "post", "pay_approve"),
        ("pay:stats", [], "get", "pay_stats"),
        ("pay:fund_request", ["2020-03"], "get", "pay_stats"),
        ("pay:ledger", [2020], "get", "pay_stats"),
        ("pay:balance", [], "get", "pay_stats"),
        ("pay:job", [i["job"]], "get", "pay_view"),
        ("pay:job_status", [i["job"]], "get", "pay_view"),
    ]


def _expected(world, role: str, unit, capability: str) -> int:
    if role == "other_finance":
        own = unit == world.other
        role = "finance"
    else:
        own = unit == world.unit
    if role in ("admin", "nobody") or not own:
        return 404
    return 200 if capability in CAPABILITIES[role] else 403


@pytest.mark.parametrize("role", ROLES)
def test_every_disbursement_url_for_every_role(client, setup, role):
    world, ids = setup
    client.force_login(world.users[role])
    failures = []
    for unit in (world.unit, world.other):
        for name, extra, method, capability in urls(ids[unit.pk]):
            url = reverse(name, args=[unit.pk, *extra])
            response = client.post(url, {}) if method == "post" else client.get(url)
            got = response.status_code
            expected = _expected(world, role, unit, capability)
            # allowed: the page, a redirect back with a message, or a refusal page of the step
            allowed = got in (200, 302)
            if (expected == 200 and not allowed) or (expected != 200 and got != expected):
                failures.append((name, method, unit.name, expected, got))
    assert not failures, failures


def test_the_unit_is_never_disclosed_by_a_record_id_of_another_unit(client, setup):
    """A run, file or payment of another unit under one's own unit id answers 404."""
    world, ids = setup
    other = ids[world.other.pk]
    client.force_login(world.users["approver"])
    for name, args in (
        ("pay:run", [other["run"]]),
        ("pay:bank_file", [other["run"], other["file"]]),
        ("pay:result", [other["import"]]),
        ("pay:job", [other["job"]]),
    ):
        assert client.get(reverse(name, args=[world.unit.pk, *args])).status_code == 404, name
    client.force_login(world.users["clerk"])
    response = client.post(
        reverse("pay:payment_cancel", args=[world.unit.pk, other["payment"]]),
        {"reason": "试图取消别的单位的付款", "then": "stop", "action": "preview"},
    )
    assert response.status_code == 404
    assert Payment.objects.get(pk=other["payment"]).status == core.RETURNED
    response = client.post(
        reverse("pay:recovery_settle", args=[world.unit.pk, other["recovery"]]),
        {"method": "family", "amount": "1.00", "day": "2020-03-21"},
        follow=True,
    )
    assert "没有这笔追回" in response.content.decode()
    client.force_login(world.users["reviewer"])
    response = client.post(
        reverse("pay:recovery_check", args=[world.unit.pk, other["settlement"]]), follow=True
    )
    assert "没有这条追回登记" in response.content.decode()
    assert RecoverySettlement.objects.get(pk=other["settlement"]).state == "entered"


def test_personal_data_is_masked_on_lists_even_for_roles_that_need_it(client, setup):
    world, ids = setup
    full = person_id(0)
    client.force_login(world.users["clerk"])
    page = client.get(reverse("pay:run", args=[world.unit.pk, ids[world.unit.pk]["run"]]))
    assert full not in page.content.decode()  # in full only on the person's page, on request
    # the finance officer sees the balance, whose problems (if any) are masked; never the roster
    client.force_login(world.users["finance"])
    assert client.get(reverse("pay:roster", args=[world.unit.pk])).status_code == 403
    balance = client.get(reverse("pay:balance", args=[world.unit.pk])).content.decode()
    assert full not in balance
