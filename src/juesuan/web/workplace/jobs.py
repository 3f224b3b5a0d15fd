"""Background jobs: the same job function runs in a thread pool inside the web process (the
default, no broker), on a Celery worker (when JUESUAN_BROKER_URL is set), or at once in the
request (JUESUAN_JOBS_MODE=sync, for tests).

Whatever reads an uploaded file runs here, never in the request: a workbook or a published text
can take seconds to minutes and much memory to read, and a request that did it would hold a
server process that other users' pages are waiting for. An upload is saved in a folder of its
own under MEDIA_ROOT/tmp (named in the job's `folder` parameter), which the job removes when it
ends, and so does every way a job can end without running.

A job function takes the Job's id, reads everything it needs from the database and MEDIA_ROOT,
reports progress on the Job row and ends it as succeeded (with a result) or failed (with a
message a finance officer can act on). It never trusts the process it runs in: a Celery worker
on another machine needs only the same database and the same MEDIA_ROOT.
"""

from __future__ import annotations

import logging
import shutil
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import Max
from django.utils import timezone

from juesuan.files import safe_file_name
from juesuan.ledger.issues import ERROR
from juesuan.web.audit.log import record
from juesuan.web.workplace.models import (
    AUDIT_JOB,
    BUILD_JOB,
    CONSOLIDATE_JOB,
    CONSOLIDATION,
    FAILED,
    IMPORT_JOB,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    UPLOAD,
    Build,
    DatasetVersion,
    Job,
)

log = logging.getLogger("juesuan.web.jobs")
_POOL: ThreadPoolExecutor | None = None


class JobFailed(Exception):
    """A job that cannot go on, with the message shown on the job page."""


def submit(job: Job) -> None:
    """Start `job` the configured way once the current transaction commits."""
    mode = settings.JOBS_MODE
    if mode == "sync":
        run_job(str(job.pk))
        return
    if mode == "celery":
        from juesuan.web.worker import run_job_task

        transaction.on_commit(lambda: send_to_worker(str(job.pk), run_job_task, discard_upload))
        return
    transaction.on_commit(lambda: _pool().submit(_run_in_thread, str(job.pk)))


BROKER_DOWN = (
    "任务未能交给后台处理程序：任务队列服务无法连接，本次操作没有执行。请稍后重试；"
    "如仍不行，请系统管理员检查任务队列服务（Redis 或 RabbitMQ）和 JUESUAN_BROKER_URL 设置。"
)
# A fault of the program, not of the input: the page says so; the trace is in the server's log.
INTERNAL_ERROR = (
    "系统内部出错，本次操作未能完成。请稍后重试；如仍出错，"
    "请把任务编号 {job} 告诉系统管理员，详细原因已记在服务器日志中。"
)


def send_to_worker(job_id: str, task, cleanup: Callable[[Job], None] | None = None) -> None:
    """Hand the job to a Celery worker through `task`. When the broker cannot take it, the job
    ends as failed at once with a sentence saying so (instead of an error page and a job queued
    forever), and `cleanup` removes what was waiting for it."""
    try:
        task.delay(job_id)
    except Exception:  # kombu raises its own OperationalError, or OSError, after its retries
        log.error("job %s not sent to Celery:\n%s", job_id, traceback.format_exc())
        Job.objects.filter(pk=job_id, status=QUEUED).update(
            status=FAILED, message="未能开始", error=BROKER_DOWN, finished_at=timezone.now()
        )
        if cleanup is not None:
            cleanup(Job.objects.get(pk=job_id))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(
            max_workers=max(1, settings.JOBS_THREADS), thread_name_prefix="juesuan-job"
        )
    return _POOL


def _run_in_thread(job_id: str) -> None:
    close_old_connections()
    try:
        run_job(job_id)
    finally:
        connections.close_all()  # this thread's own connection; jobs are rare, reconnecting is cheap


