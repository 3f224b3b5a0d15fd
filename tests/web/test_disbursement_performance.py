"""Performance actuals from the unit's payments: a unit that paid benefits through the
disbursement app gets the 发放人数, 发放笔数, 失败退回笔数 (率), 发放金额 and 按时发放笔数 of those
schemes' projects from its payments, not from the typed 绩效数据; the checks page says so and
shows where the typed figures differ; a newly imported bank result file is seen at once; a unit
without payments in the year is evaluated as before."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from juesuan.disbursement.model import Month
from juesuan.publish.package import prepare
from juesuan.rules.engine import FAIL
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Run
from juesuan.web.workplace import analysis
from web.conftest import store, store_as
from web.test_disbursement_support import STANDARD, bank_answers, person_id, set_up_unit

TEACHERS = "企业教师生活补贴"  # QYJS in the test schemes; a project of the example dataset
RETIREES = "市级破产改制企业离休人员生活补贴"  # LXRY


def _pay_month(unit, users, folder, month: Month, returns=None, *, answer=True) -> Run:
    """Prepare, review and approve `month`'s run; with `answer`, import the bank's result files."""
    clerk, reviewer, approver = (users[r] for r in ("clerk", "reviewer", "approver"))
    prepared = services.prepare_run(unit, clerk, month)
    assert prepared.ok and prepared.changed, prepared.message
    run = Run.objects.get(pk=prepared.data["run"])
    assert services.review_run(unit, reviewer, run.pk).ok
    approved = services.approve_run(unit, approver, run.pk)
    assert approved.ok, approved.message
    if answer:
        _answer(unit, users, run, folder, returns)
    return run


def _answer(unit, users, run, folder, returns=None) -> None:
    for path in bank_answers(run, folder, returns):
        imported = services.import_results(unit, users["clerk"], path, adapter_id="generic-csv")
        assert imported.ok and imported.changed, (imported.message, imported.problems)


def _score(prepared, project: str, name: str):
    return next(s for s in prepared.performance.project(project).scores if s.name == name)


def _typed_vs_payments(prepared, project: str, item: str):
    return next(
        o
        for o in prepared.outcomes
        if o.rule == "PERF-data-external" and o.bindings == {"项目": project, "数据项": item}
    )


def _checks_page(client, unit) -> str:
    response = client.get(reverse("checks", args=[unit.pk, 2020]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def paying_unit(world, example_workbook, tmp_path):
    """The example's unit with its 2020 dataset and six beneficiaries in two schemes."""
    version = store(world.unit, example_workbook, world.users["finance"])
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=6)
    return version


def test_actuals_come_from_the_payments_and_differences_are_warned(
    client, world, paying_unit, tmp_path
):
    # March: persons 0, 2, 4 in QYJS (person 0's payment returned, AC01), 1, 3, 5 in LXRY
    _pay_month(world.unit, world.users, tmp_path, Month(2020, 3), {person_id(0): "AC01"})
    found = analysis.analysed(paying_unit)
    assert found.actuals is not None and found.actuals.payments == 6
    prepared = found.prepared

    persons = _score(prepared, TEACHERS, "发放人数")
    assert persons.basis == "计算" and persons.actual.number == 2
    assert "代发系统2020年" in persons.actual.text
    returned = _score(prepared, TEACHERS, "失败退回率")  # 1 of 3 payments made
    assert returned.basis == "计算"
    assert returned.actual.number == Decimal(100) / 3
    per_capita = _score(prepared, RETIREES, "人均补贴成本")  # 3 × 3,100.00 元 ÷ 3 人, in 万元/人
    assert per_capita.actual.number == Decimal("0.31")

    # the typed 绩效数据 (644 persons, 7,728 payments) differ: a warning names both figures
    differs = _typed_vs_payments(prepared, TEACHERS, "发放人数")
    assert differs.tier == "WARNING" and differs.status == FAIL
    assert differs.actual.amount == 644 and differs.expected.amount == 2
    assert "绩效数据填报 644 人，代发系统2020年计算为 2 人" in differs.message
    assert "工作表“绩效数据” 第2行" in differs.refs[0]  # the typed row, as the workbook numbers it
    returns = _typed_vs_payments(prepared, TEACHERS, "失败退回笔数")
    assert returns.status == FAIL and returns.expected.amount == 1
    # the stated indicator value is checked against the payments as well
    stated = next(
        o
        for o in prepared.outcomes
        if o.rule == "PERF-actual-stated"
        and o.bindings.get("指标") == "发放人数"
        and o.bindings.get("项目") == TEACHERS
    )
    assert stated.status == FAIL and "代发系统2020年" in stated.message

    # without the payments the same dataset scores the typed figures
    plain = prepare(found.dataset)
    assert _score(plain, TEACHERS, "发放人数").actual.number == 644
    assert not [o for o in plain.outcomes if o.rule == "PERF-data-external"]

    client.force_login(world.users["finance"])
    page = _checks_page(client, world.unit)
    assert "绩效实际值来源：代发系统" in page
    assert "代发系统：2020年 3 笔" in page
    assert "填报 644 人" in page and "填报 7728 笔" in page
    assert "2,200.00 元" in page  # two QYJS payments of 1,100.00 元 paid
    assert "绩效数据填报 644 人，代发系统2020年计算为 2 人" in page

    # the dashboard counts the warnings as the 审核 page does, payments included
    warnings = prepared.summary["failed_by_tier"]["WARNING"]
    assert warnings > paying_unit.summary["warning"]  # stored at upload, before any payment
    dashboard = client.get(reverse("dashboard", args=[world.unit.pk, 2020])).content.decode()
    shown = re.search(r'<div class="label">警告</div><div class="value">(\d+)</div>', dashboard)
    assert shown and int(shown.group(1)) == warnings


