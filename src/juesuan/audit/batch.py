"""Audit of many published documents in one run (a province's publications of a year): one JSON
result per document in an output folder, resumable, and a summary workbook at the end.

The work is spread over processes of this machine (`run_local`) or over Celery workers on any
number of machines (`run_celery`, tasks in `batch_worker.py`); either way each document's
result is written by whoever audited it, straight into the output folder, so a run cut off at
any point keeps every result finished before it:

- a result is written to `.partial/` beside it and renamed into place, so a result file is
  whole or absent, never half-written;
- a document whose result exists with the SHA-256 of the document as it is now is not audited
  again; a changed document is;
- a document that cannot be read, breaks a reading limit (`limits.py`), takes longer than the
  time limit, raises, or kills the process auditing it gets a result saying why, and the batch
  goes on.

The summary (`write_summary`) lists every document of the run with its unit, year and kind as
its cover states them (`identify`), its findings counted by severity and by rule, and the
documents that could not be audited with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from juesuan.audit import CERTAIN, SUSPECTED, audit_document
from juesuan.audit.read import Document, Line, kind_of, read_safely
from juesuan.files import replaced, safe_file_name

FORMAT = 1  # of a result file; a result of another format is audited again
SUMMARY_NAME = "审核汇总.xlsx"
PARTIAL = ".partial"
DEFAULT_TIMEOUT = 300  # seconds for one document; real ones take under one
CRASHES_ALLOWED = 3  # a document that kills the worker process this often is given up

AUDITED, UNREADABLE, FAILED = "已审核", "无法读取", "审核失败"
ACCEPTED = "PDF、Word（.docx）、网页（.html/.htm）或文本（.txt/.md）"


class BatchError(Exception):
    """The batch cannot start (a missing folder, a bad list line); the message says why."""


@dataclass(frozen=True)
class Item:
    """One document of the batch."""

    path: str  # where the worker reads it (absolute)
    source: str  # as the summary names it: relative to the folder, or as the list gives it
    name: str  # its result file in the output folder
    sha256: str


# ---- what to audit ------------------------------------------------------------------------------


def collect(source: str | Path, out: str | Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """The documents of a folder (searched through, hidden entries and `out` left out) or of a
    list file (one path a line, relative to the list's folder; # starts a comment), each with
    the name it is shown by; and the files of a folder that are not documents, to be reported."""
    source, out = Path(source), Path(out).resolve()
    if not source.exists():
        raise BatchError(f"找不到 {source}：请给出存放公开文本的文件夹，或每行一个文件路径的清单")
    if source.is_dir():
        documents, others = [], []
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            if path.resolve().is_relative_to(out):
                continue
            if kind_of(path) is None:
                others.append(relative.as_posix())
            else:
                documents.append((path.resolve(), relative.as_posix()))
        return documents, others
    documents, problems = [], []
    try:
        lines = source.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(
            f"{source} 无法作为清单读取（应为 UTF-8 文本，每行一个文件路径）：{exc}"
        ) from exc
    for number, line in enumerate(lines, 1):
        given = line.strip()
        if not given or given.startswith("#"):
            continue
        path = Path(given) if Path(given).is_absolute() else source.parent / given
        if not path.is_file():
            problems.append(f"{source} 第{number}行：找不到文件 {given}")
        elif kind_of(path) is None:
            problems.append(f"{source} 第{number}行：{given} 不是{ACCEPTED}文件")
        else:
            documents.append((path.resolve(), given))
    if problems:
        raise BatchError("\n".join(problems))
    return documents, []


def result_name(source: str) -> str:
    """The result file of a document: its shown path made a safe file name (folders joined by
    ／), long ones shortened with a digest so that different paths keep different names."""
    return safe_file_name(source, chars=120, size=200) + ".json"


def plan(documents: list[tuple[Path, str]], threads: int = 4) -> list[Item]:
    """The batch's items, each document's SHA-256 computed (in threads: hashing frees the GIL)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for _path, source in documents:
        name = result_name(source)
        if name in taken:  # two paths alike once made safe (a/b and a／b)
            name = f"{name[:-5]}-{hashlib.sha256(source.encode()).hexdigest()[:8]}.json"
        names[source] = name
        taken.add(name)
    with ThreadPoolExecutor(threads) as pool:
        digests = list(pool.map(_digest_or_none, [path for path, _ in documents]))
    return [
        Item(str(path), source, names[source], digest or "")
        for (path, source), digest in zip(documents, digests, strict=True)
    ]


def file_sha256(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _digest_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None  # unreadable now: its worker says why


# ---- one document -------------------------------------------------------------------------------


class TimeLimit(BaseException):
    """Not an Exception: the reader turns any Exception of a damaged file into its reason, and
    this one must reach `audit_item` as what it is."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeLimit in this block after `seconds` (POSIX, main thread: a pool's worker
    process; elsewhere the reader's own time limit is the only one)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or not seconds:
        yield
        return

    def expire(_signum, _frame):
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def audit_item(item: Item, out: str | Path, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Audit one document unless its result is already there, write the result, return its
    summary row (the result without the report)."""
    target = Path(out) / item.name
    done = load_result(target)
    if done is not None and done["sha256"] == item.sha256 and item.sha256:
        return {**row_of(done), "skipped": True}
    started = time.monotonic()
    try:
        actual = file_sha256(item.path)
    except OSError as exc:
        actual, reason = None, f"文件无法打开：{exc.strerror or exc}"
    else:
        reason = "文件在分派后被改动（SHA-256 与分派时不同），未审核；请重新运行本批次"
    if actual == item.sha256:
        _report, result = audited(item.path, item.source, item.sha256, timeout)
    else:
        result = failure(item.source, item.sha256, reason)
    return _written(target, result, started)


def audited(path: str | Path, source: str, sha256: str, timeout: float) -> tuple:
    """Audit one file: its report (None when the audit itself failed) and its result — the
    summary fields and the report as a dict. Any failure is the result's reason."""
    try:
        with time_limit(timeout):
            document = read_safely(path)
            report = audit_document(document)
            unit, year, kind = identify(document)
    except TimeLimit:
        reason = f"审核超过 {timeout:g} 秒，已停止（正常公开文本不到 1 秒）"
        return None, failure(source, sha256, reason)
    except Exception as exc:  # a fault of the auditor on this document: recorded, batch goes on
        return None, failure(source, sha256, f"审核出错：{type(exc).__name__}: {exc}")
    report.document["path"] = source  # not where this machine happened to read it
    counts = Counter(f.severity for f in report.findings)
    result = {
        "format": FORMAT,
        "source": source,
        "sha256": sha256,
        "status": AUDITED if report.readable else UNREADABLE,
        "reason": "" if report.readable else (document.error or "没有可读的文字层（扫描件或乱码）"),
        "unit": unit,
        "year": year,
        "kind": kind,
        "pages": report.document.get("pages"),
        "certain": counts[CERTAIN],
        "suspected": counts[SUSPECTED],
        "unresolved": len(report.unresolved),
        "rules": dict(Counter(f.rule for f in report.findings)),
        "report": report.as_dict(),
    }
    return report, result


def failure(source: str, sha256: str, reason: str) -> dict:
    return {
        "format": FORMAT,
        "source": source,
        "sha256": sha256,
        "status": FAILED,
        "reason": reason,
    }


def failed_row(item: Item, out: str | Path, reason: str) -> dict:
    """The result of a document its worker could not finish (the process died on it)."""
    return _written(Path(out) / item.name, failure(item.source, item.sha256, reason), None)


def _written(target: Path, result: dict, started: float | None) -> dict:
    result["seconds"] = round(time.monotonic() - started, 3) if started is not None else None
    write_result(target, result)
    return row_of(result)


def write_result(target: Path, result: dict) -> None:
    """Write `result` whole or not at all: into `.partial/` beside it, then renamed into place
    (a rename within one file system is atomic, on shared storage too)."""
    partial = target.parent / PARTIAL
    partial.mkdir(parents=True, exist_ok=True)
    temporary = partial / f"{uuid.uuid4().hex}.{socket.gethostname()}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_result(path: str | Path) -> dict | None:
    """A result file as written, or None when there is none (or it is of another format)."""
    try:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or result.get("format") != FORMAT or "sha256" not in result:
        return None
    return result


def row_of(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "report"}


def sweep_partial(out: str | Path, older_than: float = 3600) -> None:
    """Remove temporary results a killed writer left (an hour old: a worker on another machine
    may be writing one right now)."""
    now = time.time()
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(Path(out) / PARTIAL):
            with contextlib.suppress(OSError):
                if entry.name.endswith(".tmp") and now - entry.stat().st_mtime > older_than:
                    os.unlink(entry.path)


# ---- unit, year and kind from the cover ---------------------------------------------------------

_CONTENTS = re.compile(r"^目录")
_LABEL = re.compile(
    r"^(?:预算主管部门|主管部门|预算单位|决算单位|部门|单位)[:：](?P<unit>.+?)(?:单位[:：].*)?$"
)
_UNIT_FIRST = re.compile(
    r"(?P<unit>\S+?)(?P<year>(?:19|20)\d{2})年度?(?:[省市区县]级)?(?:部门|单位)?(?P<kind>决算|预算)"
)
_YEAR_FIRST = re.compile(
    r"^(?P<year>(?:19|20)\d{2})年度?(?P<unit>\S+?)(?:部门|单位)?(?P<kind>决算|预算)"
)
_YEAR = re.compile(r"((?:19|20)\d{2})年度")
_MONEY_UNITS = {"元", "万元", "亿元"}


def identify(document: Document, cover_lines: int = 8) -> tuple[str | None, int | None, str | None]:
    """The unit, year and kind (决算 or 预算) the document's cover states — the lines of its
    first page before the 目录, as the reader read them — where it states them."""
    lines = []
    for block in document.blocks:
        if not isinstance(block, Line):
            continue
        text = "".join(block.text.split())
        if _CONTENTS.match(text) or len(lines) >= cover_lines:
            break
        lines.append(text)
    unit = year = kind = None
    for text in lines:
        label = _LABEL.match(text)
        if label and label["unit"] not in _MONEY_UNITS:
            unit = label["unit"]
            break
    cover = "".join(lines)
    title = _YEAR_FIRST.match(cover) or _UNIT_FIRST.search(cover)
    if title:
        unit = unit or title["unit"]
        year, kind = int(title["year"]), title["kind"]
    else:
        stated = _YEAR.search(cover)
        year = int(stated[1]) if stated else None
        places = [(cover.find(k), k) for k in ("决算", "预算") if k in cover]
        kind = min(places)[1] if places else None
    return unit, year, kind


# ---- running the batch ----------------------------------------------------------------------------


class Progress:
    """Prints done out of total, the rate of this run and the time left, every few seconds;
    called with each row as it comes (documents already done count as done, not in the rate)."""

    def __init__(self, stream=None, every: float = 2.0) -> None:
        self.stream, self.every = stream, every
        self.done = self.audited = 0
        self.started = self.shown = time.monotonic()

    def __call__(self, row: dict, total: int) -> None:
        self.done += 1
        if not row.get("skipped"):
            self.audited += 1
        now = time.monotonic()
        if now - self.shown >= self.every or self.done == total:
            self.shown = now
            print(self.line(total, now), file=self.stream or sys.stderr, flush=True)

    def line(self, total: int, now: float) -> str:
        rate = self.audited / (max(now - self.started, 1e-9) / 60)
        text = f"已完成 {self.done}/{total}"
        if self.audited:
            text += f"，每分钟 {rate:.0f} 份"
        if self.done < total and rate > 0:
            text += f"，预计还需 {_duration((total - self.done) / rate * 60)}"
        return text


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分"
    return f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"


def pending(items: list[Item], out: str | Path) -> tuple[list[dict], list[Item]]:
    """The rows of documents already audited as they are now, and the items still to do."""
    done, todo = [], []
    for item in items:
        result = load_result(Path(out) / item.name)
        if result is not None and item.sha256 and result["sha256"] == item.sha256:
            done.append({**row_of(result), "skipped": True})
        else:
            todo.append(item)
    return done, todo


def run_local(
    items: list[Item], out: str | Path, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[dict]:
    """Audit `items` in worker processes of this machine, yielding each row as it is written.

    A worker process that dies (a crash in a C library, the kernel's OOM killer) breaks the whole
    pool and loses the documents it held. Those are audited again one at a time, each alone in a
    new process, so the one that kills its process is found and recorded; the rest go on.
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for item in items:
            yield audit_item(item, out, timeout)
        return
    queue = list(reversed(items))
    suspects: list[Item] = []
    while queue or suspects:
        if suspects:
            item = suspects.pop()
            try:
                yield from _pool_run([item], out, 1, timeout, [])
            except BrokenProcessPool:
                reason = "审核进程在这份文件上异常退出（程序崩溃或内存耗尽），未能审核"
                yield failed_row(item, out, reason)
            continue
        lost: list[Item] = []
        try:
            yield from _pool_run(queue, out, workers, timeout, lost)
        except BrokenProcessPool:
            suspects.extend(lost)


def _pool_run(
    queue: list[Item], out: str | Path, workers: int, timeout: float, lost: list[Item]
) -> Iterator[dict]:
    """Take items from the end of `queue` into a pool, a few per worker at a time (so that a
    broken pool loses only those); on a break the items in flight are put in `lost`."""
    import multiprocessing

    # forkserver, not fork: a process that has run pdfium or typst holds threads whose locks a
    # forked child would inherit held (as read.map_files)
    context = multiprocessing.get_context("forkserver")
    in_flight: dict = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers:
                    item = queue.pop()
                    in_flight[pool.submit(audit_item, item, str(out), timeout)] = item
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = future.result()  # BrokenProcessPool when a worker died
                    del in_flight[future]
                    yield row
        except BrokenProcessPool:
            lost.extend(in_flight.values())
            raise


def run_batch(
    source: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    celery: str | None = None,
    queue: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[dict, int], None] | None = None,
    report: Callable[[str], None] = lambda text: None,
) -> tuple[list[dict], Path]:
    """The whole batch: collect, skip what is done, audit the rest, write the summary workbook.
    Returns every document's row (in the order of the documents) and the workbook's path."""
    out = Path(out)
    documents, others = collect(source, out)
    if others:
        shown = "、".join(others[:3]) + (" 等" if len(others) > 3 else "")
        report(f"{len(others)} 个文件不是{ACCEPTED}文件，不审核：{shown}")
    if not documents:
        raise BatchError(f"{source} 中没有{ACCEPTED}文件")
    out.mkdir(parents=True, exist_ok=True)
    sweep_partial(out)
    report(f"计算 {len(documents)} 份文件的 SHA-256 …")
    items = plan(documents)
    done, todo = pending(items, out)
    report(f"共 {len(items)} 份，已有结果 {len(done)} 份，本次审核 {len(todo)} 份")
    rows = {row["source"]: row for row in done}
    for row in done:
        if progress:
            progress(row, len(items))
    if celery:
        from juesuan.audit.batch_worker import run_celery

        produced: Iterable[dict] = run_celery(todo, out, celery, queue, timeout)
    else:
        produced = run_local(todo, out, workers, timeout)
    for row in produced:
        rows[row["source"]] = row
        if progress:
            progress(row, len(items))
    ordered = [rows[item.source] for item in items]
    workbook = out / SUMMARY_NAME
    write_summary(ordered, workbook)
    return ordered, workbook


# ---- the summary workbook -------------------------------------------------------------------------


def write_summary(rows: list[dict], path: str | Path) -> None:
    """The summary workbook: every document with its unit, year, kind and findings counted by
    severity and by rule (one column a rule); a sheet of the documents not audited and why."""
    import xlsxwriter

    rules = Counter()
    for row in rows:
        rules.update(row.get("rules") or {})
    rule_ids = [rule for rule, _ in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))]
    with replaced(path) as temporary:
        book = xlsxwriter.Workbook(str(temporary), {"constant_memory": True})
        bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        sheet = book.add_worksheet("审核汇总")
        header = ["文件", "单位", "年度", "类别", "页数", "状态", "确定", "疑似", "未能核对"]
        sheet.write_row(0, 0, header + rule_ids, bold)
        sheet.set_row(0, 45)
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, 1, 30)
        sheet.set_column(len(header), len(header) + len(rule_ids), 11)
        sheet.freeze_panes(1, 1)
        for number, row in enumerate(rows, 1):
            audited = row["status"] != FAILED
            values = [
                row["source"],
                row.get("unit") or "",
                row.get("year") or "",
                row.get("kind") or "",
                row.get("pages") or "",
                row["status"],
            ]
            if audited:
                counts = row.get("rules") or {}
                values += [row.get("certain", 0), row.get("suspected", 0), row.get("unresolved", 0)]
                values += [counts.get(rule, 0) for rule in rule_ids]
            sheet.write_row(number, 0, values)
        sheet.autofilter(0, 0, len(rows), len(header) + len(rule_ids) - 1)
        failures = book.add_worksheet("未能审核")
        failures.write_row(0, 0, ["文件", "状态", "原因", "SHA-256"], bold)
        failures.set_column(0, 0, 48)
        failures.set_column(2, 2, 80)
        failures.set_column(3, 3, 66)
        bad = [row for row in rows if row["status"] != AUDITED]
        for number, row in enumerate(bad, 1):
            failures.write_row(
                number, 0, [row["source"], row["status"], row["reason"], row["sha256"]]
            )
        book.close()


def totals(rows: list[dict]) -> dict:
    return {
        "documents": len(rows),
        AUDITED: sum(1 for r in rows if r["status"] == AUDITED),
        UNREADABLE: sum(1 for r in rows if r["status"] == UNREADABLE),
        FAILED: sum(1 for r in rows if r["status"] == FAILED),
        CERTAIN: sum(r.get("certain", 0) for r in rows),
        SUSPECTED: sum(r.get("suspected", 0) for r in rows),
        "skipped": sum(1 for r in rows if r.get("skipped")),
    }


__all__ = ["BatchError", "Item", "identify", "run_batch", "write_summary"]
