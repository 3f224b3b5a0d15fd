"""The `juesuan` command: a thin shell over the core functions.

Each command imports what it uses when it runs: `build` forks the process that draws the
figures first thing, before the data's libraries are imported, so that the child's own imports
(matplotlib) run beside the parent's instead of after them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from juesuan import __version__
from juesuan.charts.forked import Child
from juesuan.files import replaced

if TYPE_CHECKING:
    from juesuan.ledger.issues import Issue
    from juesuan.rules.engine import Outcome

EXIT_OK, EXIT_FATAL, EXIT_UNREADABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="juesuan", description="部门决算：数据、审核与公开")
    parser.add_argument("--version", action="version", version=f"juesuan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")

    check = commands.add_parser("check", help="导入数据集并运行审核规则")
    check.add_argument("dataset", help="数据集文件夹或 .xlsx 工作簿")
    check.add_argument("--json", action="store_true", help="以 JSON 输出全部结果")
    check.add_argument(
        "--format", help="公开格式，如 sichuan-2020、national-9（默认取单位信息中的公开格式）"
    )
    check.set_defaults(run=_check)

    build = commands.add_parser("build", help="审核并生成公开附表、审核结果与清单")
    build.add_argument("dataset", help="数据集文件夹或 .xlsx 工作簿")
    build.add_argument("-o", "--output", required=True, help="输出文件夹")
    build.add_argument(
        "--format", help="公开格式，如 sichuan-2020、national-9（默认取单位信息中的公开格式）"
    )
    build.add_argument("--draft", action="store_true", help="有致命问题也生成，并标注“草稿”")
    build.set_defaults(run=_build)

    merge = commands.add_parser(
        "consolidate", help="把各单位数据集汇总为部门数据集（抵消内部往来）"
    )
    merge.add_argument("datasets", nargs="+", help="各单位数据集（第一个为部门本级）")
    merge.add_argument("-o", "--output", required=True, help="输出的部门数据集文件夹")
    merge.add_argument(
        "--name", help="汇总后的单位名称（默认：第一个单位的主管部门或名称加“（汇总）”）"
    )
    merge.add_argument("--code", help="汇总后的单位编码")
    merge.add_argument("--json", action="store_true", help="以 JSON 输出汇总报告")
    merge.add_argument("--overwrite", action="store_true", help="输出已存在时覆盖")
    merge.set_defaults(run=_consolidate)

    serve = commands.add_parser("serve", help="启动网页应用（部门决算工作台）")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.add_argument(
        "--demo", action="store_true", help="演示模式：只在本机运行，载入示例数据并显示演示账号"
    )
    serve.add_argument("--workers", type=int, help="服务进程数（默认每核一个，至少 2；1 为单进程）")
    serve.set_defaults(run=_serve)

    admin = commands.add_parser("createadmin", help="新建网页应用的管理员账号")
    admin.add_argument("username", help="用户名")
    admin.add_argument("--password", help="密码（不给则交互输入；非交互时自动生成并显示）")
    admin.set_defaults(run=_createadmin)

    verify = commands.add_parser("verify-audit-log", help="核验网页应用操作记录的哈希链是否完整")
    verify.set_defaults(run=lambda args: _web_command("verify_audit_log"))

    template = commands.add_parser("template", help="生成空白数据模板（.xlsx）")
    template.add_argument("output", help="输出文件，如 数据模板.xlsx")
    template.set_defaults(run=_template)

    export = commands.add_parser("export", help="把数据集另存为工作簿（.xlsx）或文件夹")
    export.add_argument("dataset", help="数据集文件夹或 .xlsx 工作簿")
    export.add_argument("output", help="以 .xlsx 结尾则写工作簿，否则写文件夹")
    export.add_argument("--overwrite", action="store_true", help="输出已存在时覆盖")
    export.set_defaults(run=_export)

    audit = commands.add_parser("audit", help="审核已公开的决算（预算）文本：PDF、Word 或文本")
    audit.add_argument(
        "files", nargs="+", metavar="FILE", help="PDF、.docx、.html、.txt 或 .md 文件"
    )
    audit.add_argument("--json", action="store_true", help="以 JSON 输出发现的问题")
    audit.add_argument("--html", metavar="OUT", help="另写一份可直接打开的网页报告")
    audit.add_argument("--workers", type=int, help="并行进程数（默认：全部处理器核心）")
    audit.set_defaults(run=_audit)

    batch = commands.add_parser(
        "audit-batch", help="成批审核已公开文本：每份一个 JSON 结果，可续跑，最后写汇总工作簿"
    )
    batch.add_argument(
        "source", metavar="FOLDER_OR_LIST", help="存放公开文本的文件夹，或每行一个文件路径的清单"
    )
    batch.add_argument(
        "-o", "--output", required=True, help="结果文件夹（每份一个 JSON 和汇总工作簿）"
    )
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="本机并行进程数（默认：全部处理器核心）")
    where.add_argument(
        "--celery",
        metavar="BROKER_URL",
        help="交给 Celery 工作进程（可在多台机器上），如 redis://… 或 amqp://…",
    )
    batch.add_argument("--queue", help="Celery 队列名（默认 juesuan-audit-batch）")
    batch.add_argument(
        "--timeout", type=float, default=300, help="每份文件最长审核秒数（默认 300）"
    )
    batch.set_defaults(run=_audit_batch)

    extract = commands.add_parser("extract", help="把已公开 PDF 中的表格取出，写成工作簿（.xlsx）")
    extract.add_argument("document", metavar="DOC", help="已公开的决算（预算）PDF")
    extract.add_argument("-o", "--output", help="输出工作簿，如 表格.xlsx")
    extract.add_argument(
        "--prior-year",
        metavar="DATASET",
        help="把这份决算的数字作为上年数写入数据集文件夹的 prior_year.csv（下一年度的数据集）",
    )
    extract.add_argument(
        "--force", action="store_true", help="上年数表中已有不同的数时，以公开数为准改写"
    )
    extract.set_defaults(run=_extract)

    year = commands.add_parser(
        "disburse-year",
        help="按花名册和人员变动跑完一年的代发（计算、审批、银行文件、回盘、重发），输出统计和资金申请表",
    )
    year.add_argument(
        "folder", help="代发资料文件夹：schemes.yaml、roster.csv、events.csv、bank_outcomes.yaml"
    )
    year.add_argument(
        "-o", "--output", required=True, help="输出文件夹（银行文件、回盘、资金申请表）"
    )
    year.add_argument(
        "--update-dataset",
        metavar="DATASET",
        help="再用这一年的发放结果改写该数据集的 spending.csv 与 performance_data.csv",
    )
    year.add_argument("--overwrite", action="store_true", help="输出文件夹已有内容时也写入")
    year.set_defaults(run=_disburse_year)

    _add_codes_command(commands)

    args = parser.parse_args(argv)
    return _run(args)


# ---- check -----------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from juesuan.ledger.load import load

    dataset, issues = load(args.dataset)
    if dataset is None:
        return _unreadable(args.dataset, issues, args.json)
    prepared = _prepare(dataset, args.format, args.json)
    if prepared is None:
        return EXIT_UNREADABLE
    outcomes = prepared.outcomes
    if args.json:
        _print_json(
            {
                "dataset": {
                    "path": dataset.origin,
                    "unit": dataset.unit.name,
                    "year": dataset.unit.year,
                    "format": prepared.statements.format,
                    "lines": len(dataset.ledger),
                },
                "import_issues": [i.as_dict() for i in issues],
                "summary": prepared.summary,
                "publishable": not prepared.fatal,
                "outcomes": [o.as_dict() for o in outcomes],
            }
        )
    else:
        _print_report(dataset, issues, outcomes)
    return EXIT_FATAL if prepared.fatal else EXIT_OK


def _prepare(dataset, format_name: str | None, as_json: bool = False):
    """Statements, every rule and the narrative's checks; None (after saying why) on a bad format."""
    from juesuan.publish.package import prepare
    from juesuan.rules.engine import RuleFileError
    from juesuan.statements.build import FormatError

    try:
        return prepare(dataset, format_name)
    except (RuleFileError, FormatError) as exc:
        message = f"公开格式或规则文件有误：{exc}"
        if as_json:
            _print_json({"dataset": dataset.origin, "error": message})
        else:
            print(message, file=sys.stderr)
        return None


