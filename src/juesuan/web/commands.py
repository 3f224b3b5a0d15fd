"""Functions behind `juesuan serve`, `juesuan createadmin` and the audit-log check.

The CLI calls these; each configures Django itself, so nothing else needs to.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

DEMO_USER = "demo"
# One demo user per role on the demo unit, 财务 first (its name is the one printed first).
DEMO_USERS = {
    "finance": DEMO_USER,
    "clerk": "demo-jingban",
    "reviewer": "demo-fuhe",
    "approver": "demo-shenpi",
    "bureau": "demo-czj",
}
DEMO_DEPARTMENT = "泸州市人力资源和社会保障局"
EXAMPLE = "luzhou-2020"


class AdminError(Exception):
    """The administrator could not be made; the message says why, in Chinese."""


def setup(*, migrate: bool = True, verbosity: int = 0) -> None:
    """Configure Django with juesuan's settings and bring the database schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juesuan.web.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=verbosity)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerPlan:
    """How `juesuan serve` runs the app: which server, how many processes and threads each."""

    server: str  # "gunicorn" | "waitress"
    workers: int
    threads: int
    note: str = ""  # why fewer processes than asked, in Chinese

    def describe(self) -> str:
        if self.server == "gunicorn":
            return f"gunicorn {self.workers} 个进程 × {self.threads} 个线程"
        return f"waitress 单进程 {self.threads} 个线程"


def default_workers() -> int:
    """One server process per core this process may use, at least two (a request waiting on
    the database leaves its core to the other) and at most eight."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, min(cores, 8))


def gunicorn_available() -> bool:
    """gunicorn forks worker processes: Linux and macOS, not Windows."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def server_plan(workers: int | None = None, threads: int | None = None) -> ServerPlan:
    """Several gunicorn processes (the default), or one waitress process when one is asked for
    or gunicorn cannot run here. `workers`/`threads` default to JUESUAN_WEB_WORKERS and
    JUESUAN_WEB_THREADS, then to the core count and 1."""
    from django.conf import settings

    wanted = workers or settings.WEB_WORKERS or default_workers()
    threads = max(1, threads or settings.WEB_THREADS)
    if wanted > 1 and gunicorn_available():
        return ServerPlan("gunicorn", wanted, threads)
    note = "" if wanted <= 1 else "多进程需要 gunicorn（Linux、macOS 可用），现以单进程运行"
    # One waitress process serves every request with its own threads: twice as many as a
    # gunicorn process gets, as it has the machine to itself.
    return ServerPlan("waitress", 1, max(8, threads * 2), note)


def serve(
    host: str = "127.0.0.1", port: int = 8000, demo: bool = False, workers: int | None = None
) -> int:
    """Run the web app until interrupted: several gunicorn processes (one per core by default;
    `workers` or JUESUAN_WEB_WORKERS sets the number), or waitress in one process where gunicorn
    cannot run (Windows) or one is asked for. `demo` binds loopback only, uses a data directory
    of its own (unless JUESUAN_DATA_DIR or a database URL is set), loads the bundled example as
    a demo unit (with the example's 代发 roster) and prints one user per role with fresh random
    passwords."""
    if demo:
        if not _is_loopback(host):
            print(f"演示模式只在本机地址上运行（忽略 --host {host}）。", file=sys.stderr)
        host = "127.0.0.1"
        if not any(
            os.environ.get(v) for v in ("JUESUAN_DATA_DIR", "JUESUAN_DATABASE_URL", "DATABASE_URL")
        ):
            from juesuan.web.settings_paths import demo_data_dir

            os.environ["JUESUAN_DATA_DIR"] = str(demo_data_dir())
    if not _is_loopback(host) and not os.environ.get("JUESUAN_ALLOWED_HOSTS"):
        os.environ["JUESUAN_ALLOWED_HOSTS"] = "*"
        print(
            "提示：未设置 JUESUAN_ALLOWED_HOSTS，接受任何主机名的访问；"
            "正式部署请设为本服务的域名或地址（逗号分隔）。",
            file=sys.stderr,
        )
    setup(migrate=True)
    from django.conf import settings

    from juesuan.web.workplace.jobs import interrupted_jobs

    if settings.JOBS_MODE == "thread":
        stopped = interrupted_jobs()
        if stopped:
            print(f"上次运行时中断的任务 {stopped} 个已标记为失败。")
    from juesuan.web.workplace.versions import sweep_workspaces

    sweep_workspaces()
    if demo:
        accounts = prepare_demo_apart()
        print("演示数据已就绪：泸州市社会保险事业管理局 2020 年度，代发花名册取自示例。")
        (_role, username, password), *others = accounts
        print(f"演示账号：{username}  密码：{password}（财务；每次启动重新生成）")
        print(
            "代发各岗位的演示账号（同样每次重新生成；可依次走 经办 → 复核 → 审批 → 银行文件 → 回盘 → 更正）："
        )
        for role, name, secret in others:
            print(f"  {role}  {name}  密码：{secret}")
    plan = server_plan(workers)
    if plan.note:
        print(f"提示：{plan.note}。", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"部门决算工作台：http://{shown}:{port}/  （{plan.describe()}；数据目录 {settings.DATA_DIR}；"
        "Ctrl+C 停止）",
        flush=True,
    )
    master = os.getpid()
    try:
        if plan.server == "gunicorn":
            _run_gunicorn(shown, port, plan)
        else:
            from waitress import serve as waitress_serve

            from juesuan.web.wsgi import application

            waitress_serve(application, host=host, port=port, threads=plan.threads, ident="juesuan")
    except KeyboardInterrupt:
        print("已停止。")
    except SystemExit:
        if os.getpid() != master:  # a gunicorn worker (forked inside this call) leaving
            raise
        print("已停止。")
    return 0


