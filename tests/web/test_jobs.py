"""The same job function in its three runners: at once (the other tests), a thread pool inside
the web process (the default), and a Celery worker with a Redis broker when one is reachable."""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

import pytest

from juesuan.web.workplace import jobs
from juesuan.web.workplace.models import CONSOLIDATE_JOB, Job
from web.conftest import sending_to, store

REDIS_URL = os.environ.get("JUESUAN_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def _wait(job: Job, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job.status} after {seconds} s: {job.message}")


def _reachable(url: str) -> str:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=2).close()
    except OSError as exc:
        return (
            f"Redis at {parts.hostname}:{parts.port} is not reachable ({exc}); "
            "Debian's redis-server would run this test"
        )
    return ""


@pytest.mark.django_db(transaction=True)
def test_thread_pool_runs_a_job_in_the_background(world, example_workbook, settings):
    settings.JOBS_MODE = "thread"
    store(world.unit, example_workbook, world.users["finance"])
    job = Job.objects.create(kind=CONSOLIDATE_JOB, unit=world.department, year=2020)
    jobs.submit(job)  # outside a transaction: handed to the pool at once
    job = _wait(job)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.result["version"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_that_cannot_run_fails_with_a_reason(world, settings):
    settings.JOBS_MODE = "sync"
    job = Job.objects.create(kind=CONSOLIDATE_JOB, unit=world.department, year=2020)
    jobs.submit(job)
    job.refresh_from_db()
    assert job.status == "failed" and "还没有 2020 年度的数据" in job.error
    jobs.run_job(str(job.pk))  # a finished job is not run again
    job.refresh_from_db()
    assert job.status == "failed"


def test_interrupted_jobs_are_marked_failed(world):
    running = Job.objects.create(
        kind=CONSOLIDATE_JOB, unit=world.department, year=2020, status="running"
    )
    assert jobs.interrupted_jobs() == 1
    running.refresh_from_db()
    assert running.status == "failed" and "中断" in running.error


@pytest.mark.django_db(transaction=True)
def test_celery_worker_runs_the_same_job(world, example_workbook, settings):
    problem = _reachable(REDIS_URL)
    if problem:
        pytest.skip(problem)
    from celery.contrib.testing.worker import start_worker

    from juesuan.web.worker import app

    settings.JOBS_MODE = "celery"
    app.conf.broker_url = REDIS_URL
    store(world.unit, example_workbook, world.users["finance"])
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        job = Job.objects.create(kind=CONSOLIDATE_JOB, unit=world.department, year=2020)
        jobs.submit(job)
        job = _wait(job)
    assert job.status == "succeeded", job.error
    assert job.result["version"] == 1


def test_a_job_the_broker_cannot_take_fails_at_once_with_the_reason(
    world, settings, django_capture_on_commit_callbacks
):
    """A broker that is down: the page is not an error and the job does not stay queued."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.JOBS_MODE = "celery"
    with sending_to(f"redis://127.0.0.1:{closed}/0", "juesuan-test-nowhere"):
        with django_capture_on_commit_callbacks(execute=True):
            job = Job.objects.create(kind=CONSOLIDATE_JOB, unit=world.department, year=2020)
            jobs.submit(job)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == jobs.BROKER_DOWN
    assert job.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_fault_of_the_program_is_a_sentence_without_python_words(world, settings, monkeypatch):
    settings.JOBS_MODE = "sync"

    def broken(job):
        raise KeyError("consolidated")

    monkeypatch.setattr(jobs, "consolidate_units", broken)
    job = Job.objects.create(kind=CONSOLIDATE_JOB, unit=world.department, year=2020)
    jobs.submit(job)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == jobs.INTERNAL_ERROR.format(job=job.pk)
    assert "KeyError" not in job.error and str(job.pk) in job.error