def _unreadable(path: str, issues: list[Issue], as_json: bool = False) -> int:
    from juesuan.ledger.issues import ERROR

    if as_json:
        _print_json({"dataset": path, "import_issues": [i.as_dict() for i in issues]})
    else:
        print(f"数据集 {path} 无法导入：")
        _print_issues(issues)
        errors = sum(1 for i in issues if i.severity == ERROR)
        print(f"\n共 {errors} 处错误，须全部改正后才能审核；未保存任何数据。")
    return EXIT_UNREADABLE


def _build(args: argparse.Namespace) -> int:
    from juesuan.charts import ready_to_draw

    if _refuse_overlap(Path(args.output), [args.dataset]):
        return EXIT_UNREADABLE
    # A child process imports matplotlib while this one reads and checks the data, then draws
    # the figures while this one writes the workbook: the two cores share the wait.
    drawer = Child(ready=ready_to_draw)
    try:
        return _build_with(args, drawer)
    finally:
        drawer.close()


def _build_with(args: argparse.Namespace, drawer: Child) -> int:
    from juesuan.fonts import FontMissing
    from juesuan.ledger.load import load
    from juesuan.publish.package import OutputRefused, sha256, write_package

    dataset, issues = load(args.dataset)
    if dataset is None:
        return _unreadable(args.dataset, issues)
    prepared = _prepare(dataset, args.format)
    if prepared is None:
        return EXIT_UNREADABLE
    fatal = prepared.fatal
    if fatal and not args.draft:
        _print_report(dataset, issues, prepared.outcomes)
        print(
            f"未生成：有 {len(fatal)} 项致命问题。改正后重新生成，或加 --draft 生成标注“草稿”的版本。"
        )
        return EXIT_FATAL
    out = Path(args.output)
    where = out.absolute()  # still right when `out` is the working folder, swapped out
    try:
        manifest = write_package(prepared, out, draft=bool(fatal), drawer=drawer)
    except (FontMissing, OutputRefused) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        return _not_written(out, exc)
    failed = prepared.summary["failed_by_tier"]
    print(
        f"{dataset.unit.name} {dataset.unit.year} 年度决算（{prepared.statements.format}）已生成到 {out}/："
    )
    for output in manifest.outputs:
        if output.role != "figures":
            print(f"  {output.path}（{ROLE_NAMES.get(output.role, output.role)}）")
    figures = sum(1 for o in manifest.outputs if o.role == "figures")
    print(f"  {FIGURES_DIR}/（图表 {figures // 2} 幅，PNG 与 SVG）")
    print("  manifest.json（清单：输入与输出文件及其 SHA-256）")
    zip_hash = sha256(where / manifest.zip)
    print(f"  {manifest.zip}（以上全部，SHA-256 {zip_hash}）")
    tail = "；这是草稿，不得公开。" if fatal else "。"
    print(f"审核：致命 {failed['FATAL']}，警告 {failed['WARNING']}，建议 {failed['SUGGEST']}{tail}")
    return EXIT_FATAL if fatal else EXIT_OK