def test_a_new_result_file_changes_the_actuals_at_once(client, world, paying_unit, tmp_path):
    _pay_month(world.unit, world.users, tmp_path, Month(2020, 3), {person_id(0): "AC01"})
    client.force_login(world.users["finance"])
    before = _checks_page(client, world.unit)
    assert "代发系统2020年计算为 2 人" in before
    assert _score(analysis.analysed(paying_unit).prepared, TEACHERS, "发放人数").actual.number == 2

    # April approved: its payments are made (sent) but not yet paid
    april = _pay_month(world.unit, world.users, tmp_path, Month(2020, 4), answer=False)
    sent = _checks_page(client, world.unit)
    assert "代发系统：2020年 6 笔" in sent and "代发系统2020年计算为 2 人" in sent

    # the bank's answer for April: every payment paid, person 0 included
    _answer(world.unit, world.users, april, tmp_path)
    after = _checks_page(client, world.unit)
    assert "代发系统2020年计算为 3 人" in after and "代发系统2020年计算为 2 人" not in after
    found = analysis.analysed(paying_unit)
    assert _score(found.prepared, TEACHERS, "发放人数").actual.number == 3
    # five QYJS payments of 1,100.00 元 paid (person 0's March payment still returned)
    assert (
        found.actuals.measures.values[(TEACHERS, "发放金额")] == Decimal(5 * STANDARD["QYJS"]) / 100
    )
    assert "5,500.00 元" in after


def test_a_unit_without_payments_in_the_year_is_evaluated_as_before(
    client, world, example_workbook, tmp_path
):
    from juesuan.web.accounts.models import APPROVER, CLERK, REVIEWER, Grant

    # the other unit pays through the disbursement app, but only in 2021
    version = store_as(world.other, example_workbook, world.users["other_finance"])
    for role in (CLERK, REVIEWER, APPROVER):
        Grant.objects.create(user=world.users[role], unit=world.other, role=role)
    set_up_unit(world.other, world.users["clerk"], tmp_path, people=2)
    _pay_month(world.other, world.users, tmp_path, Month(2021, 1))
    assert analysis.payments_stamp(world.other.pk, 2020) != ""  # it has runs, none in 2020

    found = analysis.analysed(version)
    assert found.actuals is None
    plain = prepare(found.dataset)
    assert [(o.rule, o.status, o.message) for o in found.prepared.outcomes] == [
        (o.rule, o.status, o.message) for o in plain.outcomes
    ]
    assert _score(found.prepared, TEACHERS, "发放人数").actual.number == 644
    client.force_login(world.users["other_finance"])
    page = client.get(reverse("checks", args=[world.other.pk, 2020])).content.decode()
    assert "绩效实际值来源" not in page and "审核规则" in page


def test_typed_figures_equal_to_the_payments_pass_and_the_on_time_rate_is_computed():
    """The evaluation alone (no database): the example's typed figures given again as measures
    agree; 按时发放率 = 按时发放笔数 ÷ 发放笔数; every value names its source."""
    from juesuan.ledger.load import load
    from juesuan.performance import ExternalMeasures, Measures, evaluate_performance
    from web.conftest import EXAMPLE

    dataset, _ = load(EXAMPLE)
    given = ExternalMeasures(
        {
            (TEACHERS, "发放人数"): 644,
            (TEACHERS, "发放笔数"): 7728,
            (TEACHERS, "按时发放笔数"): 7700,
        },
        "代发系统2020年",
    )
    result = evaluate_performance(dataset, measures=given)
    agreed = [o for o in result.outcomes if o.rule == "PERF-data-external"]
    assert [(o.bindings["数据项"], o.status) for o in agreed] == [
        ("发放人数", "pass"),
        ("发放笔数", "pass"),
    ]
    assert "绩效数据填报 644 人，代发系统2020年计算为 644 人，一致" in agreed[0].message
    on_time = Measures(dataset, given).get(TEACHERS, "按时发放率")
    assert on_time.value == Decimal(7700) * 100 / Decimal(7728) and on_time.unit == "%"
    assert (
        on_time.how == "按时发放笔数 7700 笔（代发系统2020年） ÷ 发放笔数 7728 笔（代发系统2020年）"
    )


def test_a_build_records_the_actuals_it_took_from_the_payments(
    client, world, paying_unit, tmp_path
):
    """The package's manifest lists the values not read from the input files it hashes."""
    import io
    import json
    import zipfile

    from juesuan.web.workplace.models import Build

    _pay_month(world.unit, world.users, tmp_path, Month(2020, 3), {person_id(0): "AC01"})
    client.force_login(world.users["finance"])
    client.post(reverse("builds", args=[world.unit.pk, 2020]), {"version": 1})
    build = Build.objects.get()
    content = b"".join(
        client.get(reverse("build_zip", args=[world.unit.pk, 2020, 1])).streaming_content
    )
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("manifest.json"))
    external = manifest["external_measures"]
    assert external["source"] == "代发系统2020年"
    values = {(v["project"], v["name"]): v["value"] for v in external["values"]}
    assert values[(TEACHERS, "发放人数")] == "2" and values[(TEACHERS, "失败退回笔数")] == "1"
    assert build.manifest["external_measures"] == external
