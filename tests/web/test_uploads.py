"""Uploads: refused while they arrive when too large, parsed only in background jobs, and no
temporary folder left behind by a failure or a process that died."""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse

from juesuan.web.workplace import jobs, published, versions
from juesuan.web.workplace.models import AUDIT_JOB, IMPORT_JOB, DatasetVersion, Job
from juesuan.web.workplace.versions import save_upload, sweep_workspaces, workspace
from web.conftest import PASSWORD


def test_stale_workspaces_are_swept_and_fresh_ones_kept(_media):
    stale, fresh = workspace(), workspace()
    (stale / "上传.xlsx").write_bytes(b"PK")
    stray = _media / "tmp" / "tmpabc.xlsx"
    stray.write_bytes(b"PK")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (stale / "上传.xlsx", stale, stray):
        os.utime(path, (two_days_ago, two_days_ago))
    assert sweep_workspaces() == 2
    assert not stale.exists() and not stray.exists()
    assert fresh.is_dir()


class _CutOff:
    """An upload whose data stops coming after the first chunk (the client went away)."""

    name = "数据.xlsx"

    def chunks(self):
        yield b"PK" * 1000
        raise OSError("connection reset")


def test_an_upload_that_fails_while_saved_leaves_no_folder(_media):
    folder = workspace()
    with pytest.raises(OSError):
        save_upload(_CutOff(), folder)
    assert not folder.exists()
    assert not any((_media / "tmp").iterdir())


class _Spy(FileUploadHandler):
    """After the limit's handler: counts the bytes handed on to be kept."""

    kept = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).kept += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.mark.parametrize("size_mb", [1.5, 8])
def test_a_too_large_upload_is_refused_while_it_arrives(client, world, settings, _media, size_mb):
    """The limit is enforced on the bytes as they come: nothing past it is kept (the declared
    length, when it already says too much, stops it before the first byte of the file)."""
    settings.MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_HANDLERS = [
        "juesuan.web.uploads.SizeLimitHandler",
        f"{__name__}._Spy",
        *settings.FILE_UPLOAD_HANDLERS[1:],
    ]
    _Spy.kept = 0
    client.force_login(world.users["finance"])
    payload = SimpleUploadedFile("大文件.xlsx", b"P" * int(size_mb * 1024 * 1024))
    response = client.post(reverse("upload", args=[world.unit.pk]), {"file": payload})
    assert response.status_code == 413
    page = response.content.decode()
    assert "文件太大" in page and "超过 1 MB" in page
    assert _Spy.kept <= 1024 * 1024
    assert DatasetVersion.objects.count() == 0
    assert not (_media / "tmp").exists() or not any((_media / "tmp").iterdir())


class _Gate:
    """Wraps a function so that a call waits until the test opens the gate: the heavy reading
    of an upload, held for as long as the test needs to look around meanwhile."""

    def __init__(self, monkeypatch, module, name: str):
        self.entered, self.opened = threading.Event(), threading.Event()
        real = getattr(module, name)

        def held(*args, **kwargs):
            self.entered.set()
            self.opened.wait(GATE_SECONDS)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)


GATE_SECONDS = 30


def _finished(job: Job) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job still {job.status} after 60 s")


def _another_user_is_served() -> None:
    other = Client()
    response = other.post(reverse("login"), {"username": "other_finance", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert other.get(reverse("home")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_workbook_is_read_in_the_background_while_others_are_served(
    client, world, settings, example_workbook, monkeypatch, _media
):
    """The upload request ends once the file is saved; reading it (seconds to minutes for a
    large or hostile workbook) is a job, and other users' requests are answered meanwhile."""
    settings.JOBS_MODE = "thread"
    gate = _Gate(monkeypatch, versions, "load")
    client.force_login(world.users["finance"])
    with example_workbook.open("rb") as handle:
        response = client.post(reverse("upload", args=[world.unit.pk]), {"file": handle})
    assert not gate.opened.is_set()  # answered while the reading is still held
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("job", args=[world.unit.pk, job.pk])
    assert job.kind == IMPORT_JOB
    assert gate.entered.wait(10)  # the job is reading the workbook, in the background
    _another_user_is_served()
    assert DatasetVersion.objects.count() == 0
    gate.opened.set()
    assert _finished(job).status == "succeeded", job.error
    assert job.result["accepted"] and DatasetVersion.objects.get().number == 1
    report = client.get(reverse("job", args=[world.unit.pk, job.pk]))
    assert report["Location"] == reverse("version_report", args=[world.unit.pk, 2020, 1])
    assert not any((_media / "tmp").iterdir())


@pytest.mark.django_db(transaction=True)
def test_a_published_text_is_audited_in_the_background_while_others_are_served(
    client, world, settings, monkeypatch, _media
):
    settings.JOBS_MODE = "thread"
    gate = _Gate(monkeypatch, published, "audited")
    client.force_login(world.users["finance"])
    text = SimpleUploadedFile("公开.txt", "本年支出合计 100.00 万元。\n".encode())
    response = client.post(reverse("published_audit"), {"files": [text]})
    assert not gate.opened.is_set()
    assert response.status_code == 302
    assert gate.entered.wait(10)
    waiting = client.get(reverse("published_audit")).content.decode()
    assert "正在审核" in waiting and reverse("published_audit_status") in waiting
    _another_user_is_served()
    gate.opened.set()
    job = _finished(Job.objects.get(kind=AUDIT_JOB))
    assert job.status == "succeeded", job.error
    assert "公开.txt" in client.get(reverse("published_audit")).content.decode()
    assert not any((_media / "tmp").iterdir())


def test_a_workbook_with_very_many_issues_keeps_the_first_and_counts_them_all(
    client, world, example_workbook, tmp_path, monkeypatch
):
    """A refused workbook's issues go to its report through the job row: the first ones (errors
    first) are kept, the counts are whole, and the report says how many are not listed."""
    import openpyxl

    monkeypatch.setattr(jobs, "REPORTED_ISSUES", 3)
    broken = tmp_path / "很多错误.xlsx"
    book = openpyxl.load_workbook(example_workbook)
    sheet = book["支出"]
    column = next(c.column for c in sheet[1] if c.value and str(c.value).startswith("金额"))
    for row in range(2, 9):
        sheet.cell(row=row, column=column, value="一千元")
    book.save(broken)
    client.force_login(world.users["finance"])
    with broken.open("rb") as handle:
        response = client.post(
            reverse("upload", args=[world.unit.pk]), {"file": handle}, follow=True
        )
    job = Job.objects.get()
    assert len(job.result["issues"]) == 3
    assert all(i["severity"] == "错误" for i in job.result["issues"])
    errors = job.result["error_count"]
    assert errors >= 7 and job.result["issue_count"] >= errors
    page = response.content.decode()
    assert f"有 {errors} 处错误" in page
    assert f"另有 {job.result['issue_count'] - 3} 处未列出" in page
    assert DatasetVersion.objects.count() == 0
