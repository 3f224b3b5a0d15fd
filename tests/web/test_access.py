"""Login is required everywhere, and every unit URL answers each role on its own and on another
unit as designed: allowed, 403 (own unit, role lacks the capability) or 404 (not its unit)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from juesuan.web.accounts.access import CAPABILITIES
from juesuan.web.workplace.models import BUILD_JOB, Job
from web.conftest import fake_build, store, store_as

ROLES = ("finance", "clerk", "reviewer", "approver", "bureau", "admin", "nobody")

# (url name, extra args after unit/year, method, capability, data)
YEAR_URLS = [
    ("dashboard", [], "get", "view", None),
    ("versions", [], "get", "view", None),
    ("version_report", [1], "get", "view", None),
    ("version_download", [1], "get", "download", None),
    ("tables", [], "get", "view", None),
    ("cell", ["summary", 0, 0, 0], "get", "view", None),
    ("checks", [], "get", "view", None),
    ("texts", [], "get", "view", None),
    ("texts", [], "post", "edit", {}),  # no base version: 400 when allowed
    ("builds", [], "get", "view", None),
    ("builds", [], "post", "build", {}),  # no version chosen: back to the page when allowed
    ("build", [1], "get", "view", None),
    ("build_zip", [1], "get", "download", None),
    ("build_file", [1, 0], "get", "download", None),
    ("build_approve", [1], "post", "approve", {}),
]
UNIT_URLS = [
    ("unit", [], "get", "view", None),
    ("upload", [], "post", "edit", {}),  # no file: back with a message when allowed
    ("consolidate", [], "post", "consolidate", {}),
    ("unit_log", [], "get", "view", None),
]
ADMIN_URLS = [
    ("manage", [], "get"),
    ("audit_log", [], "get"),
    ("user_create", [], "post"),
    ("unit_create", [], "post"),
    ("grant_add", [], "post"),
]


@pytest.fixture
def setup(world, example_workbook):
    """Each unit with a version, a build and a job, so a 404 is about access, not absence."""
    own = store(world.unit, example_workbook, world.users["finance"])
    other = store_as(world.other, example_workbook, world.users["other_finance"])
    fake_build(own, world.users["finance"])
    fake_build(other, world.users["other_finance"])
    jobs = {
        unit.pk: Job.objects.create(kind=BUILD_JOB, unit=unit, year=2020, status="succeeded")
        for unit in (world.unit, world.other)
    }
    return world, jobs


def _call(client, method, url, data):
    return client.post(url, data or {}) if method == "post" else client.get(url)


def _expected(role: str, own: bool, capability: str, unit_is_department: bool = False) -> int:
    if role in ("admin", "nobody") or not own:
        return 404
    return 200 if capability in CAPABILITIES[role] else 403


@pytest.mark.parametrize("role", ROLES)
def test_unit_year_urls(client, setup, role):
    world, _jobs = setup
    client.force_login(world.users[role])
    failures = []
    for unit, own in ((world.unit, True), (world.other, False)):
        for name, extra, method, capability, data in YEAR_URLS:
            url = reverse(name, args=[unit.pk, 2020, *extra])
            response = _call(client, method, url, data)
            expected = _expected(role, own, capability)
            got = response.status_code
            allowed = got in (200, 302, 400)
            if (expected == 200 and not allowed) or (expected != 200 and got != expected):
                failures.append((name, method, "own" if own else "other", expected, got))
    assert not failures, failures


@pytest.mark.parametrize("role", ROLES)
def test_unit_urls(client, setup, role):
    world, jobs = setup
    client.force_login(world.users[role])
    failures = []
    for unit, own in ((world.unit, True), (world.other, False)):
        urls = [(n, e, m, c, d) for n, e, m, c, d in UNIT_URLS]
        urls += [
            ("job", [jobs[unit.pk].pk], "get", "view", None),
            ("job_status", [jobs[unit.pk].pk], "get", "view", None),
        ]
        for name, extra, method, capability, data in urls:
            url = reverse(name, args=[unit.pk, *extra])
            got = _call(client, method, url, data).status_code
            expected = _expected(role, own, capability)
            allowed = got in (200, 302, 400)
            if (expected == 200 and not allowed) or (expected != 200 and got != expected):
                failures.append((name, method, "own" if own else "other", expected, got))
    assert not failures, failures


def test_bureau_sees_the_department_subtree_only(client, setup):
    world, _ = setup
    client.force_login(world.users["bureau"])
    assert client.get(reverse("unit", args=[world.department.pk])).status_code == 200
    assert client.get(reverse("dashboard", args=[world.unit.pk, 2020])).status_code == 200
    assert client.get(reverse("unit", args=[world.other_department.pk])).status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert world.unit.name in home and world.other.name not in home


def test_a_job_of_another_unit_is_not_found_under_ones_own(client, setup):
    world, jobs = setup
    client.force_login(world.users["finance"])
    url = reverse("job", args=[world.unit.pk, jobs[world.other.pk].pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("job", args=[world.unit.pk, uuid.uuid4()])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_admin_urls(client, setup, role):
    world, _ = setup
    client.force_login(world.users[role])
    for name, extra, method in ADMIN_URLS:
        got = _call(client, method, reverse(name, args=extra), {}).status_code
        if role == "admin":
            assert got in (200, 302, 400), (name, got)
        else:
            assert got == 403, (name, got)


def test_login_required_everywhere(client, setup):
    world, jobs = setup
    unit = world.unit.pk
    urls = [reverse("home"), reverse("template"), reverse("password"), reverse("manage")]
    urls += [reverse(n, args=[unit, 2020, *e]) for n, e, *_ in YEAR_URLS]
    urls += [reverse(n, args=[unit, *e]) for n, e, *_ in UNIT_URLS]
    urls += [
        reverse("job", args=[unit, jobs[unit].pk]),
        reverse("job_status", args=[unit, jobs[unit].pk]),
    ]
    urls += [reverse(n, args=e) for n, e, _ in ADMIN_URLS]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith(reverse("login")), url
    assert client.get(reverse("login")).status_code == 200


def test_deactivated_user_loses_access(client, setup):
    world, _ = setup
    user = world.users["finance"]
    client.force_login(user)
    user.is_active = False
    user.save()
    response = client.get(reverse("dashboard", args=[world.unit.pk, 2020]))
    assert response.status_code == 302  # the session no longer authenticates


def test_roles_held_here_and_as_bureau_above_both_count(world, django_assert_max_num_queries):
    from django.http import Http404

    from juesuan.web.accounts.access import unit_access
    from juesuan.web.accounts.models import BUREAU, FINANCE, Grant

    clerk = world.users["clerk"]
    with django_assert_max_num_queries(1):  # a role on the unit itself: one query
        assert unit_access(clerk, world.unit.pk, "view").roles == {"clerk"}
    Grant.objects.create(user=clerk, unit=world.department, role=BUREAU)
    assert unit_access(clerk, world.unit.pk, "view").roles == {"clerk", BUREAU}
    # a 财政局 grant elsewhere does not reach this unit; a role on another unit neither
    Grant.objects.filter(user=clerk, role=BUREAU).update(unit=world.other_department)
    assert unit_access(clerk, world.unit.pk, "view").roles == {"clerk"}
    assert unit_access(clerk, world.other.pk, "view").roles == {BUREAU}
    Grant.objects.create(user=world.users["other_finance"], unit=world.department, role=FINANCE)
    with pytest.raises(Http404):  # a 财务 grant on the 部门 gives nothing on its units
        unit_access(world.users["other_finance"], world.unit.pk, "view")