def _run_gunicorn(host: str, port: int, plan: ServerPlan) -> None:
    """gunicorn. With one thread per process (the default) its plain worker: a process takes a
    connection only when it is free, so each request goes to an idle process and none queues
    behind another while a core idles; the connection closes after the response. With several
    threads, threaded workers with keep-alive (a connection then stays with the process that
    took it). The app is loaded once here and the processes forked from it; no database
    connection may cross the fork, so they are closed first and again in each."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from juesuan.web.wsgi import application

    def post_fork(server, worker) -> None:
        connections.close_all()

    options = {
        "bind": f"{host}:{port}",
        "workers": plan.workers,
        "worker_class": "sync" if plan.threads == 1 else "gthread",
        "threads": plan.threads,
        "preload_app": True,
        "post_fork": post_fork,
        "proc_name": "juesuan",
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "limit_request_line": 8190,
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    connections.close_all()
    Server().run()


def prepare_demo_apart() -> list[tuple[str, str, str]]:
    """`prepare_demo` in a process of its own, started fresh (not forked), which ends before the
    server starts. Reading the example starts polars' thread pool; gunicorn forks its workers
    from this process, and a forked child inherits the pool's state but not its threads, so its
    first polars call would wait for them forever."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_prepare_demo_in_child)


def _prepare_demo_in_child() -> list[tuple[str, str, str]]:
    setup(migrate=False)
    return prepare_demo()


