"""Building the package as a job, downloading it, comparing builds, approving one."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.urls import reverse

from juesuan.web.audit.models import AuditEntry
from juesuan.web.workplace.models import Build, Job
from web.conftest import store


@pytest.fixture(scope="module")
def cjk_font():
    from juesuan.fonts import find_cjk_font

    find_cjk_font()  # the bundled font when the machine has none


def _build(client, unit, version_number, draft=False):
    data = {"version": version_number}
    if draft:
        data["draft"] = "on"
    return client.post(reverse("builds", args=[unit.pk, 2020]), data)


def test_build_job_runs_to_completion_and_the_zip_downloads(
    client, world, example_workbook, cjk_font
):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    response = _build(client, world.unit, 1)
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("job", args=[world.unit.pk, job.pk])
    assert (job.status, job.progress, job.error) == ("succeeded", 100, "")
    build = Build.objects.get()
    assert job.result == {"build": build.number} and not build.draft
    status = client.get(reverse("job_status", args=[world.unit.pk, job.pk])).json()
    assert status["finished"] and status["done_url"] == reverse(
        "build", args=[world.unit.pk, 2020, 1]
    )
    download = client.get(reverse("build_zip", args=[world.unit.pk, 2020, 1]))
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == build.zip_sha256
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert "manifest.json" in names and any(n.endswith(".pdf") for n in names)
    assert AuditEntry.objects.filter(action="download", unit_id=world.unit.pk).exists()
    assert AuditEntry.objects.filter(action="build_done").exists()
    # each file of the package downloads with the hash the manifest gives
    for index, output in enumerate(build.outputs[:3]):
        one = client.get(reverse("build_file", args=[world.unit.pk, 2020, 1, index]))
        assert hashlib.sha256(b"".join(one.streaming_content)).hexdigest() == output["sha256"]
    assert client.get(reverse("build_file", args=[world.unit.pk, 2020, 1, 999])).status_code == 404


def test_second_build_is_compared_with_the_first_and_approved_by_another(
    client, world, example_workbook, cjk_font
):
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    _build(client, world.unit, 1)
    # a texts edit makes version 2; build again
    client.post(
        reverse("texts", args=[world.unit.pk, 2020]),
        {"base_version": 1, "text_key": ["机构设置"], "text::机构设置": "本局内设 15 个科室。"},
    )
    _build(client, world.unit, 2)
    page = client.get(reverse("build", args=[world.unit.pk, 2020, 2]))
    comparison = page.context["comparison"]
    assert (comparison["old_version"], comparison["new_version"]) == (1, 2)
    assert comparison["inputs_changed"]
    assert any(p.endswith(".docx") for p in comparison["changed"])
    assert "与上一版比较" in page.content.decode()
    # the finance officer who started it cannot approve (and has no approve role); an approver can
    url = reverse("build_approve", args=[world.unit.pk, 2020, 2])
    assert client.post(url).status_code == 403
    client.force_login(world.users["approver"])
    client.post(url)
    build = Build.objects.get(number=2)
    assert build.approved_by == world.users["approver"]
    assert AuditEntry.objects.filter(action="build_approve").count() == 1


@pytest.mark.parametrize("step", ["renderer", "registration"])
def test_a_build_that_fails_leaves_no_package_folder_behind(
    client, world, example_workbook, cjk_font, monkeypatch, settings, step, caplog
):
    import juesuan.publish.pdf
    from juesuan.web.workplace import jobs

    def broken(*args, **kwargs):
        raise RuntimeError(f"{step} failed")

    if step == "renderer":
        monkeypatch.setattr(juesuan.publish.pdf, "write_pdf", broken)
    else:
        monkeypatch.setattr(jobs, "_register_build", broken)
    store(world.unit, example_workbook, world.users["finance"])
    client.force_login(world.users["finance"])
    _build(client, world.unit, 1)
    job = Job.objects.get()
    # the page says a fault of the program happened, with the job's number; the log says which
    assert job.status == "failed" and str(job.pk) in job.error and "系统内部出错" in job.error
    assert f"{step} failed" in caplog.text and str(job.pk) in caplog.text
    assert not Build.objects.exists()
    stored = (settings.MEDIA_ROOT / "builds").rglob("*")
    assert [p for p in stored if p.is_file() or p.name.startswith(".")] == []


def test_fatal_problems_stop_a_build_unless_draft(
    client, world, example_workbook, tmp_path, cjk_font
):
    import openpyxl

    broken = tmp_path / "不平衡.xlsx"
    book = openpyxl.load_workbook(example_workbook)
    sheet = book["收入"]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if h and str(h).startswith("金额")) + 1
    row = next(  # an actual (决算) line: the budget lines do not enter the totals
        r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value in (None, "决算")
    )
    sheet.cell(row=row, column=column, value=float(sheet.cell(row=row, column=column).value) + 1000)
    book.save(broken)
    version = store(world.unit, broken, world.users["finance"])
    assert version.summary["fatal"] > 0
    client.force_login(world.users["finance"])
    _build(client, world.unit, 1)
    job = Job.objects.get()
    assert job.status == "failed" and "致命" in job.error
    assert not Build.objects.exists()
    _build(client, world.unit, 1, draft=True)
    build = Build.objects.get()
    assert build.draft
    page = client.get(reverse("build", args=[world.unit.pk, 2020, 1])).content.decode()
    assert "草稿" in page
