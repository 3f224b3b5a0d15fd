"""Parts of pages cached per dataset version: a new version is drawn anew, and the cache never
stands in for a permission check or carries one user's page to another."""

from __future__ import annotations

import csv
import re
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.urls import reverse

from juesuan.ledger.export import write_workbook
from juesuan.ledger.load import load
from juesuan.rules.engine import Outcome
from juesuan.rules.expr import Value
from juesuan.web.workplace import pages
from juesuan.web.workplace.templatetags.juesuan import difference, quantity, topic_label
from web.conftest import EXAMPLE, PASSWORD, fake_build, store

# 2080107 社会保险业务管理事务: its first spending line in the example is 18,650.00 元 of 办公费.
CHANGED_FROM, CHANGED_TO = "18650.00", "1018650.00"


@pytest.fixture
def changed_workbook(tmp_path_factory):
    """The example with one spending line a million 元 larger: other figures in the tables."""
    folder = tmp_path_factory.mktemp("changed") / "data"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "spending.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        if row[2] == "2080107" and row[8] == CHANGED_FROM:
            row[8] = CHANGED_TO
            break
    else:
        raise AssertionError("the example changed: pick another line")
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    dataset, issues = load(folder)
    assert dataset is not None, issues
    workbook = folder.parent / "改过一行.xlsx"
    write_workbook(dataset, workbook)
    return workbook


def _table(client, unit, table="general") -> str:
    response = client.get(reverse("tables", args=[unit.pk, 2020]) + f"?t={table}")
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, code: str) -> str:
    """The table row (<tr>…</tr>) whose label starts with the code."""
    start = page.index(f">{code}")
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def store_version(world):
    from juesuan.web.workplace.versions import current_version

    return current_version(world.unit, 2020)


def test_a_new_version_draws_its_tables_anew(client, world, example_workbook, changed_workbook):
    first = store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    before = _row(_table(client, world.unit), "2080107")
    assert cache.get(pages.version_key(first, "table", "general")) is not None
    again = _row(_table(client, world.unit), "2080107")
    assert again == before  # served from the cache, the same

    second = store(world.unit, changed_workbook, world.users["finance"])
    assert pages.version_key(second, "table", "general") != pages.version_key(
        first, "table", "general"
    )
    after = _row(_table(client, world.unit), "2080107")
    assert after != before
    assert "116.85" in after and "16.85" in before  # 16.85 万元 + 100 万元
    # the dashboard, the checks and the texts follow the new version too
    assert (
        "第 2 版" in client.get(reverse("dashboard", args=[world.unit.pk, 2020])).content.decode()
    )
    assert cache.get(pages.version_key(second, "table", "general")) is not None


def test_cached_pages_still_check_who_asks(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    urls = [
        reverse("dashboard", args=[world.unit.pk, 2020]),
        reverse("tables", args=[world.unit.pk, 2020]) + "?t=general",
        reverse("checks", args=[world.unit.pk, 2020]),
        reverse("texts", args=[world.unit.pk, 2020]),
    ]
    for url in urls:
        assert client.get(url).status_code == 200  # drawn and cached
    assert cache.get(pages.version_key(store_version(world), "table", "general")) is not None

    for name in ("other_finance", "nobody", "admin"):
        client.force_login(world.users[name])
        for url in urls:
            assert client.get(url).status_code == 404, (name, url)
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]

    # another role on the unit gets the cached table with its own name and roles around it
    client.force_login(world.users["clerk"])
    page = client.get(urls[1]).content.decode()
    assert "clerk用户" in page and "经办" in page and "finance用户" not in page
    # the upload form is for roles that may edit, cached table or not
    assert "上传并导入" not in client.get(urls[0]).content.decode()


def test_another_role_without_the_capability_gets_403_on_a_cached_unit(
    client, world, example_workbook
):
    version = store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    assert client.get(reverse("tables", args=[world.unit.pk, 2020])).status_code == 200
    client.force_login(world.users["clerk"])  # 经办 may view, not download
    url = reverse("version_download", args=[world.unit.pk, 2020, version.number])
    assert client.get(url).status_code == 403


