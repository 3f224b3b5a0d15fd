"""Tables with drill-down, checks, texts (saved as new versions), consolidation, commands."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal

import pytest
from django.urls import reverse

from juesuan.ledger.export import write_workbook
from juesuan.ledger.load import load
from juesuan.web.audit.models import AuditEntry
from juesuan.web.workplace import analysis
from juesuan.web.workplace.models import DatasetVersion, Job
from web.conftest import EXAMPLE, store


@pytest.fixture
def no_reasons(tmp_path_factory):
    """The example without its reasons: the narrative then asks for them."""
    folder = tmp_path_factory.mktemp("no-reasons") / "data"
    shutil.copytree(EXAMPLE, folder)
    reasons = folder / "reasons.csv"
    reasons.write_text(reasons.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    dataset, issues = load(folder)
    assert dataset is not None, issues
    path = folder.parent / "缺原因.xlsx"
    write_workbook(dataset, path)
    return path


def test_tables_link_every_figure_to_its_ledger_lines(client, world, example_workbook):
    version = store(world.unit, example_workbook, world.users["clerk"])
    client.force_login(world.users["clerk"])
    page = client.get(reverse("tables", args=[world.unit.pk, 2020]) + "?t=general")
    assert page.status_code == 200
    links = re.findall(r'href="([^"]+/cell/\d+/\d+/\d+/)"', page.content.decode())
    assert links
    cell = client.get(links[0])
    found = cell.context["found"]
    assert found["only_ledger"] and found["ledger_total"] == found["cell"].exact
    text = cell.content.decode()
    assert "与表中数一致" in text and "工作表" in text and re.search(r"第 \d+ 行", text)
    # every linked figure of every table adds up from its lines
    dataset, prepared = analysis.prepared_for(version)
    for table in prepared.statements:
        grid = analysis.web_table(table, dataset.unit.name, dataset.unit.year)
        for row in grid["body"]:
            for c in row["cells"]:
                if c.link:
                    drilled = analysis.drill(dataset, table, *c.link)
                    if drilled["only_ledger"]:
                        assert drilled["ledger_total"] == drilled["cell"].exact, (table.id, c.link)
    assert (
        client.get(reverse("cell", args=[world.unit.pk, 2020, "general", 9, 9, 9])).status_code
        == 404
    )


def test_checks_are_grouped_by_tier(client, world, no_reasons):
    store(world.unit, no_reasons, world.users["finance"])
    client.force_login(world.users["finance"])
    page = client.get(reverse("checks", args=[world.unit.pk, 2020]))
    groups = {g["tier"]: g for g in page.context["groups"]}
    assert [g for g in groups] == ["FATAL", "WARNING", "SUGGEST"]
    assert not groups["FATAL"]["failed"] and groups["WARNING"]["failed"]
    text = page.content.decode()
    assert "同比变动较大须说明原因" in text and "处理：" in text


def test_texts_prompt_missing_reasons_and_save_a_new_version(client, world, no_reasons):
    store(world.unit, no_reasons, world.users["finance"])
    client.force_login(world.users["finance"])
    url = reverse("texts", args=[world.unit.pk, 2020])
    page = client.get(url)
    missing = page.context["missing"]
    topics = {(m["kind"], m["topic"]) for m in missing}
    assert ("同比变动", "收支总计") in topics
    text = page.content.decode()
    assert "待补写的变动原因" in text and "情况说明（系统生成，只读）" in text
    assert "此处须说明同比变动原因（收支总计）" in text
    response = client.post(
        url,
        {
            "base_version": 1,
            "text_key": ["主要职能"],
            "text::主要职能": "负责全市社会保险经办。",
            "reason": ["同比变动::收支总计"],
            "reason::同比变动::收支总计": "上年有一次性做实职业年金支出，本年无此项。",
        },
    )
    assert response.status_code == 302
    latest = DatasetVersion.objects.order_by("-number").first()
    assert latest.number == 2 and latest.kind == "texts"
    dataset, prepared = analysis.prepared_for(latest)
    assert dataset.texts["主要职能"] == "负责全市社会保险经办。"
    assert dataset.reasons[("同比变动", "收支总计")].startswith("上年有一次性")
    assert ("同比变动", "收支总计") not in {
        (m["kind"], m["topic"]) for m in analysis.missing_reasons(prepared)
    }
    entry = AuditEntry.objects.get(action="texts_save")
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    # the first version is kept as it was
    first = DatasetVersion.objects.get(number=1)
    assert analysis.prepared_for(first)[0].texts.get("主要职能") != "负责全市社会保险经办。"
    # a form made from version 1 no longer saves
    client.post(url, {"base_version": 1, "text_key": ["主要职能"], "text::主要职能": "旧"})
    assert DatasetVersion.objects.count() == 2
    # nothing changed: no new version
    client.post(
        url,
        {"base_version": 2, "text_key": ["主要职能"], "text::主要职能": "负责全市社会保险经办。"},
    )
    assert DatasetVersion.objects.count() == 2


def test_read_only_roles_see_texts_but_cannot_save(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["reviewer"])
    url = reverse("texts", args=[world.unit.pk, 2020])
    page = client.get(url)
    assert page.status_code == 200 and "readonly" in page.content.decode()
    assert "保存这段" not in page.content.decode() and "删除这段文字" not in page.content.decode()
    assert client.post(url, {"base_version": 1}).status_code == 403


def test_consolidation_job_makes_a_department_version(client, world, example_workbook):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["bureau"])
    response = client.post(reverse("consolidate", args=[world.department.pk]), {"year": 2020})
    job = Job.objects.get(kind="consolidate")
    assert response["Location"] == reverse("job", args=[world.department.pk, job.pk])
    assert job.status == "succeeded", job.error
    version = DatasetVersion.objects.get(unit=world.department)
    assert version.kind == "consolidation" and world.unit.name in version.note
    dataset, _ = analysis.prepared_for(version)
    original, _ = load(EXAMPLE)
    total = dataset.ledger.total(direction="支出", phase="决算")
    assert total == original.ledger.total(direction="支出", phase="决算") > Decimal(0)


def test_empty_year_pages_say_there_is_no_data(client, world):
    client.force_login(world.users["finance"])
    for name in ("dashboard", "tables", "checks", "texts", "builds"):
        page = client.get(reverse(name, args=[world.unit.pk, 2019]))
        assert page.status_code == 200, name
    assert (
        "还没有 2019 年度的数据"
        in client.get(reverse("tables", args=[world.unit.pk, 2019])).content.decode()
    )


def test_admin_creates_unit_user_and_grant(client, world):
    from juesuan.web.accounts.models import Grant, Unit, User

    client.force_login(world.users["admin"])
    client.post(
        reverse("unit_create"), {"name": "新单位", "kind": "unit", "parent": world.department.pk}
    )
    unit = Unit.objects.get(name="新单位")
    response = client.post(reverse("user_create"), {"username": "new_user", "display_name": "新人"})
    assert response.status_code == 302
    user = User.objects.get(username="new_user")
    client.post(reverse("grant_add"), {"user": user.pk, "unit": unit.pk, "role": "finance"})
    assert Grant.objects.filter(user=user, unit=unit, role="finance").exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"unit_create", "user_create", "grant_add"} <= actions
    page = client.get(reverse("manage")).content.decode()
    assert "新单位" in page and "new_user" in page


def test_createadmin_and_verify_functions(db, capsys):
    from juesuan.web.accounts.models import User
    from juesuan.web.commands import AdminError, make_admin, verify_audit_log

    password, generated = make_admin("chief")
    assert generated and User.objects.get(username="chief").check_password(password)
    assert User.objects.get(username="chief").is_superuser
    with pytest.raises(AdminError, match="已存在"):
        make_admin("chief", "another-long-password")
    with pytest.raises(AdminError, match="密码不符合要求"):
        make_admin("short", "123")
    assert verify_audit_log() == 0
    assert "操作记录完整" in capsys.readouterr().out


def test_a_text_is_deleted_only_when_asked_and_each_section_saves_alone(
    client, world, example_workbook
):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    url = reverse("texts", args=[world.unit.pk, 2020])
    page = client.get(url).content.decode()
    assert page.count("保存这段") >= 5 and "删除这段文字" in page  # one form per text
    before = analysis.prepared_for(DatasetVersion.objects.get(number=1))[0].texts
    key = next(k for k, body in before.items() if body)
    # emptied without ticking 删除: refused, nothing saved, the page says how to delete
    emptied = {"base_version": 1, "section": "text-1", "text_key": [key], f"text::{key}": ""}
    response = client.post(url, emptied, follow=True)
    assert DatasetVersion.objects.count() == 1
    assert "被清空了" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("#text-1")
    # ticked: deleted in a new version; the other texts are as they were
    client.post(url, {**emptied, "delete": [key]})
    assert DatasetVersion.objects.count() == 2
    after = analysis.prepared_for(DatasetVersion.objects.get(number=2))[0].texts
    assert key not in after and {k: v for k, v in before.items() if k != key} == after
