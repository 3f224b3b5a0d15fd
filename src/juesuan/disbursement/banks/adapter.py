"""Adapter files (银行接口定义): YAML → a validated `Adapter`, every problem with its key path."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from juesuan.disbursement.banks.reasons import REASONS
from juesuan.disbursement.banks.values import AdapterError, BatchHeader, Problem
from juesuan.files import safe_file_name

ADAPTER_DIR = Path(__file__).parent / "adapters"

BATCH_FORMATS = ("csv", "fixed", "xlsx", "pain.001")
RESULT_FORMATS = ("csv", "fixed", "xlsx", "pain.002")
ENCODINGS = ("gb18030", "utf-8")
LINE_ENDINGS = {"crlf": "\r\n", "lf": "\n"}
AMOUNT_FORMATS = ("yuan", "fen")  # "1100.00" or "110000"
BATCH_FIELDS = (
    "sequence",
    "reference",
    "name",
    "account",
    "account_name",
    "bank",
    "amount",
    "purpose",
    "person_id",
)
RESULT_FIELDS = (*BATCH_FIELDS, "status", "reason_code", "reason", "bank_serial", "paid_on")
# pain.002 gives the day a payment was settled in each TxInfAndSts (reader: iso20022.py).
PAIN002_PAID_DATE = "AccptncDtTm"
# Fields a template (file name, header lines, totals) may use; see docs.md.
HEADER_FIELDS = (
    "payer_name",
    "payer_account",
    "payer_bank",
    "payer_code",
    "batch",
    "scheme",
    "month",
    "month_dash",
    "date",
    "date_dash",
)
TOTAL_FIELDS = ("count", "total")
LAYOUT_KEYS = (
    "format", "encoding", "line_ending", "delimiter", "amount", "header_lines", "titles",
    "totals", "columns", "sheet",
)  # fmt: skip
COLUMN_KEYS = ("title", "field", "width", "align", "pad", "masked", "date_format")
# strptime directives a bank's date column may use (year, month, day and separators).
DATE_DIRECTIVES = {"%Y", "%m", "%d"}


@dataclass(frozen=True)
class Cell:
    """A literal or template cell of a header or totals line; width etc. for fixed-width."""

    value: str
    width: int | None = None
    align: str = "left"
    pad: str = " "


@dataclass(frozen=True)
class Column:
    title: str
    field: str
    width: int | None = None  # bytes in the file's encoding (fixed-width only)
    align: str = "left"
    pad: str = " "
    masked: bool = False  # person_id only: 110105********1234
    date_format: str = ""  # paid_on only: how the bank writes the day, e.g. "%Y%m%d"


@dataclass(frozen=True)
class Layout:
    """How one file (a batch file or a result file) is laid out."""

    format: str
    encoding: str = "gb18030"
    line_ending: str = "\r\n"
    delimiter: str = ","
    amount: str = "yuan"
    header_lines: tuple[tuple[Cell, ...], ...] = ()
    titles: bool = True  # a row of column titles after the header lines
    totals_position: str = ""  # "first", "last" or "" (none)
    totals: tuple[Cell, ...] = ()
    columns: tuple[Column, ...] = ()
    sheet: str = "Sheet1"
    # result files only: cell text → paid/returned, and bank wording → ISO reason code
    paid: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def paid_date(self) -> Column | None:
        """The column with the day the bank paid (到账日期), if the format has one."""
        return next((c for c in self.columns if c.field == "paid_on"), None)


@dataclass(frozen=True)
class Adapter:
    """A bank's batch and result formats, as declared in its YAML file."""

    id: str
    name: str
    file_name_pattern: str
    batch: Layout
    result: Layout
    result_file_name_pattern: str = ""
    source: Path | None = None

    @property
    def format(self) -> str:
        return self.batch.format

    @property
    def paid_date_source(self) -> str:
        """Where the bank's result file says the day each payment was paid, in Chinese;
        "" when the format has no such date (then 按时发放率 cannot be known)."""
        if self.result.format == "pain.002":
            return f"{PAIN002_PAID_DATE}（受理日期时间）"
        column = self.result.paid_date
        return f"“{column.title}”栏（{column.date_format}）" if column else ""

    def file_name(self, header: BatchHeader) -> str:
        """The batch file's name for `header` (see docs.md for the fields)."""
        return self.file_name_pattern.format_map(_name_values(header))

    def result_file_name(self, header: BatchHeader) -> str:
        pattern = self.result_file_name_pattern or "result_" + self.file_name_pattern
        return pattern.format_map(_name_values(header))


