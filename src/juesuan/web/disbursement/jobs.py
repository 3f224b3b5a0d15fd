"""The long disbursement steps as background jobs (生成批次, 审批 with bank files, 导入回盘).

They use the workplace's `Job` rows, thread pool and progress reporting (`workplace.jobs`);
the dispatcher is here because the job kinds are this app's. The job's result is the step's
`Outcome` as a dict; a refused step ends the job as failed with the refusal as its message.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from juesuan.disbursement.model import Month
from juesuan.web.disbursement import services
from juesuan.web.workplace import jobs as workplace_jobs
from juesuan.web.workplace.models import FAILED, QUEUED, RUNNING, SUCCEEDED, Job

log = logging.getLogger("juesuan.web.disbursement")

PREPARE_JOB, APPROVE_JOB, RESULTS_JOB = "pay_prepare", "pay_approve", "pay_results"
JOB_NAMES = {PREPARE_JOB: "生成发放批次", APPROVE_JOB: "审批发放批次", RESULTS_JOB: "导入银行回盘"}


def start(kind: str, unit, user, year: int, params: dict) -> Job:
    """Create the job and run it the configured way (at once, thread pool or Celery)."""
    job = Job.objects.create(kind=kind, unit=unit, year=year, params=params, created_by=user)
    mode = settings.JOBS_MODE
    if mode == "sync":
        run_job(str(job.pk))
    elif mode == "celery":
        import juesuan.web.worker  # noqa: F401  (the configured Celery app becomes current)
        from juesuan.web.disbursement.tasks import run_pay_job_task

        transaction.on_commit(lambda: run_pay_job_task.delay(str(job.pk)))
    else:
        transaction.on_commit(lambda: workplace_jobs._pool().submit(_in_thread, str(job.pk)))
    return job


def _in_thread(job_id: str) -> None:
    close_old_connections()
    try:
        run_job(job_id)
    finally:
        connections.close_all()


def run_job(job_id: str) -> None:
    """Run one disbursement job to its end; a job already started is left alone."""
    started = Job.objects.filter(pk=job_id, status=QUEUED).update(
        status=RUNNING, started_at=timezone.now(), progress=1, message="开始"
    )
    if not started:
        return
    job = Job.objects.select_related("unit", "created_by").get(pk=job_id)

    def progress(percent: int, message: str) -> None:
        workplace_jobs.progress(job, percent, message)

    try:
        outcome = _work(job, progress)
    except Exception as exc:  # the trace goes to the log, a sentence to the page
        log.error("disbursement job %s failed:\n%s", job_id, traceback.format_exc())
        outcome = services.Outcome(False, f"内部错误：{type(exc).__name__}: {exc}")
    Job.objects.filter(pk=job.pk).update(
        status=SUCCEEDED if outcome.ok else FAILED,
        progress=100 if outcome.ok else job.progress,
        message="完成" if outcome.ok else "未完成",
        result=outcome.as_dict(),
        error="" if outcome.ok else outcome.message,
        finished_at=timezone.now(),
    )


def _work(job: Job, progress) -> services.Outcome:
    params = job.params
    user = job.created_by
    if job.kind == PREPARE_JOB:
        return services.prepare_run(
            job.unit,
            user,
            Month.parse(params["month"]),
            params.get("schemes") or None,
            progress=progress,
        )
    if job.kind == APPROVE_JOB:
        return services.approve_run(job.unit, user, int(params["run"]), progress=progress)
    if job.kind == RESULTS_JOB:
        path = settings.MEDIA_ROOT / params["path"]
        try:
            return services.import_results(
                job.unit,
                user,
                path,
                adapter_id=params["adapter"],
                file_name=params.get("name", ""),
                progress=progress,
            )
        finally:
            Path(path).unlink(missing_ok=True)  # the kept copy is under results/
    return services.Outcome(False, f"未知的任务类型：{job.kind}")