def interrupted_jobs() -> int:
    """Jobs left queued or running by a web process that stopped: mark them failed and remove
    their uploads. Called when the single-machine server starts (its thread pool was the only
    runner)."""
    stopped = list(Job.objects.filter(status__in=(QUEUED, RUNNING)))
    Job.objects.filter(pk__in=[job.pk for job in stopped]).update(
        status=FAILED,
        error="服务重启，任务中断；请重新发起。",
        message="已中断",
        finished_at=timezone.now(),
    )
    for job in stopped:
        discard_upload(job)
    return len(stopped)


def upload_folder(job: Job) -> Path | None:
    """The folder holding the job's uploaded files, if it has one."""
    folder = job.params.get("folder")
    return settings.MEDIA_ROOT / folder if folder else None


def discard_upload(job: Job) -> None:
    folder = upload_folder(job)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def progress(job: Job, percent: int, message: str) -> None:
    job.progress, job.message = percent, message
    Job.objects.filter(pk=job.pk).update(progress=percent, message=message)


def run_job(job_id: str, *, resume: bool = False) -> None:
    """Run one job to its end. Safe to call twice: a job that already started is left alone
    unless `resume`: the broker delivered the job again because the worker running it was lost
    (a Celery task is acknowledged only when it ends), so a job still marked running was cut
    off and runs again from the start. That is safe: a build or a consolidation cut off stored
    nothing half-done, and one run again adds one more version."""
    waiting = (QUEUED, RUNNING) if resume else (QUEUED,)
    started = Job.objects.filter(pk=job_id, status__in=waiting).update(
        status=RUNNING, started_at=timezone.now(), progress=1, message="开始"
    )
    if not started:
        return
    job = Job.objects.select_related("unit", "created_by").get(pk=job_id)
    from juesuan.web.workplace.published import audit_files

    work = {
        BUILD_JOB: build_package,
        CONSOLIDATE_JOB: consolidate_units,
        IMPORT_JOB: import_workbook,
        AUDIT_JOB: audit_files,
    }[job.kind]
    try:
        result = work(job)
    except JobFailed as exc:
        _finish(job, FAILED, error=str(exc))
    except Exception:  # anything else: keep the trace in the log, a sentence on the page
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
        _finish(job, FAILED, error=INTERNAL_ERROR.format(job=job_id))
    else:
        _finish(job, SUCCEEDED, result=result)
    finally:
        discard_upload(job)


def _finish(job: Job, status: str, *, result: dict | None = None, error: str = "") -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status,
        progress=100 if status == SUCCEEDED else job.progress,
        message="完成" if status == SUCCEEDED else "失败",
        result=result or {},
        error=error,
        finished_at=timezone.now(),
    )
    if status == FAILED:
        record(
            FAILURE_ACTIONS[job.kind],
            user=job.created_by,
            unit=job.unit,
            year=job.year,
            target=f"任务 {job.pk}",
            summary=f"{job.kind_name}失败：{error}",
            ip=job.params.get("ip", ""),
        )


FAILURE_ACTIONS = {
    BUILD_JOB: "build_failed",
    CONSOLIDATE_JOB: "consolidate",
    IMPORT_JOB: "dataset_rejected",
    AUDIT_JOB: "published_audit",
}


# ---- import ------------------------------------------------------------------------------------

REPORTED_ISSUES = 1000  # of a refused workbook, kept for its import report