ROLE_NAMES = {
    "tables": "公开附表",
    "document-docx": "公开文本，Word",
    "document-pdf": "公开文本，PDF",
    "html": "网页版，单个文件",
    "checks": "审核结果",
}
FIGURES_DIR = "figures"


def _print_report(dataset, issues: list[Issue], outcomes: list[Outcome]) -> None:
    from juesuan.publish.package import summarize
    from juesuan.rules.engine import FAIL, INSUFFICIENT, NOT_APPLICABLE, PASS, TIERS

    unit = dataset.unit
    print(
        f"{unit.name} {unit.year} 年度决算 · 公开格式 {unit.format} · {len(dataset.ledger)} 条收支明细"
    )
    if issues:
        print(f"\n导入提示（{len(issues)} 条，不影响审核）：")
        _print_issues(issues)
    summary = summarize(outcomes)
    failed = summary["failed_by_tier"]
    print(
        f"\n审核 {summary['total']} 项：通过 {summary[PASS]}，未通过 {summary[FAIL]}"
        f"（致命 {failed['FATAL']}，警告 {failed['WARNING']}，建议 {failed['SUGGEST']}），"
        f"不适用 {summary[NOT_APPLICABLE]}，数据不足 {summary[INSUFFICIENT]}"
    )
    for tier in TIERS:
        failures = [o for o in outcomes if o.tier == tier and o.status == FAIL]
        if failures:
            heading = {"FATAL": "致命（不能发布）", "WARNING": "警告", "SUGGEST": "建议"}[tier]
            print(f"\n{heading}：")
            for outcome in failures:
                _print_outcome(outcome, "✗")
    insufficient = [o for o in outcomes if o.status == INSUFFICIENT]
    if insufficient:
        print("\n数据不足，未能判断（不算通过）：")
        for outcome in insufficient:
            _print_outcome(outcome, "?")
    fatal = failed["FATAL"]
    print()
    if fatal:
        print(f"结论：有 {fatal} 项致命问题，改正前不能发布。")
    else:
        print("结论：没有致命问题，可以发布。")


