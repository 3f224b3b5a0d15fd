"""The disbursement jobs on a Celery worker: 生成批次 → (复核) → 审批 → 导入回盘 sent as Celery tasks
(JOBS_MODE=celery) to a worker running as a process of its own — as on another machine — with
the same database and MEDIA_ROOT, through Redis and through RabbitMQ when they are reachable.

The worker process reads and writes the test database: pytest-django's test database on
PostgreSQL, the test database file on SQLite. Each run uses a queue of its own, so a worker of
another test run on the same broker never takes these tasks.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection, transaction

from juesuan.disbursement import model as core
from juesuan.web.disbursement import jobs, services
from juesuan.web.disbursement.models import BankFile, Payment, ResultImport, Run
from juesuan.web.workplace.models import Job
from web.conftest import DATA_DIR, sending_to
from web.test_disbursement_support import STANDARD, bank_answers, person_id, set_up_unit

BROKERS = {
    "redis": os.environ.get("JUESUAN_TEST_BROKER_URL", "redis://127.0.0.1:6379/15"),
    "rabbitmq": os.environ.get("JUESUAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
DEFAULT_PORTS = {"redis": 6379, "amqp": 5672}


def _unreachable(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        socket.create_connection((parts.hostname, port), timeout=2).close()
    except OSError as exc:
        package = "redis-server" if parts.scheme == "redis" else "rabbitmq-server"
        return (
            f"broker {parts.scheme}://{parts.hostname}:{port} is not reachable ({exc}); "
            f"Debian's {package} would run this test"
        )
    return ""


def _database_url() -> str:
    """The test database as the worker process must reach it (pytest-django's test_… database on
    PostgreSQL; the test file on SQLite, which two processes can share)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(request, settings, tmp_path):
    """A Celery worker process on a queue of its own, and the web side's app pointed at it."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "the Celery worker runs as a process of its own and needs a database it shares with "
            "the test; this SQLite test database is in memory"
        )
    broker = BROKERS[request.param]
    problem = _unreachable(broker)
    if problem:
        pytest.skip(problem)
    queue = f"juesuan-test-{uuid.uuid4().hex[:12]}"
    settings.JOBS_MODE = "celery"
    log = tmp_path / "worker.log"
    with sending_to(broker, queue), _worker_process(broker, queue, settings, log):
        yield log


@contextlib.contextmanager
def _worker_process(broker: str, queue: str, settings, log: Path, **env_extra: str):
    """`celery worker` in a process of its own, on `queue`, stopped when the block ends."""
    env = {
        **os.environ,
        "JUESUAN_DATABASE_URL": _database_url(),
        "JUESUAN_BROKER_URL": broker,
        "JUESUAN_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "JUESUAN_DATA_DIR": str(DATA_DIR),
        **env_extra,
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "juesuan.web.worker", "worker"),
        *("--pool=solo", "--queues", queue, "--hostname", f"{queue}@%h", "--loglevel=INFO"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait(job: Job, log: Path, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        time.sleep(0.2)
    raise AssertionError(
        f"job {job.kind} still {job.status} after {seconds} s ({job.message}); worker log:\n"
        + log.read_text(errors="replace")[-4000:]
    )


def _start(kind: str, unit, user, year: int, params: dict) -> Job:
    # as a page does: the task is sent when the request's transaction commits
    with transaction.atomic():
        return jobs.start(kind, unit, user, year, params)


def _succeeded(job: Job, log: Path) -> dict:
    job = _wait(job, log)
    assert job.status == "succeeded", (job.error, log.read_text(errors="replace")[-4000:])
    assert job.progress == 100 and job.message == "完成" and job.error == ""
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.result["ok"] is True
    return job.result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker", ["redis", "rabbitmq"], indirect=True)
def test_prepare_approve_and_results_run_on_a_celery_worker(world, worker, settings, tmp_path):
    unit = world.unit
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    set_up_unit(unit, clerk, tmp_path, people=6)

    # 经办 prepares March on the worker
    prepared = _succeeded(
        _start(jobs.PREPARE_JOB, unit, clerk, 2020, {"month": "2020-03", "schemes": []}), worker
    )
    run = Run.objects.get(unit=unit, month="2020-03")
    assert prepared["changed"] and prepared["data"]["run"] == run.pk
    assert run.step == core.PREPARED and run.prepared_by == clerk
    assert run.count == 6 and run.total == 3 * STANDARD["QYJS"] + 3 * STANDARD["LXRY"]
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}

    # 复核 is a page action, not a job
    assert services.review_run(unit, reviewer, run.pk).ok

    # 审批 on the worker: payments SENT, one bank file per scheme written under MEDIA_ROOT
    approved = _succeeded(_start(jobs.APPROVE_JOB, unit, approver, 2020, {"run": run.pk}), worker)
    run.refresh_from_db()
    assert run.step == core.APPROVED and run.approved_by == approver
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"sent"}
    files = list(BankFile.objects.filter(run=run).order_by("scheme"))
    assert [f.scheme for f in files] == ["LXRY", "QYJS"]
    assert sorted(approved["data"]["files"]) == sorted(f.name for f in files)
    assert sum(f.count for f in files) == 6 and sum(f.total for f in files) == run.total
    for item in files:
        assert Path(item.full_path).is_file()  # written by the worker, where the web reads it

    # the bank's answer imported on the worker: one return (AC01), the rest paid
    returned_id = person_id(0)
    imported = []
    for path in bank_answers(run, tmp_path, {returned_id: "AC01"}):
        upload = settings.MEDIA_ROOT / "disbursement" / "uploads" / f"{uuid.uuid4().hex}.csv"
        upload.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, upload)
        params = {
            "path": str(upload.relative_to(settings.MEDIA_ROOT)),
            "name": path.name,
            "adapter": "generic-csv",
        }
        imported.append(_succeeded(_start(jobs.RESULTS_JOB, unit, clerk, 2020, params), worker))
        assert not upload.exists()  # the upload is removed once read; its copy is kept
    assert all(r["changed"] for r in imported)
    assert sum(r["data"]["paid"] for r in imported) == 5
    assert sum(r["data"]["returned"] for r in imported) == 1
    statuses = dict(Payment.objects.filter(run=run).values_list("person_id", "status"))
    assert statuses.pop(returned_id) == core.RETURNED
    assert set(statuses.values()) == {core.PAID}
    kept = list(ResultImport.objects.filter(unit=unit))
    assert len(kept) == 2
    assert all((settings.MEDIA_ROOT / r.file_path).is_file() for r in kept)
    balance = services.conservation(unit)
    assert balance.ok, balance.problems
    assert balance.balance.returned == STANDARD["QYJS"]
    assert balance.balance.paid == run.total - STANDARD["QYJS"]

    # every job row: its kind, who asked, succeeded; none left behind
    rows = list(Job.objects.filter(unit=unit).order_by("created_at"))
    assert [j.kind for j in rows] == [
        jobs.PREPARE_JOB,
        jobs.APPROVE_JOB,
        jobs.RESULTS_JOB,
        jobs.RESULTS_JOB,
    ]
    assert {j.status for j in rows} == {"succeeded"}
    assert [j.created_by for j in rows] == [clerk, approver, clerk, clerk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker", ["redis"], indirect=True)
def test_a_refused_step_fails_the_job_with_the_reason(world, worker, tmp_path):
    unit = world.unit
    set_up_unit(unit, world.users["clerk"], tmp_path, people=2)
    prepared = services.prepare_run(unit, world.users["clerk"], core.Month(2020, 3))
    # the approver may not approve a run nobody reviewed
    job = _wait(
        _start(
            jobs.APPROVE_JOB, unit, world.users["approver"], 2020, {"run": prepared.data["run"]}
        ),
        worker,
    )
    assert job.status == "failed" and "先经复核" in job.error
    assert job.result["ok"] is False
    assert Run.objects.get(pk=prepared.data["run"]).step == core.PREPARED
    assert not BankFile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_job_cut_off_with_its_worker_runs_again_on_another(world, settings, tmp_path):
    """The worker process dies inside the step (os._exit at a crash point, as a killed machine
    would): the broker hands the task to the next worker, which runs the step again from the
    start and pays everyone once. RabbitMQ gives an unacknowledged task back as soon as the
    dead worker's connection drops (Redis only after its visibility timeout, an hour)."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker process needs a database it shares with the test")
    broker = BROKERS["rabbitmq"]
    problem = _unreachable(broker)
    if problem:
        pytest.skip(problem)
    unit, clerk = world.unit, world.users["clerk"]
    set_up_unit(unit, clerk, tmp_path, people=4)
    queue = f"juesuan-test-{uuid.uuid4().hex[:12]}"
    settings.JOBS_MODE = "celery"
    log = tmp_path / "worker.log"
    with sending_to(broker, queue):
        crashing = {services.CRASH_ENV: "prepare.persisted"}
        with _worker_process(broker, queue, settings, log, **crashing) as first:
            job = _start(jobs.PREPARE_JOB, unit, clerk, 2020, {"month": "2020-03"})
            first.wait(timeout=120)
        assert first.returncode == 75, log.read_text(errors="replace")[-4000:]
        job.refresh_from_db()
        assert job.status == "running"  # cut off: the payments it wrote were never committed
        assert not Payment.objects.exists()
        with _worker_process(broker, queue, settings, log):
            result = _succeeded(job, log)
    assert result["changed"] is True
    run = Run.objects.get()
    assert (run.month, run.count) == ("2020-03", 4)
    assert Payment.objects.filter(run=run).count() == 4


