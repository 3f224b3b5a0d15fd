"""审核已公开文本: any signed-in user uploads published disclosures (PDF, DOCX, TXT/MD) and
reads the audit report (juesuan.audit). Published texts are public, so no unit grant is needed.

The audit runs synchronously in the request: background jobs (workplace/jobs.py) belong to a
unit-year and read their inputs from MEDIA_ROOT, while these uploads live only in a temporary
directory that is deleted as soon as the audit ends. The last run's report (JSON and the
self-contained HTML) stays in the user's session for the page and its two downloads, and ends
with the session; the audit log keeps file names, SHA-256 and counts only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from juesuan.audit import CERTAIN, audit, summarize, to_html
from juesuan.audit.read import SUFFIXES
from juesuan.web.audit.log import record

log = logging.getLogger("juesuan.web.published")

MAX_FILE_MB = 30
MAX_FILES = 20
SESSION_KEY = "published_audit"
REPORT_TITLE = "已公开文本审核报告"
ACCEPTED = "PDF、DOCX、TXT 或 MD"


def published_audit(request):
    if request.method == "POST":
        return _run(request)
    stored = request.session.get(SESSION_KEY)
    context = {
        "max_file_mb": MAX_FILE_MB,
        "max_files": MAX_FILES,
        "accepted": ACCEPTED,
        "accept": ",".join(sorted(SUFFIXES)),
    }
    if stored:
        data = json.loads(stored["json"])
        context.update(
            {
                "files": [_file_view(r) for r in data["reports"]],
                "summary": data["summary"],
                "rejected": stored.get("rejected", []),
            }
        )
    return render(request, "juesuan/published_audit.html", context)


def published_audit_download(request, fmt: str):
    if fmt not in ("html", "json"):
        raise Http404("没有这种格式的报告")
    stored = request.session.get(SESSION_KEY)
    if not stored:
        messages.error(request, "没有可下载的审核报告，请先上传文件审核。")
        return redirect("published_audit")
    if fmt == "html":
        body, content_type, name = stored["html"], "text/html; charset=utf-8", "审核报告.html"
    else:
        body, content_type, name = (
            stored["json"],
            "application/json; charset=utf-8",
            "审核报告.json",
        )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{REPORT_TITLE}_{name}")
    return response


def _run(request):
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, f"请选择要审核的文件（{ACCEPTED}）。")
        return redirect("published_audit")
    if len(uploads) > MAX_FILES:
        messages.error(request, f"一次最多审核 {MAX_FILES} 个文件，请分批上传。")
        return redirect("published_audit")
    rejected: list[dict] = []
    reports = []
    logged: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="juesuan-published-") as folder:
        for index, uploaded in enumerate(uploads):
            name = _clean_name(uploaded.name, index)
            reason = _refusal(name, uploaded.size)
            digest = _save(uploaded, Path(folder) / str(index), name) if not reason else ""
            if reason:
                rejected.append({"name": name, "reason": reason})
                logged.append({"name": name, "size": uploaded.size, "rejected": reason})
                continue
            try:
                report = audit(Path(folder) / str(index) / name)
            except Exception:  # the auditor reports unreadable files itself; this is a backstop
                log.exception("auditing %s failed", name)
                reason = f"“{name}”无法读取，请确认文件完好、不是扫描件或加密文件。"
                rejected.append({"name": name, "reason": reason})
                logged.append({"name": name, "sha256": digest, "rejected": reason})
                continue
            report.document["path"] = name  # not the temporary path
            reports.append(report)
            logged.append(
                {"name": name, "sha256": digest, "size": uploaded.size, **_counts(report)}
            )
    # the temporary directory and every uploaded file are gone from here on
    record(
        "published_audit",
        request=request,
        target=f"{len(uploads)} 个文件",
        summary="审核已公开文本：" + "；".join(_log_line(item) for item in logged),
        after={"files": logged},
    )
    if not reports:
        request.session.pop(SESSION_KEY, None)
        for item in rejected:
            messages.error(request, item["reason"])
        return redirect("published_audit")
    payload = {
        "summary": summarize(reports),
        "reports": [{**r.as_dict(), "readable": r.readable} for r in reports],
    }
    request.session[SESSION_KEY] = {
        "json": json.dumps(payload, ensure_ascii=False, indent=2),
        "html": to_html(reports, REPORT_TITLE),
        "rejected": rejected,
    }
    return redirect("published_audit")


def _clean_name(raw: str, index: int) -> str:
    name = Path((raw or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    if name in ("", ".", ".."):
        name = f"文件{index + 1}"
    return name[:150]


def _refusal(name: str, size: int) -> str:
    if Path(name).suffix.lower() not in SUFFIXES:
        return f"“{name}”不是可审核的文件类型，请上传 {ACCEPTED} 文件。"
    if size > MAX_FILE_MB * 1024 * 1024:
        return f"“{name}”超过 {MAX_FILE_MB} MB，请检查是否选错了文件。"
    if size == 0:
        return f"“{name}”是空文件。"
    return ""


def _save(uploaded, folder: Path, name: str) -> str:
    folder.mkdir()
    digest = hashlib.sha256()
    with open(folder / name, "wb") as out:
        for chunk in uploaded.chunks():
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _counts(report) -> dict:
    certain = len(report.certain)
    return {
        "certain": certain,
        "suspected": len(report.findings) - certain,
        "unresolved": len(report.unresolved),
        "unreadable": 0 if report.readable else 1,
    }


def _log_line(item: dict) -> str:
    if "rejected" in item:
        return f"“{item['name']}”未审核（{item['rejected']}）"
    return (
        f"“{item['name']}”（SHA-256 {item['sha256']}）确定 {item['certain']}、"
        f"疑似 {item['suspected']}、未能核对 {item['unresolved']}"
        + ("、无法读取" if item["unreadable"] else "")
    )


def _file_view(report: dict) -> dict:
    """One file's report shaped for the page (from Report.as_dict)."""
    document = report["document"]
    findings = report["findings"]
    certain = sum(1 for f in findings if f["severity"] == CERTAIN)
    readable = report.get("readable", not document.get("error"))
    return {
        "name": document.get("path", ""),
        "kind": document.get("kind", ""),
        "pages": document.get("pages"),
        "error": document.get("error"),
        "readable": readable,
        "certain": certain,
        "suspected": len(findings) - certain,
        "unresolved": report["unresolved"],
        "findings": [
            {
                **finding,
                "certain": finding["severity"] == CERTAIN,
                "places": [
                    {"where": e["place"]["text"], "snippet": e["snippet"]}
                    for e in finding["evidence"]
                ],
            }
            for finding in findings
        ],
    }