def _print_outcome(outcome: Outcome, mark: str) -> None:
    from juesuan.rules.engine import FAIL, PASS, TIER_NAMES

    print(f"  {mark} [{TIER_NAMES[outcome.tier]}] {outcome.title}（{outcome.rule}）")
    print(f"      {outcome.message}")
    if outcome.refs and outcome.status == FAIL:
        print(f"      涉及：{'；'.join(outcome.refs)}")
    if outcome.hint and outcome.status != PASS:
        print(f"      处理：{outcome.hint}")


def _print_issues(issues: list[Issue]) -> None:
    """Every issue, with identical ones (same message, file, column, value) on one line."""
    groups: dict[tuple, list[int | None]] = defaultdict(list)
    for issue in issues:
        s = issue.source
        key = (
            issue.severity,
            s.file,
            s.sheet,
            s.column,
            issue.message,
            issue.value,
            issue.accepted,
        )
        groups[key].append(s.row)
    for (severity, file, sheet, column, message, value, accepted), rows in groups.items():
        where = file + (f" 工作表“{sheet}”" if sheet else "")
        numbered = [r for r in rows if r is not None]
        if numbered:
            where += " 第" + "、".join(map(str, numbered)) + "行"
        if column:
            where += f" “{column}”列"
        text = f"  [{severity}] {where}："
        if value is not None:
            text += f"值“{value}”，"
        text += message
        if accepted:
            text += f"（可接受：{accepted}）"
        print(text)


def _not_written(output: Path, exc: OSError | ValueError) -> int:
    """A write refused or failed (disk full, no permission …): the output was left as it was."""
    reason = f"{exc.strerror}（{exc.filename}）" if getattr(exc, "strerror", None) else str(exc)
    print(f"未能写出 {output}：{reason}；原有内容未改动。", file=sys.stderr)
    return EXIT_UNREADABLE


def _overlapping(output: Path, inputs: list[str]) -> str | None:
    """The input that `output` is, lies inside or contains: writing there would replace it."""
    target = output.resolve()
    for name in inputs:
        source = Path(name).resolve()
        if target == source or source in target.parents or target in source.parents:
            return name
    return None


def _refuse_overlap(output: Path, inputs: list[str], as_json: bool = False) -> bool:
    found = _overlapping(output, inputs)
    if found is not None:
        message = (
            f"输出位置 {output} 与输入 {found} 是同一位置或互相包含，写出会覆盖输入；"
            "请指定另外的输出位置。"
        )
        if as_json:
            _print_json({"output": None, "problems": [message]})
        print(message, file=sys.stderr)
    return found is not None


def _print_json(data: dict) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    print()


def _consolidate(args: argparse.Namespace) -> int:
    from juesuan.consolidate import consolidate
    from juesuan.ledger.export import write_folder
    from juesuan.ledger.load import load

    output = Path(args.output)
    if _refuse_overlap(output, args.datasets, args.json):
        return EXIT_UNREADABLE
    datasets = []
    for path in args.datasets:
        dataset, issues = load(path)
        if dataset is None:
            return _unreadable(path, issues, args.json)
        datasets.append(dataset)
    if output.exists() and not args.overwrite and (output.is_file() or any(output.iterdir())):
        print(f"{output} 已存在；如要覆盖请加 --overwrite", file=sys.stderr)
        return EXIT_UNREADABLE
    merged, report = consolidate(datasets, name=args.name, code=args.code)
    if args.json:
        _print_json({"output": str(output) if merged else None, **report.as_dict()})
    else:
        print(report)
    if merged is None:
        return EXIT_UNREADABLE
    try:
        write_folder(merged, output, overwrite=args.overwrite)
    except (OSError, ValueError) as exc:  # ValueError: a text title no file may be named
        return _not_written(output, exc)
    if not args.json:
        print(f"已写出部门汇总数据集：{output}（可用 juesuan check / build 处理）")
    return EXIT_OK