def test_signed_in_by_form_the_cached_table_keeps_csrf_per_user(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    tokens = []
    for name in ("finance", "clerk"):
        client.logout()
        client.post(reverse("login"), {"username": name, "password": PASSWORD})
        page = client.get(reverse("tables", args=[world.unit.pk, 2020]))
        tokens.append(page.context["csrf_token"])
    assert tokens[0] != tokens[1]


def _without_tokens(page: str) -> str:
    """A page with its CSRF tokens blanked: each response masks the token anew."""
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1"', page)


def test_cached_parts_draw_the_pages_as_drawing_them_anew(client, world, example_workbook):
    finance = world.users["finance"]
    version = store(world.unit, example_workbook, finance)
    fake_build(version, finance)
    client.force_login(finance)
    urls = [
        reverse("dashboard", args=[world.unit.pk, 2020]),
        reverse("tables", args=[world.unit.pk, 2020]) + "?t=general",
        reverse("checks", args=[world.unit.pk, 2020]),
        reverse("versions", args=[world.unit.pk, 2020]),
        reverse("home"),
    ]

    def pages_now() -> dict[str, str]:
        return {url: _without_tokens(client.get(url).content.decode()) for url in urls}

    drawn = pages_now()  # drawn, then kept
    assert "公开包第 1 版" in drawn[urls[0]] and "上传并导入" in drawn[urls[0]]
    assert pages_now() == drawn  # from the cache, the same pages
    cache.clear()
    assert pages_now() == drawn  # and drawn anew, the same again


def test_the_cached_dashboard_carries_each_users_own_csrf_token(client, world, example_workbook):
    from juesuan.web.accounts.models import FINANCE, Grant, User

    second = User.objects.create_user("finance2", password=PASSWORD, display_name="第二位财务")
    Grant.objects.create(user=second, unit=world.unit, role=FINANCE)
    store(world.unit, example_workbook, world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    for user in (world.users["finance"], second):  # the second user's body comes from the cache
        client.logout()
        client.force_login(user)
        page = client.get(dashboard).content.decode()
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert len(tokens) == 2  # signing out and the upload form
        secret = client.cookies[settings.CSRF_COOKIE_NAME].value
        assert {_unmask_cipher_token(token) for token in tokens} == {secret}
        assert pages.CSRF_SLOT_TOKEN not in page and str(user) in page
    # and the upload works with the token the cached form carried
    response = client.post(
        reverse("upload", args=[world.unit.pk]), {"csrfmiddlewaretoken": tokens[1], "year": 2020}
    )
    assert response.status_code != 403


def test_a_page_masks_its_token_once_and_every_response_anew(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    first, second = (
        re.findall(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(dashboard).content.decode()
        )
        for _ in range(2)
    )
    assert len(first) == 2 and len(set(first)) == 1  # the top bar's form and the cached body's
    assert first[0] != second[0]  # BREACH: the secret is masked anew for every response
    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask_cipher_token(first[0]) == _unmask_cipher_token(second[0]) == secret


def test_each_role_gets_the_dashboard_of_its_roles(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    client.force_login(world.users["finance"])
    page = client.get(dashboard).content.decode()
    assert '<span class="badge">财务</span>' in page and "上传并导入" in page
    for name, role in (("clerk", "经办"), ("approver", "审批"), ("bureau", "财政局")):
        client.force_login(world.users[name])
        page = client.get(dashboard).content.decode()  # the same data, kept once per roles
        assert f'<span class="badge">{role}</span>' in page, name
        assert '<span class="badge">财务</span>' not in page and "上传并导入" not in page, name
        assert f"{name}用户" in page or world.users[name].display_name in page
    client.force_login(world.users["finance"])
    assert "上传并导入" in client.get(dashboard).content.decode()


def test_the_dashboard_kept_follows_renamed_users_and_units(client, world, example_workbook):
    from juesuan.web.accounts.models import Unit, User

    finance = world.users["finance"]
    store(world.unit, example_workbook, finance)
    client.force_login(finance)
    urls = [
        reverse("dashboard", args=[world.unit.pk, 2020]),
        reverse("tables", args=[world.unit.pk, 2020]),
    ]
    for url in urls:
        page = client.get(url).content.decode()
        assert f"<h1>{world.unit.name} · 2020" in page and "finance用户" in page
    Unit.objects.filter(pk=world.unit.pk).update(name="改过名的单位")
    User.objects.filter(pk=finance.pk).update(display_name="改过名的财务")
    for url in urls:
        page = client.get(url).content.decode()
        assert "<h1>改过名的单位 · 2020" in page and "改过名的财务" in page, url
        assert f"<h1>{world.unit.name} · 2020" not in page and "finance用户" not in page, url


# ---- what the pages show ---------------------------------------------------------------------


def test_tables_name_the_format_in_chinese(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    page = _table(client, world.unit)
    assert "四川省2020年度部门决算公开格式" in page and "sichuan-2020" not in page
    assert pages.format_title("national-9") != "national-9"


def test_drill_down_names_the_codes(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    page = _table(client, world.unit)
    link = _row(page, "2080107").split('href="', 1)[1].split('"', 1)[0]
    text = client.get(link).content.decode()
    assert "社会保险业务管理事务" in text.split("<tbody>", 1)[1]
    assert "功能分类＝2080107 社会保险业务管理事务" in text


def test_counts_in_check_results_have_no_decimals():
    people = Outcome(
        "persons", "WARNING", "发放人数", "fail", "填报与计算不符",
        actual=Value(Decimal("756"), "人"), expected=Value(Decimal("841.00"), "人"),
    )  # fmt: skip
    assert quantity(people.actual) == "756人" and quantity(people.expected) == "841人"
    assert difference(people) == "-85人"
    money = Value(Decimal("1234.5"), "元")
    assert quantity(money) == "1,234.50元"


def test_reason_topics_that_are_codes_carry_their_names(client, world, example_workbook):
    assert topic_label("2089999", 2020) == "2089999 其他社会保障和就业支出"
    assert topic_label("公用经费", 2020) == "公用经费"
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    page = client.get(reverse("texts", args=[world.unit.pk, 2020])).content.decode()
    assert "预决算差异：2089999 其他社会保障和就业支出" in page
    # the form still posts the bare topic, as the workbook keys it
    assert 'name="reason" value="预决算差异::2089999"' in page


def test_the_dashboard_shows_the_last_build_with_few_queries(
    client, world, example_workbook, django_assert_max_num_queries
):
    version = store(world.unit, example_workbook, world.users["finance"])
    fake_build(version, world.users["finance"])
    client.force_login(world.users["finance"])
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    tables = reverse("tables", args=[world.unit.pk, 2020])
    client.get(tables)  # the session refreshed, the table drawn
    # session, user, grants with the unit, version (+ author), the audit stamp, last build,
    # running jobs, activity
    with django_assert_max_num_queries(8):
        page = client.get(dashboard).content.decode()
    assert "公开包第 1 版" in page and "由数据第 1 版生成" in page and "需重新生成" not in page
    # then build, jobs and activity come from the cache while the audit stamp stands still
    with django_assert_max_num_queries(5):
        assert "公开包第 1 版" in client.get(dashboard).content.decode()
    # session, user, grants with the unit, version: the table itself comes from the cache
    with django_assert_max_num_queries(4):
        assert client.get(tables).status_code == 200


def test_the_dashboard_never_shows_a_stale_build_job_or_activity(client, world, example_workbook):
    from juesuan.web.audit.log import record
    from juesuan.web.workplace.models import Build, Job

    finance = world.users["finance"]
    version = store(world.unit, example_workbook, finance)
    fake_build(version, finance)
    client.force_login(finance)
    dashboard = reverse("dashboard", args=[world.unit.pk, 2020])
    assert "公开包第 1 版" in client.get(dashboard).content.decode()
    # a job queued is shown at once, though nothing was logged
    job = Job.objects.create(kind="build", unit=world.unit, year=2020, created_by=finance)
    assert str(job.pk) in client.get(dashboard).content.decode()  # its link
    # it ends with a second build, logged as the build job logs it
    Build.objects.filter(pk=Build.objects.get().pk).update(number=2)
    Job.objects.filter(pk=job.pk).update(status="succeeded", progress=100)
    record("build_done", user=finance, unit=world.unit, year=2020, summary="生成公开包第 2 版")
    page = client.get(dashboard).content.decode()
    assert "公开包第 2 版" in page and "生成公开包第 2 版" in page and str(job.pk) not in page


def test_the_default_cache_needs_no_service_and_redis_is_one_setting(tmp_path):
    import subprocess
    import sys

    code = (
        "import juesuan.web.settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default'].get('LOCATION'))"
    )
    env = {"PATH": "/usr/bin:/bin", "JUESUAN_DATA_DIR": str(tmp_path), "JUESUAN_SECRET_KEY": "k"}
    default = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "locmem.LocMemCache" in default
    env["JUESUAN_CACHE_URL"] = "redis://127.0.0.1:6379/3"
    shared = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "redis.RedisCache redis://127.0.0.1:6379/3" in shared
