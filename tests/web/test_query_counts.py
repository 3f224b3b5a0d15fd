"""Queries per page do not grow with the rows shown: the dashboard, the tables page, the roster
and a run's page cost as many queries with 10 rows as with 100 (the person keys of the roster
and the run are read in the rows' own query, not one query a row), and the home page as many
with a 财政局 grant over a deep tree of units as over one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from juesuan.disbursement.model import Month
from juesuan.web.accounts.models import UNIT, Unit
from juesuan.web.audit.log import record
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import PersonKey, Run
from web.conftest import store, store_as
from web.test_disbursement_support import roster_csv, set_up_unit


def _queries(client, url: str) -> tuple[int, str]:
    """The queries of one request of `url` (asked once before, so sessions and caches are as
    they are on a busy server), and the page."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def _log(world, n: int) -> None:
    for i in range(n):
        record(
            "upload", user=world.users["finance"], unit=world.unit, year=2020, summary=f"第{i}条"
        )


def test_the_dashboard_and_tables_cost_the_same_with_10_and_100_activity_rows(
    client, world, example_workbook
):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    tables = reverse("tables", args=[world.unit.pk, 2020]) + "?t=general"
    _log(world, 10)
    few = _queries(client, dashboard)[0], _queries(client, tables)[0]
    _log(world, 90)
    many_dashboard, page = _queries(client, dashboard)
    assert "第89条" in page  # the newest rows are shown, not a page cached before them
    assert (many_dashboard, _queries(client, tables)[0]) == few
    assert few[1] <= 4  # session, user, grants with the unit, current version
    assert few[0] <= 5  # and the audit stamp, running jobs and whether the unit pays benefits


def test_the_home_page_costs_the_same_over_one_unit_and_a_deep_tree(
    client, world, example_workbook
):
    store_as(world.unit, example_workbook)
    client.force_login(world.users["bureau"])
    home = reverse("home")
    few, page = _queries(client, home)
    assert few <= 4  # session, user, the units seen, their current versions
    assert world.unit.name in page and world.other.name not in page
    parent = world.unit
    for depth in range(1, 6):  # five levels below the unit, two units a level
        for n in (1, 2):
            below = Unit.objects.create(name=f"下级{depth}-{n}", kind=UNIT, parent=parent)
        parent = below
    store_as(below, example_workbook)
    many, page = _queries(client, home)
    assert many == few
    assert "下级5-2" in page and page.count("第 1 版") == 2
    assert world.other.name not in page


def test_roster_and_run_pages_cost_the_same_with_10_and_100_people(client, world, tmp_path):
    unit, clerk = world.unit, world.users["clerk"]
    set_up_unit(unit, clerk, tmp_path, people=10)
    march = Run.objects.get(pk=services.prepare_run(unit, clerk, Month(2020, 3)).data["run"])
    client.force_login(clerk)
    roster = reverse("pay:roster", args=[unit.pk])
    few_roster, page = _queries(client, roster)
    few_run, run_page = _queries(client, reverse("pay:run", args=[unit.pk, march.pk]))
    key = PersonKey.objects.filter(unit=unit).order_by("key").first().key
    assert reverse("pay:person", args=[unit.pk, key]) in page  # the rows link by person key
    assert f"-{key}-202003-" in run_page  # and a payment's number carries it

    grown = services.import_roster(unit, clerk, roster_csv(tmp_path / "100人.csv", 100))
    assert grown.ok and grown.data["added"] == 90, grown.problems
    april = Run.objects.get(pk=services.prepare_run(unit, clerk, Month(2020, 4)).data["run"])
    assert april.payments.count() >= 100
    many_roster, page = _queries(client, roster)
    assert "共 100 人" in page
    assert _queries(client, roster + "?page=2")[0] == many_roster == few_roster
    many_run, run_page = _queries(client, reverse("pay:run", args=[unit.pk, april.pk]))
    assert many_run == few_run
    last = PersonKey.objects.filter(unit=unit).order_by("-key").first().key
    assert f"-{last}-202004-" in run_page or f"-{last}-202004-" in (
        client.get(reverse("pay:run", args=[unit.pk, april.pk]) + "?page=2").content.decode()
    )


def test_every_page_s_own_statements_are_prepared_on_postgresql(client, world, example_workbook):
    """The session, user, grants and version statements are parsed and planned once per
    connection on PostgreSQL, not on every request (web/sql.py); the ORM's are not prepared."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    assert client.get(dashboard).status_code == 200

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    before = prepared()
    for table in ("django_session", "accounts_user u", "accounts_grant g", "audit_auditentry"):
        assert any(table in statement for statement in before), (table, before)
    assert client.get(dashboard).status_code == 200
    assert prepared() == before  # the second request prepared nothing more: it reused them
