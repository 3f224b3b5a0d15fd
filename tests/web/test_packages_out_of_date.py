"""Nothing changes silently: when payments change a year's performance figures after a package
was built, the dashboard says so, names the figures that changed, marks every package built
before as out of date and offers to build again from the current data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from juesuan.disbursement.model import Month
from juesuan.web.workplace.models import Build
from web.conftest import store
from web.test_disbursement_performance import TEACHERS, _pay_month
from web.test_disbursement_support import person_id, set_up_unit


def _page(client, name, unit) -> str:
    response = client.get(reverse(name, args=[unit.pk, 2020]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def paying_unit(world, example_workbook, tmp_path):
    """The example's unit with its 2020 dataset and six beneficiaries in two schemes."""
    store(world.unit, example_workbook, world.users["finance"])
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=6)


def test_paying_a_month_marks_earlier_packages_out_of_date(client, world, paying_unit, tmp_path):
    unit = world.unit
    _pay_month(unit, world.users, tmp_path, Month(2020, 3), {person_id(0): "AC01"})
    client.force_login(world.users["finance"])
    client.post(reverse("builds", args=[unit.pk, 2020]), {"version": 1})
    client.post(reverse("builds", args=[unit.pk, 2020]), {"version": 1})
    assert Build.objects.filter(unit=unit).count() == 2
    assert "代发付款改变了" not in _page(client, "dashboard", unit)  # built from these payments

    _pay_month(unit, world.users, tmp_path, Month(2020, 4))  # April changes the year's figures
    dashboard = _page(client, "dashboard", unit)
    assert "代发付款改变了2020年的绩效数据" in dashboard
    assert f"{TEACHERS} · 发放笔数" in dashboard and f"{TEACHERS} · 发放金额" in dashboard
    assert f"{TEACHERS} · 失败退回笔数" not in dashboard  # unchanged figures are not named
    assert "第 1、2 版" in dashboard and "按当前数据重新生成" in dashboard
    builds = _page(client, "builds", unit)
    assert builds.count("已过期</span>") == 2

    # one click builds again; the new package is current, the earlier ones stay out of date
    client.post(reverse("builds", args=[unit.pk, 2020]), {"version": 1})
    assert Build.objects.filter(unit=unit).count() == 3
    assert "代发付款改变了" not in _page(client, "dashboard", unit)
    assert _page(client, "builds", unit).count("已过期</span>") == 2
    newest = Build.objects.get(unit=unit, number=3)
    assert newest.payments["figures"][f"{TEACHERS} · 发放笔数"] == "6"