def import_workbook(job: Job) -> dict:
    """An uploaded workbook read and stored as the unit's next version, or refused with every
    issue (kept in the result for the import report). Either way it is logged."""
    from juesuan.web.workplace.versions import accept_workbook

    folder = upload_folder(job)
    path = folder / job.params["name"] if folder else None
    if path is None or not path.is_file():
        raise JobFailed("上传的文件已不在（等待处理时被清理），请重新上传。")
    progress(job, 10, "读取并检查工作簿")
    expected = job.params.get("year")
    outcome = accept_workbook(
        job.unit, path, kind=UPLOAD, user=job.created_by, expected_year=expected
    )
    year = outcome.year or expected
    if year and year != job.year:
        Job.objects.filter(pk=job.pk).update(year=year)
        job.year = year
    size, digest, ip = job.params["size"], outcome.sha256, job.params.get("ip", "")
    if not outcome.accepted:
        record(
            "dataset_rejected",
            user=job.created_by,
            unit=job.unit,
            year=year,
            target=outcome.file_name,
            summary=f"上传的“{outcome.file_name}”有 {len(outcome.errors)} 处错误，未导入"
            f"（SHA-256 {digest}）",
            ip=ip,
        )
        # errors first; a workbook of junk rows can have millions of issues, and the report
        # needs the first of them and the counts, not a job row of hundreds of megabytes
        issues = sorted(outcome.issues, key=lambda issue: issue["severity"] != ERROR)
        return {
            "accepted": False,
            "file_name": outcome.file_name,
            "sha256": digest,
            "year": year,
            "issues": issues[:REPORTED_ISSUES],
            "issue_count": len(issues),
            "error_count": len(outcome.errors),
        }
    version = outcome.version
    record(
        "dataset_upload",
        user=job.created_by,
        unit=job.unit,
        year=version.year,
        target=f"数据第 {version.number} 版",
        summary=f"导入“{version.original_name}”为数据第 {version.number} 版（{size} 字节，"
        f"SHA-256 {version.sha256}）",
        after=version_facts(version),
        ip=ip,
    )
    return {"accepted": True, "version": version.number, "year": version.year}


def version_facts(version: DatasetVersion) -> dict:
    summary = version.summary or {}
    return {
        "version": version.number,
        "file": version.original_name,
        "sha256": version.sha256,
        "lines": summary.get("lines"),
        "fatal": summary.get("fatal"),
        "warning": summary.get("warning"),
    }


# ---- build -------------------------------------------------------------------------------------


