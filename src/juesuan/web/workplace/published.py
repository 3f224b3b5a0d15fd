"""审核已公开文本: any signed-in user uploads published disclosures (PDF, DOCX, TXT/MD) and
reads the audit report (juesuan.audit). Published texts are public, so no unit grant is needed.

The audit runs as a background job (workplace/jobs.py), never in the request: one hostile or
merely large document can take long to read, and the request would hold a server process. The
uploads wait in a temporary folder under MEDIA_ROOT that the job removes when it ends; the
report (JSON and the self-contained HTML) is kept on the job, which only the user who started it
can read, and the session names the user's last one. The audit log keeps file names, SHA-256
and counts only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from juesuan.audit import CERTAIN, audit, summarize, to_html
from juesuan.audit.read import SUFFIXES
from juesuan.web.audit.log import client_ip, record
from juesuan.web.workplace import jobs
from juesuan.web.workplace.models import AUDIT_JOB, SUCCEEDED, Job
from juesuan.web.workplace.versions import workspace

log = logging.getLogger("juesuan.web.published")

MAX_FILE_MB = 30
MAX_FILES = 20
SESSION_KEY = "published_audit"
REPORT_TITLE = "已公开文本审核报告"
ACCEPTED = "PDF、DOCX、TXT 或 MD"


def published_audit(request):
    if request.method == "POST":
        return _run(request)
    context = {
        "max_file_mb": MAX_FILE_MB,
        "max_files": MAX_FILES,
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "accepted": ACCEPTED,
        "accept": ",".join(sorted(SUFFIXES)),
    }
    job = _last_job(request)
    if job is not None and not job.finished:
        context["job"] = job
    elif job is not None and job.status == SUCCEEDED:
        context["rejected"] = job.result.get("rejected", [])
        if job.result.get("json"):
            data = json.loads(job.result["json"])
            context["files"] = [_file_view(r) for r in data["reports"]]
            context["summary"] = data["summary"]
    elif job is not None:
        context["failed"] = job.error
    return render(request, "juesuan/published_audit.html", context)


def published_audit_status(request):
    """The progress of the user's last audit, for the page that follows it."""
    job = _last_job(request)
    if job is None:
        raise Http404("没有进行中的审核")
    return JsonResponse(
        {
            "status": job.status,
            "status_name": job.status_name,
            "progress": job.progress,
            "message": job.message,
            "error": job.error,
            "finished": job.finished,
            "done_url": reverse("published_audit") if job.finished else None,
        }
    )


def published_audit_download(request, fmt: str):
    if fmt not in ("html", "json"):
        raise Http404("没有这种格式的报告")
    job = _last_job(request)
    if job is None or not job.result.get(fmt):
        messages.error(request, "没有可下载的审核报告，请先上传文件审核。")
        return redirect("published_audit")
    if fmt == "html":
        content_type, name = "text/html; charset=utf-8", "审核报告.html"
    else:
        content_type, name = "application/json; charset=utf-8", "审核报告.json"
    response = HttpResponse(job.result[fmt], content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{REPORT_TITLE}_{name}")
    return response


def _last_job(request) -> Job | None:
    job_id = (request.session.get(SESSION_KEY) or {}).get("job")
    if not job_id:
        return None
    return Job.objects.filter(pk=job_id, kind=AUDIT_JOB, created_by=request.user).first()


def _run(request):
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, f"请选择要审核的文件（{ACCEPTED}）。")
        return redirect("published_audit")
    if len(uploads) > MAX_FILES:
        messages.error(request, f"一次最多审核 {MAX_FILES} 个文件，请分批上传。")
        return redirect("published_audit")
    rejected: list[dict] = []
    logged: list[dict] = []
    files: list[dict] = []
    folder = workspace()
    try:
        for index, uploaded in enumerate(uploads):
            name = _clean_name(uploaded.name, index)
            reason = _refusal(name, uploaded.size)
            if reason:
                rejected.append({"name": name, "reason": reason})
                logged.append(
                    {"index": index, "name": name, "size": uploaded.size, "rejected": reason}
                )
                continue
            digest = _save(uploaded, folder / str(index), name)
            files.append({"index": index, "name": name, "sha256": digest, "size": uploaded.size})
    except BaseException:  # the client went away, the disk is full: keep nothing
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not files:
        shutil.rmtree(folder, ignore_errors=True)
        _log(logged, len(uploads), user=request.user, ip=client_ip(request))
        request.session.pop(SESSION_KEY, None)  # no earlier report under these refusals
        for item in rejected:
            messages.error(request, item["reason"])
        return redirect("published_audit")
    job = Job.objects.create(
        kind=AUDIT_JOB,
        params={
            "folder": str(folder.relative_to(settings.MEDIA_ROOT)),
            "files": files,
            "rejected": rejected,
            "logged": logged,
            "uploads": len(uploads),
            "ip": client_ip(request),
        },
        created_by=request.user,
        message="排队中",
    )
    jobs.submit(job)
    request.session[SESSION_KEY] = {"job": str(job.pk)}
    return redirect("published_audit")


def audit_files(job: Job) -> dict:
    """The job: each saved file audited; the report and the refusals as the job's result."""
    params = job.params
    folder = jobs.upload_folder(job)
    rejected, logged = list(params["rejected"]), list(params["logged"])
    reports = []
    for number, item in enumerate(params["files"], 1):
        name = item["name"]
        jobs.progress(job, 5 + 90 * (number - 1) // len(params["files"]), f"审核“{name}”")
        try:
            report = audit(folder / str(item["index"]) / name)
        except Exception:  # the auditor reports unreadable files itself; this is a backstop
            log.exception("auditing %s failed", name)
            reason = f"“{name}”无法读取，请确认文件完好、不是扫描件或加密文件。"
            rejected.append({"name": name, "reason": reason})
            logged.append(
                {"index": item["index"], "name": name, "sha256": item["sha256"], "rejected": reason}
            )
            continue
        report.document["path"] = name  # not the temporary path
        reports.append(report)
        logged.append({**item, **_counts(report)})
    _log(logged, params["uploads"], user=job.created_by, ip=params.get("ip", ""))
    if not reports:
        return {"rejected": rejected}
    payload = {
        "summary": summarize(reports),
        "reports": [{**r.as_dict(), "readable": r.readable} for r in reports],
    }
    return {
        "json": json.dumps(payload, ensure_ascii=False, indent=2),
        "html": to_html(reports, REPORT_TITLE),
        "rejected": rejected,
    }


def _log(logged: list[dict], uploads: int, *, user, ip: str) -> None:
    """One audit-log entry for the run, its files in the order they were uploaded."""
    logged = [
        {k: v for k, v in item.items() if k != "index"}
        for item in sorted(logged, key=lambda item: item["index"])
    ]
    record(
        "published_audit",
        user=user,
        target=f"{uploads} 个文件",
        summary="审核已公开文本：" + "；".join(_log_line(item) for item in logged),
        after={"files": logged},
        ip=ip,
    )


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
