"""The Celery application, for deployments with a broker (JUESUAN_BROKER_URL).

Run workers with the same settings (database, MEDIA_ROOT) as the web app:

    JUESUAN_BROKER_URL=redis://127.0.0.1:6379/0 JUESUAN_DATABASE_URL=postgres://… \
        celery -A juesuan.web.worker worker --loglevel=info

The task is a thin wrapper: the job function is `juesuan.web.workplace.jobs.run_job`, the same
one the single-machine thread pool runs.
"""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juesuan.web.settings")
django.setup()

from django.conf import settings  # noqa: E402

app = Celery("juesuan", broker=settings.BROKER_URL or None)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    # A worker that dies mid-job (the machine, or only the process running the task) leaves the
    # message unacknowledged, so the broker delivers it again and run_job(resume=True) reruns it.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # jobs are long: one at a time per worker process
    task_ignore_result=True,  # the Job row is the result
    broker_connection_retry_on_startup=True,
)


@app.task(name="juesuan.run_job")
def run_job_task(job_id: str) -> None:
    from django.db import close_old_connections, connections

    from juesuan.web.workplace.jobs import run_job

    close_old_connections()
    try:
        run_job(job_id, resume=True)
    finally:
        connections.close_all()
