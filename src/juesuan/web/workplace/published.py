"""审核已公开文本: any signed-in user uploads published disclosures (PDF, DOCX, HTML, TXT/MD),
several at once or a zip of many, and reads the audit report (juesuan.audit). Published texts
are public, so no unit grant is needed.

The audit runs as a background job (workplace/jobs.py), never in the request: one hostile or
merely large document can take long to read, and the request would hold a server process. The
uploads wait in a temporary folder under MEDIA_ROOT that the job removes when it ends; the
report (JSON and the self-contained HTML) is kept on the job, which only the user who started it
can read, and the session names the user's last one. The audit log keeps file names, SHA-256
and counts only.

Every run ends with the batch summary (`juesuan.audit.batch`): a table of the documents with the
unit, year and kind their covers state and their findings, and the same as a workbook kept under
MEDIA_ROOT/published-audits/ for download. A zip is unpacked in the job, within limits on its
entries and their unpacked size; full reports (page, HTML, JSON) are kept for runs of up to
`DETAILED` documents, the summary alone for larger ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from juesuan.audit import CERTAIN, summarize, to_html
from juesuan.audit.batch import AUDITED, SUMMARY_NAME, audited, row_of, write_summary
from juesuan.audit.read import SUFFIXES
from juesuan.web.audit.log import client_ip, record
from juesuan.web.workplace import jobs
from juesuan.web.workplace.models import AUDIT_JOB, SUCCEEDED, Job
from juesuan.web.workplace.versions import workspace

log = logging.getLogger("juesuan.web.published")

MAX_FILE_MB = 30
MAX_FILES = 20
MAX_DOCUMENTS = 1000  # of one run, zips unpacked: about six minutes of one job thread
MAX_UNPACKED_MB = 1000  # of the zips of one run, unpacked
DETAILED = 20  # runs of up to this many documents keep every report, larger ones the summary
TIMEOUT = 300  # seconds for one document
SESSION_KEY = "published_audit"
REPORT_TITLE = "已公开文本审核报告"
ACCEPTED = "PDF、DOCX、HTML、TXT 或 MD"
ZIP = ".zip"


def published_audit(request):
    if request.method == "POST":
        return _run(request)
    context = {
        "max_file_mb": MAX_FILE_MB,
        "max_files": MAX_FILES,
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "accepted": ACCEPTED,
        "accept": ",".join(sorted({*SUFFIXES, ZIP})),
        "max_documents": MAX_DOCUMENTS,
    }
    job = _last_job(request)
    if job is not None and not job.finished:
        context["job"] = job
    elif job is not None and job.status == SUCCEEDED:
        context["rejected"] = job.result.get("rejected", [])
        anchors = {}
        if job.result.get("json"):
            data = json.loads(job.result["json"])
            context["files"] = [_file_view(r) for r in data["reports"]]
            context["summary"] = data["summary"]
            anchors = {file["name"]: f"file-{n}" for n, file in enumerate(context["files"], 1)}
        context["rows"] = [
            {**row, "anchor": anchors.get(row["source"]), "audited": row["status"] == AUDITED}
            for row in job.result.get("rows", [])
        ]
        context["workbook"] = bool(job.result.get("workbook"))
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
    if fmt not in ("html", "json", "xlsx"):
        raise Http404("没有这种格式的报告")
    job = _last_job(request)
    key = "workbook" if fmt == "xlsx" else fmt
    if job is None or not job.result.get(key):
        messages.error(request, "没有可下载的审核报告，请先上传文件审核。")
        return redirect("published_audit")
    if fmt == "xlsx":
        path = settings.MEDIA_ROOT / job.result["workbook"]
        if not path.is_file():
            raise Http404("汇总工作簿已不在")
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=f"{REPORT_TITLE}_{SUMMARY_NAME}"
        )
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
    """The job: each saved file audited (a zip's documents one by one); the summary rows and
    workbook, the reports of a small run, and the refusals as the job's result."""
    params = job.params
    folder = jobs.upload_folder(job)
    rejected, logged = list(params["rejected"]), list(params["logged"])
    documents: list[tuple[Path, str, dict]] = []  # path, name shown, its audit-log entry
    for item in params["files"]:
        path = folder / str(item["index"]) / item["name"]
        if path.suffix.lower() == ZIP:
            documents += _unpacked(path, item, rejected, logged)
        else:
            documents.append((path, item["name"], item))
        if len(documents) > MAX_DOCUMENTS:
            raise jobs.JobFailed(
                f"一次最多审核 {MAX_DOCUMENTS} 份文件（压缩包中的文件逐份计数），请分批上传。"
            )
    rows, reports = [], []
    for number, (path, name, entry) in enumerate(documents, 1):
        jobs.progress(
            job,
            5 + 90 * (number - 1) // len(documents),
            f"审核第 {number}/{len(documents)} 份：{name}",
        )
        report, result = audited(path, name, entry["sha256"], TIMEOUT)
        row = row_of(result)
        rows.append(row)
        if report is not None and len(documents) <= DETAILED:
            reports.append(report)
        logged.append({**entry, **_counts(row)})
    _log(logged, params["uploads"], user=job.created_by, ip=params.get("ip", ""))
    if not rows:
        return {"rejected": rejected}
    kept = Path("published-audits") / f"{job.pk}.xlsx"
    write_summary(rows, settings.MEDIA_ROOT / kept)
    outcome = {"rows": rows, "workbook": str(kept), "rejected": rejected}
    if reports:
        payload = {
            "summary": summarize(reports),
            "reports": [{**r.as_dict(), "readable": r.readable} for r in reports],
        }
        outcome["json"] = json.dumps(payload, ensure_ascii=False, indent=2)
        outcome["html"] = to_html(reports, REPORT_TITLE)
    return outcome


def _unpacked(path: Path, upload: dict, rejected: list, logged: list) -> list:
    """The documents of an uploaded zip, each copied out (its real size counted, whatever the
    zip declares) under the zip's folder, with the name it is shown by (zip/inner/path). Entries
    that are not documents, encrypted or too large are refused one by one; a zip past the
    limits of a run fails the job."""
    documents: list[tuple[Path, str, dict]] = []
    zip_name = upload["name"]

    def refuse(reason: str, member: int, name: str) -> None:
        rejected.append({"name": name, "reason": reason})
        logged.append(
            {"index": upload["index"], "member": member, "name": name, "rejected": reason}
        )

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        refuse(f"“{zip_name}”不是完好的 ZIP 压缩包，未审核。", 0, zip_name)
        return documents
    unpacked = 0
    with archive:
        for member, entry in enumerate(archive.infolist(), 1):
            if entry.is_dir():
                continue
            inner = _member_name(entry)
            name = f"{zip_name}/{inner}"
            if Path(inner).suffix.lower() not in SUFFIXES:
                refuse(f"“{name}”不是可审核的文件类型（{ACCEPTED}），未审核。", member, name)
                continue
            if entry.flag_bits & 0x1:
                refuse(f"“{name}”在压缩包中加了密码，未审核。", member, name)
                continue
            target = path.parent / "unpacked" / str(member) / Path(inner).name
            target.parent.mkdir(parents=True)
            size, digest = _copy_out(archive, entry, target)
            if size is None:
                refuse(f"“{name}”解压后超过 {MAX_FILE_MB} MB，未审核。", member, name)
                continue
            unpacked += size
            if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
                raise jobs.JobFailed(f"压缩包解压后超过 {MAX_UNPACKED_MB} MB，未审核；请分批上传。")
            entry_log = {"index": upload["index"], "member": member, "name": name}
            documents.append((target, name, {**entry_log, "sha256": digest, "size": size}))
    return documents


def _member_name(entry: zipfile.ZipInfo) -> str:
    """An entry's path in the zip, each part made a safe name. Zips made on Chinese Windows
    name their entries in GBK without saying so (no UTF-8 flag), which Python reads as cp437."""
    name = entry.filename
    if not entry.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except UnicodeError:
            pass
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(_clean_name(part, n) for n, part in enumerate(parts))


def _copy_out(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path):
    """Copy one entry out, a chunk at a time: its size and SHA-256, or (None, None) once it
    passes MAX_FILE_MB (the copy is removed)."""
    digest, size, cap = hashlib.sha256(), 0, MAX_FILE_MB * 1024 * 1024
    with archive.open(entry) as source, target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            size += len(chunk)
            if size > cap:
                break
            digest.update(chunk)
            out.write(chunk)
    if size > cap:
        target.unlink()
        return None, None
    return size, digest.hexdigest()


def _log(logged: list[dict], uploads: int, *, user, ip: str) -> None:
    """One audit-log entry for the run, its files in the order they were uploaded."""
    logged = [
        {k: v for k, v in item.items() if k not in ("index", "member")}
        for item in sorted(logged, key=lambda item: (item["index"], item.get("member", 0)))
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
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES and suffix != ZIP:
        return (
            f"“{name}”不是可审核的文件类型，请上传 {ACCEPTED} 文件，或装有这些文件的 ZIP 压缩包。"
        )
    if size > MAX_FILE_MB * 1024 * 1024 and suffix != ZIP:  # a zip: the request's limit
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


def _counts(row: dict) -> dict:
    if row["status"] != AUDITED and "certain" not in row:  # the audit failed
        return {"rejected": row["reason"]}
    return {
        "certain": row["certain"],
        "suspected": row["suspected"],
        "unresolved": row["unresolved"],
        "unreadable": 0 if row["status"] == AUDITED else 1,
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
