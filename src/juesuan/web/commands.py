"""Functions behind `juesuan serve`, `juesuan createadmin` and the audit-log check.

The CLI calls these; each configures Django itself, so nothing else needs to.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from pathlib import Path

DEMO_USER = "demo"
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


def serve(host: str = "127.0.0.1", port: int = 8000, demo: bool = False) -> int:
    """Run the web app with waitress until interrupted. `demo` binds loopback only, uses a data
    directory of its own (unless JUESUAN_DATA_DIR or a database URL is set), loads the bundled
    example as a demo unit and prints the demo user's name and a fresh random password."""
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
    if demo:
        username, password = prepare_demo()
        print("演示数据已就绪：泸州市社会保险事业管理局 2020 年度。")
        print(f"演示账号：{username}  密码：{password}（每次启动重新生成）")
    from waitress import serve as waitress_serve

    from juesuan.web.wsgi import application

    shown = f"[{host}]" if ":" in host else host
    print(f"部门决算工作台：http://{shown}:{port}/  （数据目录 {settings.DATA_DIR}；Ctrl+C 停止）")
    try:
        waitress_serve(application, host=host, port=port, threads=8, ident="juesuan")
    except KeyboardInterrupt:
        print("已停止。")
    return 0


def prepare_demo() -> tuple[str, str]:
    """The demo department, unit, user (财务 on the unit) and the example as version 1."""
    from juesuan.ledger.export import write_workbook
    from juesuan.ledger.load import load
    from juesuan.web.accounts.models import DEPARTMENT, FINANCE, UNIT, Grant, Unit, User
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
    user, _ = User.objects.get_or_create(username=DEMO_USER, defaults={"display_name": "演示财务"})
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.is_active = True
    user.save()
    Grant.objects.get_or_create(user=user, unit=unit, role=FINANCE)
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
    return user.username, password


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
