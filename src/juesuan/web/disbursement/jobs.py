"""The long disbursement steps as background jobs (生成批次, 审批 with bank files, 导入回盘).

They use the workplace's `Job` rows, thread pool and progress reporting (`workplace.jobs`);
the dispatcher is here because the job kinds are this app's. The job's result is the step's
`Outcome` as a dict; a refused step ends the job as failed with the refusal as its message.

A step runs in one transaction, and progress written inside it would stay unseen until the step
commits (the job page would sit at 1 % and jump to 100 %). On PostgreSQL progress is therefore
written through a connection of its own (`StepProgress`); SQLite has one writer at a time, so
there the page sees the step's progress when it commits.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections, transaction
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
        transaction.on_commit(lambda: _send_to_worker(str(job.pk)))
    else:
        transaction.on_commit(lambda: workplace_jobs._pool().submit(_in_thread, str(job.pk)))
    return job


BROKER_DOWN = workplace_jobs.BROKER_DOWN
INTERNAL_ERROR = workplace_jobs.INTERNAL_ERROR


def _send_to_worker(job_id: str) -> None:
    """Hand the job to a Celery worker (`workplace.jobs.send_to_worker`); when the broker cannot
    take it, an uploaded result file waiting for the job is removed too."""
    import juesuan.web.worker  # noqa: F401  (the configured Celery app becomes current)
    from juesuan.web.disbursement.tasks import run_pay_job_task

    workplace_jobs.send_to_worker(job_id, run_pay_job_task, _remove_upload)


def _remove_upload(job: Job) -> None:
    if job.kind == RESULTS_JOB:
        (settings.MEDIA_ROOT / job.params["path"]).unlink(missing_ok=True)


def _in_thread(job_id: str) -> None:
    close_old_connections()
    try:
        run_job(job_id)
    finally:
        connections.close_all()


def run_job(job_id: str, *, resume: bool = False) -> None:
    """Run one disbursement job to its end; a job already started is left alone, unless
    `resume`: the broker delivered the job again because the worker running it was lost (a
    Celery task is acknowledged only when it ends), so a job still marked running was cut off
    and runs again from the start. That is safe: each step is one transaction, and taken
    again it pays nobody twice (the crash tests show it)."""
    waiting = (QUEUED, RUNNING) if resume else (QUEUED,)
    started = Job.objects.filter(pk=job_id, status__in=waiting).update(
        status=RUNNING, started_at=timezone.now(), progress=1, message="开始"
    )
    if not started:
        return
    job = Job.objects.select_related("unit", "created_by").get(pk=job_id)
    progress = StepProgress(job)
    try:
        outcome = _work(job, progress)
    except Exception:  # the trace goes to the log, a sentence to the page
        log.error("disbursement job %s failed:\n%s", job_id, traceback.format_exc())
        outcome = services.Outcome(False, INTERNAL_ERROR.format(job=job_id))
    finally:
        progress.close()
    Job.objects.filter(pk=job.pk).update(
        status=SUCCEEDED if outcome.ok else FAILED,
        progress=100 if outcome.ok else job.progress,
        message="完成" if outcome.ok else "未完成",
        result=outcome.as_dict(),
        error="" if outcome.ok else outcome.message,
        finished_at=timezone.now(),
    )


class StepProgress:
    """A job's progress, written where the job page can read it while the step's transaction
    is still open: on PostgreSQL through a connection of its own, committed at once.

    That is for jobs started outside any transaction (thread pool, Celery worker). A job run at
    once inside a request's transaction (JOBS_MODE=sync) writes its progress in that
    transaction: its row is not yet visible to another connection."""

    LOCK_TIMEOUT_MS = 2000  # progress is worth a short wait, never a stuck step

    def __init__(self, job: Job) -> None:
        self.job = job
        self.aside = connection.vendor == "postgresql" and not connection.in_atomic_block
        self._connection = None

    def __call__(self, percent: int, message: str) -> None:
        if not (self.aside and connection.in_atomic_block):
            workplace_jobs.progress(self.job, percent, message)
            return
        self.job.progress, self.job.message = percent, message
        try:
            with self._own_connection().cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(Job._meta.db_table)} "
                    "SET progress = %s, message = %s WHERE id = %s",
                    [percent, message[:300], self.job.pk],
                )
        except DatabaseError:  # the step goes on; the page shows the progress at the end
            log.warning("progress of job %s not written:\n%s", self.job.pk, traceback.format_exc())

    def _own_connection(self):
        if self._connection is None:
            self._connection = connections.create_connection(connection.alias)
            with self._connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {self.LOCK_TIMEOUT_MS}")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


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
