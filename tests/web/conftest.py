"""Web tests: Django settings for a throw-away data directory, jobs run at once, and fixtures
for a small world of units, users and grants.

The database is SQLite unless JUESUAN_TEST_DATABASE_URL names a PostgreSQL server (CI sets
postgres://postgres@127.0.0.1:5432/postgres); when that server cannot be reached, every web
test is skipped with the reason. These variables are set here, before Django reads its
settings, so the rest of the suite never loads Django.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

DATA_DIR = Path(tempfile.mkdtemp(prefix="juesuan-web-test-"))
os.environ["JUESUAN_DATA_DIR"] = str(DATA_DIR)
os.environ["JUESUAN_JOBS_MODE"] = "sync"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juesuan.web.settings")
for name in ("JUESUAN_DATABASE_URL", "DATABASE_URL", "JUESUAN_BROKER_URL", "JUESUAN_MEDIA_ROOT"):
    os.environ.pop(name, None)

POSTGRES_URL = os.environ.get("JUESUAN_TEST_DATABASE_URL", "").strip()
POSTGRES_PROBLEM = ""
if POSTGRES_URL:
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
        os.environ["JUESUAN_DATABASE_URL"] = POSTGRES_URL
    except Exception as exc:  # not reachable: say so on every test
        POSTGRES_PROBLEM = (
            f"PostgreSQL at JUESUAN_TEST_DATABASE_URL={POSTGRES_URL} is not reachable: {exc}"
        )

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "luzhou-2020"
UNIT_NAME = "泸州市社会保险事业管理局"
DEPARTMENT_NAME = "泸州市人力资源和社会保障局"
PASSWORD = "correct-horse-battery-9"


def pytest_configure(config):
    """Set Django up now (this conftest is read after pytest-django looked for settings), with
    pytest-django's blocking of database access outside tests that ask for it."""
    from django.conf import settings
    from pytest_django.plugin import _setup_django

    settings.INSTALLED_APPS  # noqa: B018  (reading a setting configures them)
    _setup_django(config)
    # Tests sign in many users: a fast hasher keeps them quick (the real ones are PBKDF2/Argon2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # One test database per test process, so two runs against one PostgreSQL server (two
    # checkouts, or CI beside a developer) never drop each other's database.
    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("postgresql"):
        default.setdefault("TEST", {})["NAME"] = f"test_juesuan_{os.getpid()}"


atexit.register(shutil.rmtree, DATA_DIR, True)