def _name_values(header: BatchHeader) -> dict[str, str]:
    """The header's values made safe in a file name (a payer's name may hold "/" or ":")."""
    return {k: v and safe_file_name(v) for k, v in header_values(header).items()}


def header_values(header: BatchHeader) -> dict[str, str]:
    return {
        "payer_name": header.payer_name,
        "payer_account": header.payer_account,
        "payer_bank": header.payer_bank,
        "payer_code": header.payer_code,
        "batch": header.batch_id,
        "scheme": header.scheme,
        "month": header.month.compact,
        "month_dash": str(header.month),
        "date": header.execution_date.strftime("%Y%m%d"),
        "date_dash": header.execution_date.isoformat(),
    }


# ---------------------------------------------------------------- loading and validation


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, value: Any = None) -> None:
        snippet = "" if value is None else repr(value)[:60]
        self.problems.append(Problem(self.file, message, column=path, snippet=snippet))

    def string(self, data: dict, key: str, path: str, *, required=True, default="") -> str:
        if key not in data or data[key] is None:
            if required:
                self.add(f"{path}{key}", "缺少此项")
            return default
        value = data[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.add(f"{path}{key}", "应为文字", value)
            return default
        return str(value)

    def choice(self, data: dict, key: str, path: str, choices, default: str) -> str:
        if key not in data:
            return default
        value = data[key]
        if value not in choices:
            self.add(f"{path}{key}", "可选值为 " + "、".join(choices), value)
            return default
        return value

    def template(self, text: str, path: str, allowed) -> None:
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            self.add(path, f"模板写法有误（{exc}）；字段用花括号，如 {{batch}}", text)
            return
        for name in names:
            if name not in allowed:
                self.add(path, f"未知字段 {{{name}}}；可用字段：" + "、".join(allowed), text)


def _width(ck: _Checker, data: dict, path: str, fixed: bool) -> tuple[int | None, str, str]:
    width = data.get("width")
    if fixed:
        if not isinstance(width, int) or isinstance(width, bool) or width < 1:
            ck.add(f"{path}.width", "定长格式每栏须有宽度（按字节计的正整数）", width)
            width = None
    elif width is not None:
        ck.add(f"{path}.width", "只有定长格式（fixed）的栏位才有宽度", width)
        width = None
    align = ck.choice(data, "align", f"{path}.", ("left", "right"), "left")
    pad = data.get("pad", " ")
    if not (isinstance(pad, str) and len(pad) == 1 and pad.isascii()):
        ck.add(f"{path}.pad", '填充字符应为一个 ASCII 字符，如 " " 或 "0"', pad)
        pad = " "
    return width, align, pad


def _cell(ck: _Checker, raw: Any, path: str, fixed: bool, allowed) -> Cell | None:
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw = {"value": str(raw)}
    if not isinstance(raw, dict):
        ck.add(path, "应为文字，或含 value（及定长格式的 width）的映射", raw)
        return None
    value = ck.string(raw, "value", f"{path}.")
    ck.template(value, f"{path}.value", allowed)
    width, align, pad = _width(ck, raw, path, fixed)
    return Cell(value, width, align, pad)


def _date_format_ok(text: object) -> bool:
    """A format with the year, month and day, and no other directive."""
    if not isinstance(text, str):
        return False
    used = set(re.findall(r"%.", text))
    return used == DATE_DIRECTIVES and "%%" not in text


def _layout(ck: _Checker, data: dict, path: str, formats, fields, *, result: bool) -> Layout:
    fmt = data.get("format")
    if fmt not in formats:
        ck.add(f"{path}format", "可选值为 " + "、".join(formats), fmt)
        fmt = formats[0]
    xml = fmt.startswith("pain")
    encoding = ck.choice(data, "encoding", path, ENCODINGS, "utf-8" if xml else "gb18030")
    if xml and encoding != "utf-8":
        ck.add(f"{path}encoding", "ISO 20022 XML 文件总是 utf-8", encoding)
    ending = LINE_ENDINGS[ck.choice(data, "line_ending", path, tuple(LINE_ENDINGS), "crlf")]
    delimiter = data.get("delimiter", ",")
    if not (isinstance(delimiter, str) and len(delimiter) == 1):
        ck.add(f"{path}delimiter", '分隔符应为一个字符，如 "," 或 "|"', delimiter)
        delimiter = ","
    amount = ck.choice(data, "amount", path, AMOUNT_FORMATS, "yuan")
    fixed = fmt == "fixed"
    allowed = (*HEADER_FIELDS, *TOTAL_FIELDS)
    headers: list[tuple[Cell, ...]] = []
    raw_headers = data.get("header_lines", [])
    if not isinstance(raw_headers, list):
        ck.add(f"{path}header_lines", "应为行的列表，每行是栏位的列表", raw_headers)
        raw_headers = []
    for i, line in enumerate(raw_headers):
        cells = line if isinstance(line, list) else [line]
        parsed = [
            _cell(ck, c, f"{path}header_lines[{i}][{j}]", fixed, allowed)
            for j, c in enumerate(cells)
        ]
        headers.append(tuple(c for c in parsed if c))
    titles = data.get("titles", not fixed)
    if not isinstance(titles, bool):
        ck.add(f"{path}titles", "应为 true 或 false", titles)
        titles = True
    totals_position, totals = "", ()
    raw_totals = data.get("totals")
    if raw_totals is not None:
        if not isinstance(raw_totals, dict):
            ck.add(f"{path}totals", "应为含 position 与 cells 的映射", raw_totals)
        else:
            totals_position = ck.choice(
                raw_totals, "position", f"{path}totals.", ("first", "last"), "last"
            )
            cells = raw_totals.get("cells")
            if not isinstance(cells, list) or not cells:
                ck.add(f"{path}totals.cells", "应为栏位列表，含 {count} 与 {total}", cells)
                cells = []
            parsed = [
                _cell(ck, c, f"{path}totals.cells[{j}]", fixed, allowed)
                for j, c in enumerate(cells)
            ]
            totals = tuple(c for c in parsed if c)
            used = " ".join(c.value for c in totals)
            if cells and ("{count}" not in used or "{total}" not in used):
                ck.add(f"{path}totals.cells", "合计行须含笔数 {count} 与金额 {total}", cells)
    columns: list[Column] = []
    raw_columns = data.get("columns", [])
    if not xml and (not isinstance(raw_columns, list) or not raw_columns):
        ck.add(f"{path}columns", "应为栏位列表（title 与 field）", raw_columns)
        raw_columns = []
    for i, raw in enumerate(raw_columns or []):
        cpath = f"{path}columns[{i}]"
        if not isinstance(raw, dict):
            ck.add(cpath, "应为含 title 与 field 的映射", raw)
            continue
        for key in raw:
            if key not in COLUMN_KEYS:
                ck.add(f"{cpath}.{key}", "未知的项；可用：" + "、".join(COLUMN_KEYS))
        title = ck.string(raw, "title", f"{cpath}.")
        fld = raw.get("field")
        if fld not in fields:
            ck.add(f"{cpath}.field", "可选值为 " + "、".join(fields), fld)
            continue
        width, align, pad = _width(ck, raw, cpath, fixed)
        masked = raw.get("masked", False)
        if not isinstance(masked, bool) or (masked and fld != "person_id"):
            ck.add(f"{cpath}.masked", "只有 person_id 栏可设 masked: true", masked)
            masked = False
        date_format = raw.get("date_format", "")
        if fld == "paid_on" and not _date_format_ok(date_format):
            ck.add(
                f"{cpath}.date_format",
                '到账日期栏须写明日期格式，含 %Y、%m、%d，如 "%Y-%m-%d" 或 "%Y%m%d"',
                date_format,
            )
        elif fld != "paid_on" and date_format:
            ck.add(
                f"{cpath}.date_format", "只有 paid_on（到账日期）栏可设 date_format", date_format
            )
            date_format = ""
        columns.append(Column(title, fld, width, align, pad, masked, date_format))
    if xml and raw_columns:
        ck.add(f"{path}columns", "ISO 20022 XML 的结构由标准决定，不设栏位", raw_columns)
        columns = []
    if not xml and columns:
        present = {c.field for c in columns}
        needed = ("reference", "amount", "status") if result else ("reference", "account", "amount")
        for name in needed:
            if name not in present:
                ck.add(f"{path}columns", f"缺少 field: {name} 的栏位", None)
    paid: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    reasons: dict[str, str] = {}
    if result and not xml:
        status = data.get("status")
        if not isinstance(status, dict):
            ck.add(f"{path}status", "应为映射：paid 与 returned 各列出银行使用的文字", status)
        else:
            for key in ("paid", "returned"):
                values = status.get(key)
                if isinstance(values, str):
                    values = [values]
                if (
                    not isinstance(values, list)
                    or not values
                    or not all(isinstance(v, str) for v in values)
                ):
                    ck.add(f"{path}status.{key}", "应为文字列表，如 [成功]", values)
                    values = []
                if key == "paid":
                    paid = tuple(values)
                else:
                    returned = tuple(values)
            if set(paid) & set(returned):
                ck.add(
                    f"{path}status",
                    "同一文字不能既表示成功又表示退回",
                    sorted(set(paid) & set(returned)),
                )
        raw_reasons = data.get("reasons", {})
        if not isinstance(raw_reasons, dict):
            ck.add(f"{path}reasons", "应为映射：银行的原因文字 → 原因代码（如 AC01）", raw_reasons)
            raw_reasons = {}
        for text, code in raw_reasons.items():
            if code not in REASONS:
                ck.add(f"{path}reasons.{text}", "原因代码可选：" + "、".join(REASONS), code)
            else:
                reasons[str(text)] = code
    sheet = ck.string(data, "sheet", path, required=False, default="Sheet1")
    return Layout(
        fmt, encoding, ending, delimiter, amount, tuple(headers), titles, totals_position,
        totals, tuple(columns), sheet, paid, returned, reasons,
    )  # fmt: skip


def check_adapter(path: str | Path) -> tuple[Adapter | None, list[Problem]]:
    """Read and validate an adapter YAML file; problems name the file and the key path."""
    path = Path(path)
    ck = _Checker(str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, [Problem(str(path), f"无法读取接口定义文件（{exc.strerror or exc}）")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [
            Problem(str(path), f"YAML 格式有误：{getattr(exc, 'problem', exc)}", line=line)
        ]
    if not isinstance(data, dict):
        return None, [Problem(str(path), "接口定义应为映射（id、name、format、columns、result …）")]
    known = {*LAYOUT_KEYS, "id", "name", "file_name", "result", "description"}
    for key in data:
        if key not in known:
            ck.add(str(key), "未知的项；可用：" + "、".join(sorted(known)))
    adapter_id = ck.string(data, "id", "")
    name = ck.string(data, "name", "")
    pattern = ck.string(data, "file_name", "")
    ck.template(pattern, "file_name", HEADER_FIELDS)
    batch = _layout(ck, data, "", BATCH_FORMATS, BATCH_FIELDS, result=False)
    raw_result = data.get("result")
    if not isinstance(raw_result, dict):
        ck.add("result", "缺少回盘（结果）文件的定义：format、columns、status …", raw_result)
        raw_result = {"format": "pain.002" if batch.format == "pain.001" else batch.format}
    result_keys = {*LAYOUT_KEYS, "status", "reasons", "file_name"}
    for key in raw_result:
        if key not in result_keys:
            ck.add(f"result.{key}", "未知的项；可用：" + "、".join(sorted(result_keys)))
    result = _layout(ck, raw_result, "result.", RESULT_FORMATS, RESULT_FIELDS, result=True)
    result_pattern = ck.string(raw_result, "file_name", "result.", required=False)
    ck.template(result_pattern, "result.file_name", HEADER_FIELDS)
    for prefix, layout in (("", batch), ("result.", result)):
        if layout.format == "xlsx" and layout.totals_position == "first":
            # XlsxWriter's constant-memory mode writes rows in order; totals are known at the end
            ck.add(f"{prefix}totals.position", "Excel 文件的合计行只能在最后（last）", "first")
        if layout.format == "xlsx" and any(
            "{count}" in c.value or "{total}" in c.value
            for line in layout.header_lines
            for c in line
        ):
            ck.add(
                f"{prefix}header_lines",
                "Excel 文件的表头行不能用 {count}、{total}；请放在合计行",
                None,
            )
    if batch.format == "pain.001" and result.format != "pain.002":
        ck.add("result.format", "pain.001 的回盘文件应为 pain.002", result.format)
    if ck.problems:
        return None, ck.problems
    return Adapter(adapter_id, name, pattern, batch, result, result_pattern, path), []


def load_adapter(path: str | Path) -> Adapter:
    """`check_adapter`, raising AdapterError (all problems) when the file cannot be used."""
    adapter, problems = check_adapter(path)
    if adapter is None:
        raise AdapterError(problems)
    return adapter


def adapter_ids() -> list[str]:
    """The ids of the shipped adapters (generic-csv, fixed-txt, excel, pain001)."""
    return sorted(p.stem for p in ADAPTER_DIR.glob("*.yaml"))


@cache
def get_adapter(adapter_id: str) -> Adapter:
    """A shipped adapter by id; raises AdapterError naming the known ids if there is none."""
    path = ADAPTER_DIR / f"{adapter_id}.yaml"
    if not path.is_file():
        known = "、".join(adapter_ids())
        raise AdapterError([Problem(adapter_id, f"没有这个银行接口；现有：{known}")])
    return load_adapter(path)