# ---- web app ---------------------------------------------------------------------------------


def _web_command(name: str, *args):
    from juesuan.web import commands

    return getattr(commands, name)(*args)


def _serve(args: argparse.Namespace) -> int:
    return _web_command("serve", args.host, args.port, args.demo, args.workers) or EXIT_OK


def _createadmin(args: argparse.Namespace) -> int:
    import getpass

    password = args.password
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("密码：")
        if password != getpass.getpass("再输一次："):
            print("两次输入的密码不一致", file=sys.stderr)
            return EXIT_UNREADABLE
    return _web_command("createadmin", args.username, password)


# ---- template and export ---------------------------------------------------------------------


def _template(args: argparse.Namespace) -> int:
    from juesuan.ledger.export import write_workbook

    output = Path(args.output)
    if output.suffix.lower() != ".xlsx":
        print(f"输出文件应以 .xlsx 结尾：{output}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        write_workbook(None, output)
    except OSError as exc:
        return _not_written(output, exc)
    print(f"已生成空白数据模板：{output}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from juesuan.ledger.export import write_folder, write_workbook
    from juesuan.ledger.load import load

    output = Path(args.output)
    if _refuse_overlap(output, [args.dataset]):
        return EXIT_UNREADABLE
    dataset, issues = load(args.dataset)
    if dataset is None:
        return _unreadable(args.dataset, issues)
    if output.exists() and not args.overwrite and (output.is_file() or any(output.iterdir())):
        print(f"{output} 已存在；如要覆盖请加 --overwrite", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        if output.suffix.lower() == ".xlsx":
            write_workbook(dataset, output)
            print(f"已写出工作簿：{output}")
        else:
            write_folder(dataset, output, overwrite=args.overwrite)
            print(f"已写出数据集文件夹：{output}")
    except (OSError, ValueError) as exc:  # ValueError: a text title no file may be named
        return _not_written(output, exc)
    return EXIT_OK


# ---- audit ---------------------------------------------------------------------------------------


def _audit(args: argparse.Namespace) -> int:
    from juesuan.audit import CERTAIN, EXIT_UNREADABLE, audit_many, to_html
    from juesuan.audit.read import kind_of

    problems = []
    for name in args.files:
        path = Path(name)
        if not path.exists():
            problems.append(f"找不到文件：{name}")
        elif path.is_dir():
            problems.append(f"{name} 是文件夹，请给出 PDF、.docx、.html、.txt 或 .md 文件")
        elif kind_of(path) is None:
            problems.append(
                f"{name} 不是 PDF、Word（.docx）、网页（.html）或文本（.txt/.md）文件，无法审核"
            )
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_UNREADABLE
    if args.html and _refuse_overlap(Path(args.html), args.files):
        return EXIT_UNREADABLE
    reports, summary = audit_many(args.files, args.workers)
    if args.html:
        with replaced(args.html) as temporary:
            temporary.write_text(to_html(reports), encoding="utf-8")
    if args.json:
        if len(reports) == 1:
            _print_json(reports[0].as_dict())
        else:
            _print_json({"reports": [r.as_dict() for r in reports], "summary": summary})
    else:
        for report in reports:
            _print_audit(report)
        if len(reports) > 1:
            found = summary["findings"]
            print(
                f"共 {summary['files']} 个文件：确定 {found[CERTAIN]} 处，疑似 {found['疑似']} 处，"
                f"无法读取 {len(summary['unreadable'])} 个。"
            )
        if args.html:
            print(f"网页报告：{args.html}")
    for report in reports:
        if not report.readable:
            reason = report.document.get("error") or "没有可读的文字层"
            print(f"{report.document.get('path')}：{reason}", file=sys.stderr)
    return max(r.exit_code for r in reports)


def _audit_batch(args: argparse.Namespace) -> int:
    from juesuan.audit import CERTAIN, SUSPECTED
    from juesuan.audit.batch import (
        AUDITED,
        FAILED,
        UNREADABLE,
        BatchError,
        Progress,
        run_batch,
        totals,
    )

    if args.workers is not None and args.workers < 1:
        print("--workers 应为不小于 1 的整数", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        rows, workbook = run_batch(
            args.source,
            args.output,
            workers=args.workers,
            celery=args.celery,
            queue=args.queue,
            timeout=args.timeout,
            progress=Progress(),
            report=lambda text: print(text, file=sys.stderr, flush=True),
        )
    except BatchError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNREADABLE
    found = totals(rows)
    print(
        f"共 {found['documents']} 份：已审核 {found[AUDITED]}，无法读取 {found[UNREADABLE]}，"
        f"审核失败 {found[FAILED]}（本次跳过已有结果 {found['skipped']} 份）；"
        f"确定 {found[CERTAIN]} 处，疑似 {found[SUSPECTED]} 处。"
    )
    print(f"每份结果在 {args.output}/，汇总工作簿：{workbook}")
    if found[UNREADABLE] or found[FAILED]:
        return EXIT_UNREADABLE
    return 1 if found[CERTAIN] else EXIT_OK


def _extract(args: argparse.Namespace) -> int:
    from juesuan.audit.extract import ExtractError, extract

    if not args.output and not args.prior_year:
        print("请用 -o 指定输出工作簿，或用 --prior-year 指定要写入上年数的数据集", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.prior_year:
        status = _extract_prior_year(args)
        if status != EXIT_OK or not args.output:
            return status
    try:
        tables = extract(args.document, args.output)
    except ExtractError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        return _not_written(Path(args.output), exc)
    print(f"{args.document}：取出 {len(tables)} 张表格，写入 {args.output}")
    for table in tables:
        pages = "、".join(str(p) for p in table.pages)
        print(
            f"  第{pages}页 {table.title or '（无标题）'}：{len(table.rows)} 行，单位 {table.unit or '未注明'}"
        )
    return EXIT_OK


def _extract_prior_year(args: argparse.Namespace) -> int:
    from juesuan.audit.extract import PRIOR_YEAR_FILE, ExtractError, write_prior_year

    try:
        written = write_prior_year(args.document, args.prior_year, force=args.force)
    except ExtractError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        return _not_written(Path(args.prior_year) / PRIOR_YEAR_FILE, exc)
    target = Path(args.prior_year) / PRIOR_YEAR_FILE
    if not written:
        print(f"{target}：上年数与 {args.document} 一致，没有改动")
    else:
        print(f"{target}：写入 {len(written)} 个上年数（元）")
        for figure in written:
            print(f"  {figure.key}：{figure.amount:,.2f}（{figure.source}）")
    return EXIT_OK


def _print_audit(report) -> None:
    document = report.document
    pages = f"，{document['pages']} 页" if document.get("pages") else ""
    print(f"{document.get('path')}（{document.get('kind')}{pages}）")
    if not report.readable:
        print("  无法读取，未审核。")
        return
    tables = [t for t in document.get("tables", []) if t.get("id")]
    certain = len(report.certain)
    print(
        f"  段落 {document.get('paragraphs', 0)}，识别附表 {len(tables)} 张，核对 {document.get('checks_run', 0)} 处；"
        f"发现问题 {len(report.findings)} 处（确定 {certain}，疑似 {len(report.findings) - certain}），"
        f"未能核对 {len(report.unresolved)} 项。"
    )
    for number, finding in enumerate(report.findings, 1):
        print(f"  {number}. [{finding.severity}] {finding.title}（{finding.rule}）")
        print(f"      {finding.message}")
        for item in finding.evidence[:6]:
            print(f"      · {item.place}：{item.snippet}")
    if report.unresolved:
        print("  未能核对（不算通过）：")
        for item in report.unresolved:
            where = f"（{item.where}）" if item.where else ""
            print(f"    - {item.check}：{item.reason}{where}")
    print()


class _YearNotRun(Exception):
    """The year could not be run: the output folder is left as it was."""


def _disburse_year(args: argparse.Namespace) -> int:
    from juesuan.disbursement.statistics import write_fund_request
    from juesuan.disbursement.year import run_year, write_example
    from juesuan.files import replaced_folder
    from juesuan.money import wan

    folder, output = Path(args.folder), Path(args.output)
    if not folder.is_dir():
        print(f"找不到代发资料文件夹：{folder}", file=sys.stderr)
        return EXIT_UNREADABLE
    if output.exists() and any(output.iterdir()) and not args.overwrite:
        print(f"{output} 已有内容；如要写入请加 --overwrite", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.update_dataset:
        dataset = Path(args.update_dataset)
        missing = [
            n for n in ("spending.csv", "performance_data.csv") if not (dataset / n).is_file()
        ]
        if missing:
            print(f"{dataset} 不是可改写的数据集文件夹：缺少 {'、'.join(missing)}", file=sys.stderr)
            return EXIT_UNREADABLE
    inputs = [args.folder] + ([args.update_dataset] if args.update_dataset else [])
    if _refuse_overlap(output, inputs):
        return EXIT_UNREADABLE
    try:
        # the bank files, results and fund requests appear together or not at all
        with replaced_folder(output) as staging:
            result = run_year(folder, staging / "银行文件")
            if not result.ok:
                raise _YearNotRun
            for month, lines in sorted(result.fund_requests.items()):
                write_fund_request(lines, month, staging / f"资金申请表_{month.compact}.xlsx")
    except _YearNotRun:
        print("代发年度未能完成：", file=sys.stderr)
        for problem in result.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FATAL
    # the scheme's name last: Chinese characters are two columns wide on a terminal
    print("  发放人数  发放人次  发放金额（万元）  退回人次      退回率  补贴类别")
    for figures in result.year:
        rate = figures.return_rate
        shown = "—" if rate is None else f"{rate.quantize(Decimal('0.0001'))}%"
        print(
            f"{figures.persons:>10}{figures.payments:>10}{wan(figures.amount_yuan):>18}"
            f"{figures.returned:>10}{shown:>12}  {result.schemes[figures.scheme].name}"
        )
    balance = result.book.balance()
    print(f"资金守恒：{'成立' if balance.ok else '不成立'}")
    for problem in balance.problems:
        print(f"  {problem}")
    print(f"银行文件、回盘文件和每月资金申请表在 {output}/")
    if args.update_dataset:
        for path in write_example(args.update_dataset, result):
            print(f"已改写 {path}")
    return EXIT_OK if balance.ok else EXIT_FATAL


# ---- codes -----------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    """Run the command; an imported code table that cannot be read stops it with its message."""
    from juesuan.codes import CodeStoreError

    try:
        return args.run(args)
    except CodeStoreError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE


def _add_codes_command(commands) -> None:
    codes = commands.add_parser("codes", help="科目表：导入财政部当年科目表，查看各年度所用科目表")
    actions = codes.add_subparsers(dest="action", required=True, metavar="操作")
    kinds = ("function", "economic")
    load = actions.add_parser(
        "import", help="导入财政部公布的科目表（.xlsx 或 .csv），此后该年度按它查科目"
    )
    load.add_argument("file", metavar="FILE", help="科目表文件：含“科目编码”“科目名称”两列")
    load.add_argument("--year", type=int, required=True, help="科目表所属年度")
    load.add_argument(
        "--kind",
        choices=kinds,
        default="function",
        help="function 功能分类（默认）或 economic 经济分类",
    )
    load.set_defaults(run=_codes_import)
    show = actions.add_parser("show", help="某年度用的是哪张科目表、从哪里来，以及总表的类级科目")
    show.add_argument("--year", type=int, required=True, help="年度")
    show.set_defaults(run=_codes_show)


def _codes_import(args: argparse.Namespace) -> int:
    from juesuan.codes import import_table

    try:
        report = import_table(args.file, args.kind, args.year)
    except ValueError as exc:
        print(f"未导入，科目库没有改动：{exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(
            f"未导入，科目库没有改动：无法写入（{exc.strerror}）：{exc.filename}", file=sys.stderr
        )
        return EXIT_UNREADABLE
    print("\n".join(report.lines()))
    return EXIT_OK


def _codes_show(args: argparse.Namespace) -> int:
    from juesuan.codes import describe, summary_classes
    from juesuan.codes.table import CONFIDENCE_LABELS

    try:
        lines = [describe(kind, args.year) for kind in ("function", "economic")]
        classes = summary_classes(args.year)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    print("\n".join(lines))
    print(f"{args.year}年收入支出决算总表的类级科目（{len(classes)} 个）：")
    for code in classes:
        mark = "" if code.confidence == "high" else f"（{CONFIDENCE_LABELS[code.confidence]}）"
        print(f"  {code.label}{mark}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