@pytest.fixture(scope="session", autouse=True)
def _postgres_reachable():
    if POSTGRES_PROBLEM:
        pytest.skip(POSTGRES_PROBLEM)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Every test writes its files to its own MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.JOBS_MODE = "sync"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty page cache: the database is rolled back between tests,
    so ids repeat."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_triggers(request):
    """The append-only triggers in place for every test; dropped after a transactional test on
    SQLite, whose flush empties tables with DELETE (PostgreSQL's uses TRUNCATE)."""
    names = request.fixturenames
    if "db" not in names and "transactional_db" not in names:
        yield
        return
    transactional = "transactional_db" in names or bool(
        (marker := request.node.get_closest_marker("django_db"))
        and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    migration = importlib.import_module("juesuan.web.audit.migrations.0002_append_only_triggers")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in migration.SQLITE:
                cursor.execute(statement)
    yield
    if transactional and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in migration.SQLITE_DROP:
                cursor.execute(statement)


@pytest.fixture(scope="session")
def example_workbook(tmp_path_factory) -> Path:
    """The bundled example written as a workbook, as a finance officer would upload it."""
    from juesuan.ledger.export import write_workbook
    from juesuan.ledger.load import load

    dataset, issues = load(EXAMPLE)
    assert dataset is not None, issues
    path = tmp_path_factory.mktemp("example") / "泸州社保局2020年决算数据.xlsx"
    write_workbook(dataset, path)
    return path


class World:
    """Two departments, each with one unit; a user per role on the first unit."""

    def __init__(self):
        from juesuan.web.accounts.models import (
            APPROVER,
            BUREAU,
            CLERK,
            DEPARTMENT,
            FINANCE,
            REVIEWER,
            UNIT,
            Grant,
            Unit,
            User,
        )

        self.department = Unit.objects.create(name=DEPARTMENT_NAME, kind=DEPARTMENT)
        self.unit = Unit.objects.create(name=UNIT_NAME, kind=UNIT, parent=self.department)
        self.other_department = Unit.objects.create(name="另一个部门", kind=DEPARTMENT)
        self.other = Unit.objects.create(name="另一个单位", kind=UNIT, parent=self.other_department)
        self.users = {}
        for role in (FINANCE, CLERK, REVIEWER, APPROVER):
            user = User.objects.create_user(role, password=PASSWORD, display_name=f"{role}用户")
            Grant.objects.create(user=user, unit=self.unit, role=role)
            self.users[role] = user
        bureau = User.objects.create_user("bureau", password=PASSWORD, display_name="财政局用户")
        Grant.objects.create(user=bureau, unit=self.department, role=BUREAU)
        self.users[BUREAU] = bureau
        self.users["admin"] = User.objects.create_superuser("admin", password=PASSWORD)
        self.users["nobody"] = User.objects.create_user("nobody", password=PASSWORD)
        other_finance = User.objects.create_user("other_finance", password=PASSWORD)
        Grant.objects.create(user=other_finance, unit=self.other, role=FINANCE)
        self.users["other_finance"] = other_finance


@pytest.fixture
def world(db) -> World:
    return World()


def store(unit, workbook: Path, user=None, *, check_name: bool = True):
    """Store `workbook` as the unit's next version, as an upload would."""
    from juesuan.web.workplace.models import UPLOAD
    from juesuan.web.workplace.versions import accept_workbook, workspace

    folder = workspace()
    copy = folder / workbook.name
    shutil.copy(workbook, copy)
    outcome = accept_workbook(unit, copy, kind=UPLOAD, user=user)
    assert outcome.accepted, outcome.issues
    return outcome.version


def store_as(unit, workbook: Path, user=None):
    """A version for a unit whose name differs from the workbook's (for the other unit)."""
    from django.conf import settings

    from juesuan.publish.package import sha256
    from juesuan.web.workplace.models import UPLOAD, DatasetVersion

    relative = Path("datasets") / str(unit.pk) / "2020" / "1" / workbook.name
    target = settings.MEDIA_ROOT / relative
    target.parent.mkdir(parents=True)
    shutil.copy(workbook, target)
    return DatasetVersion.objects.create(
        unit=unit,
        year=2020,
        number=1,
        kind=UPLOAD,
        file=str(relative),
        original_name=workbook.name,
        sha256=sha256(target),
        size=target.stat().st_size,
        summary={"fatal": 0, "warning": 0, "missing_reasons": [], "lines": 0},
        created_by=user,
    )


def fake_build(version, user=None):
    """A build row with two small files, for permission tests that need no real package."""
    import zipfile

    from django.conf import settings

    from juesuan.publish.package import sha256
    from juesuan.web.workplace.models import Build

    relative = Path("builds") / str(version.unit_id) / str(version.year) / "1"
    folder = settings.MEDIA_ROOT / relative
    folder.mkdir(parents=True)
    (folder / "checks.json").write_text("{}", encoding="utf-8")
    with zipfile.ZipFile(folder / "包.zip", "w") as bundle:
        bundle.write(folder / "checks.json", "checks.json")
    return Build.objects.create(
        unit=version.unit,
        year=version.year,
        number=1,
        version=version,
        format="sichuan-2020",
        draft=False,
        directory=str(relative),
        manifest={
            "outputs": [
                {"path": "checks.json", "role": "checks", "sha256": sha256(folder / "checks.json")}
            ],
            "inputs": [],
        },
        zip_name="包.zip",
        zip_sha256=sha256(folder / "包.zip"),
        checks={"failed_by_tier": {"FATAL": 0, "WARNING": 0, "SUGGEST": 0}, "total": 1},
        created_by=user,
    )


# ---- Celery: where the web side sends its tasks ---------------------------------------------------


@contextlib.contextmanager
def sending_to(broker: str, queue: str):
    """The web side's Celery app sending to `broker` and `queue` for the time of the block."""
    from juesuan.web.worker import app

    saved = {k: app.conf[k] for k in ("broker_url", "task_default_queue")}
    app.conf.update(broker_url=broker, task_default_queue=queue)
    forget_broker_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_broker_connections(app)


def forget_broker_connections(app) -> None:
    """Drop what the app built from its earlier settings — broker connections, producers, the
    queue and routing tables — so the next task goes where its settings say now (another test
    may have sent through another broker or queue before)."""
    from kombu import pools

    pools.reset()  # every producer and connection pool, and kombu's registry of them
    app._pool = None  # the app's own reference to its connection pool
    app.__dict__.pop("amqp", None)  # a cached property: queues, router, producer pool
