"""Bank adapters (银行接口) declared as data: batch files out, result (return) files in.

An adapter is a YAML file (`adapters/*.yaml`, or any path) describing one bank's batch file —
format (csv | fixed | xlsx | pain.001), encoding, file name, header and totals lines, columns —
and its result file (csv | fixed | xlsx | pain.002). See docs.md.

    adapter = get_adapter("generic-csv")
    batch = write_batch(adapter, header, items, out_dir / adapter.file_name(header))
    batch = write_batch_frame(adapter, header, frame, path)   # rows in a polars frame
    result = read_results(adapter, path_from_bank)
    for row in result.rows: ...   # row.key is a model.PaymentKey

Money is integer 分 (fen) throughout; no float is ever used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from juesuan.disbursement.banks.adapter import (
    Adapter,
    adapter_ids,
    check_adapter,
    get_adapter,
    load_adapter,
)
from juesuan.disbursement.banks.excel import read_xlsx, write_xlsx
from juesuan.disbursement.banks.iso20022 import (
    read_pain002,
    validate_pain001,
    write_pain001,
    write_pain002,
)
from juesuan.disbursement.banks.reasons import REASONS, reason
from juesuan.disbursement.banks.results import ResultRows
from juesuan.disbursement.banks.textfiles import (
    BATCH_COLUMNS,
    read_text,
    write_csv_frame,
    write_text,
)
from juesuan.disbursement.banks.values import (
    PAID,
    RETURNED,
    AdapterError,
    BatchFile,
    BatchHeader,
    BatchItem,
    Outcome,
    Problem,
    Reason,
    ResultFile,
    ResultRow,
)
from juesuan.disbursement.banks.writing import (
    Collector,
    batch_records,
    file_sha256,
    header_problems,
    result_records,
)

__all__ = [
    "BATCH_COLUMNS",
    "PAID",
    "REASONS",
    "RETURNED",
    "Adapter",
    "AdapterError",
    "BatchFile",
    "BatchHeader",
    "BatchItem",
    "Outcome",
    "Problem",
    "Reason",
    "ResultFile",
    "ResultRow",
    "adapter_ids",
    "check_adapter",
    "get_adapter",
    "load_adapter",
    "read_results",
    "reason",
    "validate_pain001",
    "write_batch",
    "write_batch_frame",
    "write_results",
]


def write_batch(
    adapter: Adapter,
    header: BatchHeader,
    items: Iterable[BatchItem | tuple],
    out_path: str | Path,
) -> BatchFile:
    """Write a bank batch file (代发文件) for `items`, streamed, atomically.

    `items` may be any iterable (millions of rows): csv and fixed-width files are streamed,
    xlsx uses xlsxwriter's constant memory mode, pain.001 is written incrementally with lxml.
    Amounts come from integer 分. If any row cannot be written (a name wider than its column,
    a negative amount, a value a spreadsheet would run as a formula, …) the result has problems naming the row and person and `out_path` is
    left untouched.
    """
    out_path = Path(out_path)
    problems = Collector(out_path.name)
    layout = adapter.batch
    header_problems(header, problems)
    records = batch_records(layout, items, problems)
    return _write(layout, header, records, out_path, problems)


def write_batch_frame(
    adapter: Adapter,
    header: BatchHeader,
    frame: pl.DataFrame,
    out_path: str | Path,
    on_rows: Callable[[int], None] | None = None,
) -> BatchFile:
    """write_batch for rows already in a polars frame (BATCH_COLUMNS, amounts in 分), as an
    approval reads them from the database: a CSV batch is written column-wise; another
    format, or a frame with a row to refuse or a cell to quote, goes row by row through
    write_batch. Either way the same file, or the same problems. `on_rows(n)` hears how many
    rows are written so far, while the file is being written."""
    out_path = Path(out_path)
    if adapter.batch.format == "csv":
        problems = Collector(out_path.name)
        header_problems(header, problems)
        if not problems.problems:
            written = write_csv_frame(adapter.batch, header, frame, out_path, problems, on_rows)
            if written is not None:
                return written

    def rows() -> Iterator[tuple]:
        for number, row in enumerate(frame.iter_rows(), 1):
            yield row
            if on_rows is not None:
                on_rows(number)

    return write_batch(adapter, header, rows(), out_path)


def read_results(adapter: Adapter, path: str | Path) -> ResultFile:
    """Read a bank result file (回盘/退回文件) in the adapter's result format.

    Each row becomes a ResultRow (PaymentKey, paid or returned, ISO reason code and Chinese
    text, amount in 分, the bank's serial, line). Any problem (file, line, column, snippet,
    what is accepted) means the file yields no rows.
    """
    path = Path(path)
    layout = adapter.result
    batch_id = ""
    if not path.is_file():
        return ResultFile(path, problems=(Problem(path.name, "找不到文件"),))
    try:
        if layout.format == "pain.002":
            frame, problems, batch_id = read_pain002(layout, path)
        elif layout.format == "xlsx":
            frame, problems = read_xlsx(layout, path)
        else:
            frame, problems = read_text(layout, path)
        sha = file_sha256(path)
    except OSError as exc:
        return ResultFile(
            path, problems=(Problem(path.name, f"无法读取（{exc.strerror or exc}）"),)
        )
    if frame is None or problems:
        return ResultFile(path, (), tuple(problems), batch_id, sha)
    return ResultFile(path, ResultRows(frame), (), batch_id, sha)


def write_results(
    adapter: Adapter,
    header: BatchHeader,
    outcomes: Iterable[Outcome | tuple],
    out_path: str | Path,
) -> BatchFile:
    """A bank simulator: write a result file in the adapter's result format (for tests, the
    example year and benchmarks). Returns what was written (count, total, name, SHA-256)."""
    out_path = Path(out_path)
    problems = Collector(out_path.name)
    layout = adapter.result
    records = result_records(layout, outcomes, problems)
    if layout.format == "pain.002":
        return write_pain002(header, records, out_path, problems)
    return _write(layout, header, records, out_path, problems)


def _write(layout, header, records, out_path: Path, problems: Collector) -> BatchFile:
    if layout.format == "pain.001":
        return write_pain001(layout, header, records, out_path, problems)
    if layout.format == "xlsx":
        return write_xlsx(layout, header, records, out_path, problems)
    return write_text(layout, header, records, out_path, problems)
