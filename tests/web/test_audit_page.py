"""审核已公开文本: any signed-in user audits uploaded published texts; the uploaded files are
not kept, and the audit log has names, SHA-256 and counts."""

from __future__ import annotations

import hashlib
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from juesuan.web.audit.models import AuditEntry

CONTRADICTION = (
    "一、收入支出决算总体情况说明\n"
    "本年支出合计 100.00 万元，其中：基本支出 60.00 万元，占 60%；"
    "项目支出 41.00 万元，占 41%。\n"
).encode()


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_login_required(client, world):
    for url in (
        reverse("published_audit"),
        reverse("published_audit_download", args=["html"]),
    ):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))


def test_any_signed_in_user_sees_the_page_and_the_link(client, world):
    client.force_login(world.users["nobody"])  # no unit grant at all
    response = client.get(reverse("published_audit"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "审核已公开文本" in page and 'enctype="multipart/form-data"' in page
    home = client.get(reverse("home")).content.decode()
    assert reverse("published_audit") in home


def test_a_contradiction_is_reported_as_certain(client, world, _media):
    client.force_login(world.users["nobody"])
    response = client.post(
        reverse("published_audit"), {"files": [_upload("部门决算公开.txt", CONTRADICTION)]}
    )
    assert response.status_code == 302
    assert not any((_media / "tmp").iterdir())  # the uploaded file is gone
    page = client.get(reverse("published_audit")).content.decode()
    assert "部门决算公开.txt" in page
    assert '<span class="pill FATAL">确定' in page
    assert "项目支出 41.00 万元" in page  # the evidence snippet

    html = client.get(reverse("published_audit_download", args=["html"]))
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert "attachment" in html["Content-Disposition"]
    assert "部门决算公开.txt" in html.content.decode()
    data = json.loads(client.get(reverse("published_audit_download", args=["json"])).content)
    assert data["summary"]["findings"]["确定"] >= 1
    assert data["reports"][0]["document"]["path"] == "部门决算公开.txt"


def test_the_audit_log_has_the_run(client, world):
    client.force_login(world.users["finance"])
    client.post(
        reverse("published_audit"),
        {"files": [_upload("公开.txt", CONTRADICTION), _upload("说明.doc", b"old word")]},
    )
    entry = AuditEntry.objects.filter(action="published_audit").get()
    assert entry.username == "finance"
    digest = hashlib.sha256(CONTRADICTION).hexdigest()
    assert digest in entry.summary and "公开.txt" in entry.summary
    files = entry.after["files"]
    assert files[0]["name"] == "公开.txt" and files[0]["sha256"] == digest
    assert files[0]["certain"] >= 1
    assert files[1]["name"] == "说明.doc" and "rejected" in files[1]


def test_a_bad_suffix_gets_one_clear_sentence(client, world):
    client.force_login(world.users["nobody"])
    response = client.post(
        reverse("published_audit"),
        {"files": [_upload("报表.xls", b"\xd0\xcf\x11\xe0")]},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "“报表.xls”不是可审核的文件类型，请上传 PDF、DOCX、HTML、TXT 或 MD 文件，或装有这些文件的 ZIP 压缩包。" in page
    assert "Traceback" not in page and "审核结果" not in page


def test_an_unreadable_file_is_said_plainly(client, world):
    client.force_login(world.users["nobody"])
    response = client.post(
        reverse("published_audit"), {"files": [_upload("坏文件.pdf", b"not a pdf at all")]}
    )
    assert response.status_code == 302
    page = client.get(reverse("published_audit")).content.decode()
    assert "坏文件.pdf" in page and '<span class="pill failed">无法读取</span>' in page
    assert "Traceback" not in page


def test_no_file_and_a_missing_report(client, world):
    client.force_login(world.users["nobody"])
    page = client.post(reverse("published_audit"), follow=True).content.decode()
    assert "请选择要审核的文件" in page
    response = client.get(reverse("published_audit_download", args=["json"]), follow=True)
    assert "没有可下载的审核报告" in response.content.decode()


def test_csrf_enforced(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["nobody"])
    url = reverse("published_audit")
    response = client.post(url, {"files": [_upload("公开.txt", CONTRADICTION)]})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="published_audit").exists()
    token = client.get(url).context["csrf_token"]
    response = client.post(
        url, {"files": [_upload("公开.txt", CONTRADICTION)], "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="published_audit").count() == 1