def prepare_demo() -> list[tuple[str, str, str]]:
    """The demo department, unit, one user per role on the unit (财务 first), the example as
    version 1 and its 代发 schemes, payer account and roster: [(role name, user, password)],
    every password fresh."""
    from juesuan.ledger.export import write_workbook
    from juesuan.ledger.load import load
    from juesuan.web.accounts.models import DEPARTMENT, ROLE_NAMES, UNIT, Grant, Unit, User
    from juesuan.web.audit.log import record
    from juesuan.web.workplace.models import DEMO, DatasetVersion
    from juesuan.web.workplace.versions import accept_workbook, workspace

    folder = example_folder()
    dataset, issues = load(folder)
    if dataset is None:
        raise RuntimeError("示例数据无法读取：" + "；".join(str(i) for i in issues))
    department, _ = Unit.objects.get_or_create(
        name=dataset.unit.department or DEMO_DEPARTMENT, defaults={"kind": DEPARTMENT}
    )
    unit, created = Unit.objects.get_or_create(
        name=dataset.unit.name,
        defaults={"kind": UNIT, "parent": department, "code": dataset.unit.code or ""},
    )
    accounts = []
    for role, username in DEMO_USERS.items():
        person, _ = User.objects.get_or_create(
            username=username, defaults={"display_name": f"演示{ROLE_NAMES[role]}"}
        )
        password = secrets.token_urlsafe(9)
        person.set_password(password)
        person.is_active = True
        person.save()
        Grant.objects.get_or_create(user=person, unit=unit, role=role)
        accounts.append((ROLE_NAMES[role], username, password))
    user = User.objects.get(username=DEMO_USER)
    if created:
        record(
            "unit_create", unit=unit, username="demo-setup", summary=f"演示：新建单位 {unit.name}"
        )
    if not DatasetVersion.objects.filter(unit=unit, year=dataset.unit.year).exists():
        work = workspace()
        path = work / "示例数据.xlsx"
        write_workbook(dataset, path)
        outcome = accept_workbook(
            unit, path, kind=DEMO, user=user, note="演示：examples/luzhou-2020 的示例数据"
        )
        if not outcome.accepted:
            raise RuntimeError(
                "示例数据未能导入：" + "；".join(i["message"] for i in outcome.errors)
            )
        record(
            "dataset_upload",
            user=user,
            unit=unit,
            year=dataset.unit.year,
            target="数据第 1 版",
            summary="演示：导入示例数据为第 1 版",
        )
    _prepare_demo_disbursement(unit, User.objects.get(username=DEMO_USERS["clerk"]))
    return accounts


DEMO_PAYER = {"account": "51050163010000000123", "bank": "中国建设银行泸州分行"}


def _prepare_demo_disbursement(unit, clerk) -> None:
    """The example's schemes, roster and life events, entered as its 经办 would, with a made-up
    payer account so the runs can be approved at once. Done once per unit."""
    from juesuan.web.disbursement import services
    from juesuan.web.disbursement.models import Scheme

    if Scheme.objects.filter(unit=unit).exists():
        return
    folder = example_folder() / "disbursement"
    steps = [services.import_schemes(unit, clerk, folder / "schemes.yaml")]
    for code in Scheme.objects.filter(unit=unit).values_list("code", flat=True):
        steps.append(services.set_payer(unit, clerk, code, name=unit.name, **DEMO_PAYER))
    steps.append(services.import_roster(unit, clerk, folder / "roster.csv"))
    steps.append(services.record_events(unit, clerk, folder / "events.csv"))
    for outcome in steps:
        if not outcome.ok:
            raise RuntimeError(f"示例代发数据未能导入：{outcome.message}")


def example_folder() -> Path:
    """examples/luzhou-2020 of the source tree (the package is used from a checkout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "examples" / EXAMPLE
        if (candidate / "unit.toml").is_file():
            return candidate
    raise RuntimeError(f"找不到示例数据 examples/{EXAMPLE}（演示模式需要在源码目录中运行）")


def make_admin(username: str, password: str | None = None) -> tuple[str, bool]:
    """Create the administrator; (password, generated). Raises AdminError with the reason."""
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError

    from juesuan.web.accounts.models import User
    from juesuan.web.audit.log import record

    username = (username or "").strip()
    if not username:
        raise AdminError("请给出用户名")
    if User.objects.filter(username=username).exists():
        raise AdminError(f"用户 {username} 已存在")
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    candidate = User(username=username)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise AdminError("密码不符合要求：" + "；".join(exc.messages)) from exc
    user = User.objects.create_superuser(username=username, password=password, email="")
    record("user_create", user=user, summary=f"新建管理员 {username}（命令行）")
    return password, generated


def createadmin(username: str, password: str | None = None) -> int:
    """`juesuan createadmin`: make an administrator. Without a password, one is generated and
    printed. Returns the exit code (0 made, 1 refused)."""
    setup(migrate=True)
    try:
        password, generated = make_admin(username, password)
    except AdminError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"已新建管理员 {username}。")
    if generated:
        print(f"初始密码：{password}（只显示这一次，请登录后立即修改）")
    return 0


def verify_audit_log() -> int:
    """Check the audit log's hash chain; print the result. 0 intact, 1 broken."""
    setup(migrate=False)
    from juesuan.web.audit.log import verify

    result = verify()
    print(str(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