def build_package(job: Job) -> dict:
    """Check the version and write its disclosure package, as `juesuan build` does."""
    from juesuan.fonts import FontMissing
    from juesuan.publish.package import sha256, write_package
    from juesuan.rules.engine import TIER_NAMES
    from juesuan.web.workplace.analysis import VersionUnreadable, analysed, payments_stamp
    from juesuan.web.workplace.freshness import recorded

    version = DatasetVersion.objects.get(pk=job.params["version"])
    wants_draft = bool(job.params.get("draft"))
    progress(job, 10, "读取数据")
    stamp = payments_stamp(version.unit_id, version.year)
    try:
        found = analysed(version, stamp)
    except VersionUnreadable as exc:
        raise JobFailed(str(exc)) from exc
    prepared = found.prepared
    progress(job, 35, "审核完成")
    fatal = prepared.fatal
    if fatal and not wants_draft:
        listed = "；".join(f"{o.title}：{o.message}" for o in fatal[:5])
        more = f" 等 {len(fatal)} 项" if len(fatal) > 5 else ""
        raise JobFailed(
            f"有{TIER_NAMES['FATAL']}问题，未生成：{listed}{more}。改正后重新生成，或勾选“草稿”"
            "生成标注草稿的版本。"
        )
    base = Path("builds") / str(job.unit_id) / str(job.year)
    scratch = settings.MEDIA_ROOT / base / f".job-{job.pk}"
    if scratch.exists():
        shutil.rmtree(scratch)
    progress(job, 45, "生成附表、图表和公开文本（Word、PDF、网页）")
    try:
        # written whole or not at all: a failure leaves no scratch folder behind
        manifest = write_package(prepared, scratch, draft=bool(fatal))
    except FontMissing as exc:
        raise JobFailed(str(exc)) from exc
    progress(job, 90, "登记版本")
    try:
        zip_sha = sha256(scratch / manifest.zip)
        manifest_data = manifest.as_dict()
        build = _register_build(
            job,
            version,
            base,
            scratch,
            manifest,
            manifest_data,
            zip_sha,
            prepared,
            recorded(stamp, found.actuals),
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # a package no version record points to
        raise
    record(
        "build_done",
        user=job.created_by,
        unit=job.unit,
        year=job.year,
        target=f"公开包第 {build.number} 版",
        summary=(
            f"由数据第 {version.number} 版生成公开包第 {build.number} 版"
            f"{'（草稿）' if build.draft else ''}，压缩包 SHA-256 {zip_sha}"
        ),
        after={"build": build.number, "version": version.number, "zip_sha256": zip_sha},
    )
    return {"build": build.number}


def _register_build(
    job, version, base, scratch, manifest, manifest_data, zip_sha, prepared, payments
):
    for _attempt in range(5):
        try:
            with transaction.atomic():
                number = (
                    Build.objects.filter(unit=job.unit, year=job.year).aggregate(Max("number"))[
                        "number__max"
                    ]
                    or 0
                ) + 1
                directory = base / str(number)
                build = Build.objects.create(
                    unit=job.unit,
                    year=job.year,
                    number=number,
                    version=version,
                    format=manifest.format,
                    draft=manifest.draft,
                    directory=str(directory),
                    manifest=manifest_data,
                    zip_name=manifest.zip,
                    zip_sha256=zip_sha,
                    checks=prepared.summary,
                    payments=payments,
                    job=job,
                    created_by=job.created_by,
                )
                target = settings.MEDIA_ROOT / directory
                if target.exists():
                    shutil.rmtree(target)
                scratch.rename(target)
                return build
        except IntegrityError:
            continue
    raise JobFailed("无法登记公开包版本号，请重试")


# ---- consolidation (汇总) -----------------------------------------------------------------------


def consolidate_units(job: Job) -> dict:
    """The current versions of a 部门's units, consolidated into a new version of the 部门."""
    from juesuan.consolidate import consolidate
    from juesuan.ledger.export import write_workbook
    from juesuan.web.workplace.analysis import VersionUnreadable, prepared_for
    from juesuan.web.workplace.versions import accept_workbook, current_version, workspace

    department = job.unit
    children = list(department.children.order_by("name"))
    # 部门本级 first: the consolidated dataset takes its texts and reasons from the first one.
    children.sort(key=lambda u: (not u.name.endswith("本级"), u.name))
    progress(job, 10, "读取各单位的当前数据")
    datasets, used, missing = [], [], []
    for unit in children:
        version = current_version(unit, job.year)
        if version is None:
            missing.append(unit.name)
            continue
        try:
            dataset, _prepared = prepared_for(version)
        except VersionUnreadable as exc:
            raise JobFailed(f"“{unit.name}”的数据无法读取：{exc}") from exc
        datasets.append(dataset)
        used.append(f"{unit.name} 第{version.number}版")
    if not datasets:
        raise JobFailed(f"下属单位都还没有 {job.year} 年度的数据，无法汇总")
    progress(job, 40, f"汇总 {len(datasets)} 个单位")
    merged, report = consolidate(datasets, name=department.name, code=department.code or None)
    if merged is None:
        raise JobFailed("无法汇总：" + "；".join(report.problems))
    folder = workspace()
    path = folder / f"{safe_file_name(department.name)}{job.year}年汇总数据.xlsx"
    progress(job, 60, "写出汇总工作簿并审核")
    write_workbook(merged, path)
    note = "汇总：" + "、".join(used)
    if missing:
        note += "；未汇总（无数据）：" + "、".join(missing)
    outcome = accept_workbook(
        department, path, kind=CONSOLIDATION, user=job.created_by, expected_year=job.year, note=note
    )
    if not outcome.accepted:
        raise JobFailed(
            "汇总结果未能导入："
            + "；".join(f"{i['sheet'] or ''}{i['message']}" for i in outcome.errors[:5])
        )
    version = outcome.version
    record(
        "consolidate",
        user=job.created_by,
        unit=department,
        year=job.year,
        target=f"数据第 {version.number} 版",
        summary=f"{note}。{'；'.join(report.problems) if report.problems else ''}",
        after={"version": version.number, "sha256": version.sha256, "units": used},
    )
    return {"version": version.number, "problems": list(report.problems), "missing": missing}