@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_while_the_step_is_still_running(world, tmp_path, monkeypatch):
    """The job page reads the job row from another connection while the step's transaction is
    open: what it reads at each point of the step is that point's progress."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: progress is seen when the step commits")
    import psycopg

    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=4)
    job = Job.objects.create(
        kind=jobs.PREPARE_JOB,
        unit=world.unit,
        year=2020,
        params={"month": "2020-03"},
        created_by=world.users["clerk"],
    )
    page = psycopg.connect(_database_url(), autocommit=True)  # as the job page reads it
    seen = []
    prepare_run = services.prepare_run

    def watched(*args, progress, **kwargs):
        def report(percent: int, message: str) -> None:
            progress(percent, message)
            assert connection.in_atomic_block  # inside the step's transaction
            seen.append(
                page.execute(
                    f"SELECT progress, message FROM {Job._meta.db_table} WHERE id = %s", [job.pk]
                ).fetchone()
            )

        return prepare_run(*args, progress=report, **kwargs)

    monkeypatch.setattr(services, "prepare_run", watched)
    try:
        jobs.run_job(str(job.pk))
    finally:
        page.close()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress == 100, job.error
    assert seen == [
        (10, "读取花名册和人员变动"),
        (30, "计算 4 人的发放金额"),
        (55, "保存 4 笔付款"),
    ]


def test_a_job_the_broker_cannot_take_fails_at_once_with_the_reason(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    """A broker that is down: the page is not an error, the job does not wait forever, and the
    uploaded result file waiting for the job is removed."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.JOBS_MODE = "celery"
    upload = settings.MEDIA_ROOT / "disbursement" / "uploads" / "回盘.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("x", encoding="utf-8")
    params = {"path": str(upload.relative_to(settings.MEDIA_ROOT)), "adapter": "generic-csv"}
    with sending_to(f"redis://127.0.0.1:{closed}/0", "juesuan-test-nowhere"):
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.start(jobs.RESULTS_JOB, world.unit, world.users["clerk"], 2020, params)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == jobs.BROKER_DOWN
    assert job.finished_at is not None and not upload.exists()
    assert not ResultImport.objects.exists()
