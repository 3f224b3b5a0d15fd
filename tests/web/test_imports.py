"""Uploading workbooks: every mistake reported by sheet, row and column, and a rejected file
changes nothing; a good file becomes a new version with its SHA-256."""

from __future__ import annotations

import hashlib
import shutil

import openpyxl
import pytest
from django.urls import reverse

from juesuan.web.workplace.models import DatasetVersion

SPENDING = "支出"


def _broken_copy(source, folder, value="一千元"):
    """The example with one amount in 支出 replaced by text; its row and column."""
    path = folder / "有错误的数据.xlsx"
    shutil.copy(source, path)
    book = openpyxl.load_workbook(path)
    sheet = book[SPENDING]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if h and str(h).startswith("金额"))
    sheet.cell(row=5, column=column + 1, value=value)
    book.save(path)
    return path, 5, str(header[column]).rstrip("*")


def _upload(client, unit, path, year=None):
    data = {"file": path.open("rb")}
    if year:
        data["year"] = year
    try:
        return client.post(reverse("upload", args=[unit.pk]), data, follow=True)
    finally:
        data["file"].close()


def test_rejected_upload_lists_each_error_and_stores_nothing(
    client, world, example_workbook, tmp_path, _media
):
    client.force_login(world.users["finance"])
    broken, row, column = _broken_copy(example_workbook, tmp_path)
    response = _upload(client, world.unit, broken)
    assert response.status_code == 200
    assert response.context["rejected"]
    errors = response.context["outcome"].errors
    assert any(
        e["sheet"] == SPENDING
        and e["row"] == row
        and e["value"] == "一千元"
        and e["column"]
        and e["column"] in column
        for e in errors
    ), errors
    page = response.content.decode()
    assert "未导入" in page and "一千元" in page and f"第 {row} 行" in page
    assert DatasetVersion.objects.count() == 0
    assert not (_media / "datasets").exists()
    assert not any((_media / "tmp").iterdir())  # the uploaded copy is gone too


def test_rejected_upload_keeps_the_previous_version(
    client, world, example_workbook, tmp_path, _media
):
    client.force_login(world.users["finance"])
    _upload(client, world.unit, example_workbook)
    first = DatasetVersion.objects.get()
    before = hashlib.sha256(first.path.read_bytes()).hexdigest()
    broken, _row, _column = _broken_copy(example_workbook, tmp_path)
    response = _upload(client, world.unit, broken, year=2020)
    assert response.context["rejected"]
    assert "当前数据仍是第 1 版" in response.content.decode()
    assert DatasetVersion.objects.count() == 1
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == before == first.sha256


def test_good_upload_is_a_new_version_and_the_dashboard_shows_no_fatal(
    client, world, example_workbook
):
    client.force_login(world.users["finance"])
    response = _upload(client, world.unit, example_workbook)
    version = DatasetVersion.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "version_report", args=[world.unit.pk, 2020, 1]
    )
    assert version.sha256 == hashlib.sha256(example_workbook.read_bytes()).hexdigest()
    assert version.path.is_file() and version.original_name == example_workbook.name
    dashboard = client.get(reverse("dashboard", args=[world.unit.pk, 2020]))
    assert dashboard.context["summary"]["fatal"] == 0
    assert dashboard.context["summary"]["lines"] > 100
    page = dashboard.content.decode()
    assert "致命问题（阻止发布）" in page and "第 1 版" in page
    # uploaded again: a second version, the first kept
    _upload(client, world.unit, example_workbook)
    assert list(DatasetVersion.objects.order_by("number").values_list("number", flat=True)) == [
        1,
        2,
    ]


def test_a_workbook_of_another_unit_or_year_is_refused(client, world, example_workbook):
    client.force_login(world.users["other_finance"])
    response = _upload(client, world.other, example_workbook)
    assert response.context["rejected"]
    assert "另一个单位" in response.content.decode()
    client.force_login(world.users["finance"])
    response = _upload(client, world.unit, example_workbook, year=2021)
    assert response.context["rejected"]
    assert "2020 年度的数据，这里是 2021 年度" in response.content.decode()
    assert DatasetVersion.objects.count() == 0


def test_not_a_workbook(client, world, tmp_path):
    client.force_login(world.users["finance"])
    path = tmp_path / "说明.txt"
    path.write_text("不是工作簿", encoding="utf-8")
    response = _upload(client, world.unit, path)
    assert response.context["rejected"]
    assert ".xlsx" in response.content.decode()
    assert DatasetVersion.objects.count() == 0


def test_template_download(client, world):
    client.force_login(world.users["clerk"])
    response = client.get(reverse("template"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content[:2] == b"PK"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("role", ["clerk", "bureau"])
def test_read_only_roles_cannot_upload(client, world, example_workbook, role):
    client.force_login(world.users[role])
    response = client.post(
        reverse("upload", args=[world.unit.pk]), {"file": example_workbook.open("rb")}
    )
    assert response.status_code == 403
    assert DatasetVersion.objects.count() == 0
