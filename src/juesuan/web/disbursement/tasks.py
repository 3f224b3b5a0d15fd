"""The Celery task for disbursement jobs (registered on whichever Celery app the worker runs)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="juesuan.run_pay_job", acks_late=True, reject_on_worker_lost=True)
def run_pay_job_task(job_id: str) -> None:
    from django.db import close_old_connections, connections

    from juesuan.web.disbursement.jobs import run_job

    close_old_connections()
    try:
        run_job(job_id, resume=True)
    finally:
        connections.close_all()
