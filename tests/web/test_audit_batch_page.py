"""审核已公开文本 in batch: a zip of documents (or several files) runs as a job with progress and
ends on the summary table — unit, year, kind and findings of each document — with the summary
workbook to download; a run larger than the detailed limit keeps the summary alone."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from juesuan.web.audit.models import AuditEntry
from juesuan.web.workplace import jobs, published


def _text(unit: str, year: int, share: int) -> bytes:
    return (
        f"{unit}{year}年度部门决算\n目 录\n一、收入支出决算总体情况说明\n"
        f"本年支出合计 100.00 万元，其中：基本支出 60.00 万元，占 60%；"
        f"项目支出 40.00 万元，占 {share}%。\n"
    ).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _gbk_named(data: bytes) -> bytes:
    """A zip as Chinese Windows makes it: the entry's name in GBK, with no UTF-8 flag."""
    placeholder, name = b"XXXXXX.txt", "财政局.txt".encode("gb18030")
    assert len(placeholder) == len(name)
    return _zip({placeholder.decode(): data}).replace(placeholder, name)


def _post(client, *uploads: tuple[str, bytes]):
    files = [SimpleUploadedFile(n, d, content_type="application/octet-stream") for n, d in uploads]
    return client.post(reverse("published_audit"), {"files": files})


def test_a_zip_runs_as_a_job_and_ends_on_the_summary_and_workbook(client, world, monkeypatch):
    steps = []
    original = jobs.progress
    monkeypatch.setattr(
        jobs,
        "progress",
        lambda job, percent, message: (steps.append(message), original(job, percent, message)),
    )
    client.force_login(world.users["nobody"])
    archive = _zip(
        {
            "2024/甲局.txt": _text("上海市甲局", 2024, 41),  # 40 of 100 printed as 41%: proven
            "2024/乙局.txt": _text("上海市乙局", 2024, 40),
            "2024/图片.png": b"\x89PNG",
        }
    )
    response = _post(client, ("普陀区.zip", archive), ("丙局.txt", _text("上海市丙局", 2023, 40)))
    assert response.status_code == 302
    assert steps[:3] == [
        "审核第 1/3 份：普陀区.zip/2024/甲局.txt",
        "审核第 2/3 份：普陀区.zip/2024/乙局.txt",
        "审核第 3/3 份：丙局.txt",
    ]
    page = client.get(reverse("published_audit")).content.decode()
    assert "“普陀区.zip/2024/图片.png”不是可审核的文件类型" in page  # said, not skipped silently
    rows = client.get(reverse("published_audit")).context["rows"]
    assert [(r["source"], r["unit"], r["year"], r["kind"], r["certain"]) for r in rows] == [
        ("普陀区.zip/2024/甲局.txt", "上海市甲局", 2024, "决算", 1),
        ("普陀区.zip/2024/乙局.txt", "上海市乙局", 2024, "决算", 0),
        ("丙局.txt", "上海市丙局", 2023, "决算", 0),
    ]
    assert '<span class="pill FATAL">确定' in page  # the details of a small run are kept

    download = client.get(reverse("published_audit_download", args=["xlsx"]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = list(book["审核汇总"].iter_rows(values_only=True))
    assert sheet[1][:4] == ("普陀区.zip/2024/甲局.txt", "上海市甲局", 2024, "决算")
    assert sheet[1][sheet[0].index("text-share")] == 1

    entry = AuditEntry.objects.filter(action="published_audit").get()
    assert [f["name"] for f in entry.after["files"]] == [
        "普陀区.zip/2024/甲局.txt",
        "普陀区.zip/2024/乙局.txt",
        "普陀区.zip/2024/图片.png",
        "丙局.txt",
    ]


def test_a_large_zip_keeps_the_summary_only_and_gbk_names_are_read(client, world, monkeypatch):
    monkeypatch.setattr(published, "DETAILED", 2)
    client.force_login(world.users["nobody"])
    entries = {f"第{n}份.txt": _text(f"某县{n}局", 2024, 40) for n in range(3)}
    _post(
        client, ("全县.zip", _zip(entries)), ("旧.zip", _gbk_named(_text("某市财政局", 2022, 40)))
    )
    response = client.get(reverse("published_audit"))
    page = response.content.decode()
    names = [row["source"] for row in response.context["rows"]]
    assert names == [*(f"全县.zip/第{n}份.txt" for n in range(3)), "旧.zip/财政局.txt"]
    assert "下载汇总工作簿" in page and "本页只列汇总" in page
    assert "下载审核报告（HTML" not in page


def test_a_damaged_zip_and_too_many_documents_are_said_plainly(client, world, monkeypatch):
    client.force_login(world.users["nobody"])
    _post(client, ("坏.zip", b"PK\x03\x04 not a zip"))
    page = client.get(reverse("published_audit")).content.decode()
    assert "“坏.zip”不是完好的 ZIP 压缩包，未审核。" in page and "Traceback" not in page

    monkeypatch.setattr(published, "MAX_DOCUMENTS", 2)
    entries = {f"{n}.txt": _text("某局", 2024, 40) for n in range(3)}
    _post(client, ("多.zip", _zip(entries)))
    page = client.get(reverse("published_audit")).content.decode()
    assert "一次最多审核 2 份文件" in page
