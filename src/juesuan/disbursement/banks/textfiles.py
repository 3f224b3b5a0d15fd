"""CSV and fixed-width (定长) text files: batch out, result in, and the simulated result out."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from juesuan.disbursement.banks.adapter import Cell, Column, Layout
from juesuan.disbursement.banks.fields import (
    BATCH_REFERENCE,
    FORMULA_START,
    CellError,
    fit,
    parse_amount,
)
from juesuan.disbursement.banks.results import (
    MAX_PROBLEMS,
    check_rows,
    title_positions,
    totals_problem,
)
from juesuan.disbursement.banks.values import BatchFile, BatchHeader, Problem
from juesuan.disbursement.banks.writing import (
    Collector,
    assemble,
    body_file,
    fill,
    finish,
    row_getter,
    row_label,
    template_context,
    write_hashed,
)

# ---------------------------------------------------------------- writing


def _line(
    layout: Layout, cells: list[tuple[str, Cell | Column]], who: str, problems: Collector
) -> bytes:
    """One line in the file's encoding; fixed-width cells padded to their byte widths."""
    end = layout.line_ending.encode("ascii")
    if layout.format == "fixed":
        parts = []
        for text, cell in cells:
            try:
                parts.append(fit(text, cell.width, cell.align, cell.pad, layout.encoding))
            except CellError as exc:
                title = getattr(cell, "title", "") or cell.value
                problems.add(
                    f"{who}的“{title}”{exc}；请核对或改用更宽的栏位，系统不截断", title, text
                )
                return b""
        return b"".join(parts) + end
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=layout.delimiter, lineterminator=layout.line_ending).writerow(
        [text for text, _ in cells]
    )
    return buffer.getvalue().encode(layout.encoding)


def write_text(
    layout: Layout,
    header: BatchHeader,
    records: Iterable[tuple[dict[str, str], int]],
    out_path: Path,
    problems: Collector,
) -> BatchFile:
    """Stream `records` into a csv or fixed-width file with header, titles and totals lines."""
    count = total = 0
    columns = layout.columns
    with body_file(out_path) as body:
        if layout.format == "csv":
            text = io.TextIOWrapper(body, encoding=layout.encoding, newline="", write_through=False)
            writer = csv.writer(text, delimiter=layout.delimiter, lineterminator=layout.line_ending)
            cells = row_getter(columns)
            for values, fen in records:
                writer.writerow(cells(values))
                count += 1
                total += fen
            text.flush()
            text.detach()
        else:
            # `fit` inlined: a call per cell is too slow for a batch of millions of rows.
            encoding = layout.encoding
            end = layout.line_ending.encode("ascii")
            write = body.write
            specs = [(c, c.width, c.align == "right", c.pad.encode("ascii")) for c in columns]
            cells = row_getter(columns)
            for values, fen in records:
                parts = []
                for (column, width, right, pad), value in zip(specs, cells(values), strict=True):
                    data = value.encode(encoding)
                    if len(data) > width:
                        problems.add(
                            f"{row_label(values)}的“{column.title}”“{value}”占 {len(data)} 字节（{encoding}），"
                            f"超过本栏宽度 {width} 字节；系统不截断，请核对或改用更宽的栏位",
                            column.title,
                            value,
                        )
                        break
                    parts.append(data.rjust(width, pad) if right else data.ljust(width, pad))
                else:
                    write(b"".join(parts) + end)
                count += 1
                total += fen
        return _finish_text(layout, header, body, out_path, problems, count, total)


def _finish_text(layout, header, body, out_path, problems, count: int, total: int) -> BatchFile:
    """Header, titles and totals lines around the written body; the file, or its problems."""
    context = template_context(header, layout, count, total)
    prefix, suffix = _prefix_suffix(layout, context, problems)
    return finish(
        out_path, problems, count, total, lambda: assemble(out_path, prefix, body, suffix)
    )


# The columns of a batch frame (`write_csv_frame`), as a BatchItem orders them.
BATCH_COLUMNS = (
    "reference",
    "name",
    "account",
    "account_name",
    "bank",
    "amount_fen",
    "purpose",
    "person_id",
)
_FRAME_CHUNK = 200_000


def write_csv_frame(
    layout: Layout,
    header: BatchHeader,
    frame: pl.DataFrame,
    out_path: Path,
    problems: Collector,
    on_rows: Callable[[int], None] | None = None,
) -> BatchFile | None:
    """write_text for a CSV batch whose rows are a polars frame (BATCH_COLUMNS): cells made
    column-wise and written a chunk at a time, byte for byte what the row writer writes.

    None, having written nothing, when some row is one the row writer would refuse (its
    problem is worded there) or has a cell that needs quoting: the caller writes row by row.
    """
    texts = [c for c in BATCH_COLUMNS if c != "amount_fen"]
    typed = dict.fromkeys(texts, pl.String) | {"amount_fen": pl.Int64}
    if (
        frame.schema != {c: typed[c] for c in BATCH_COLUMNS}
        or frame.select(_refused(layout, texts).any()).item()
    ):
        return None
    fen = pl.col("amount_fen")
    amount = (
        fen.cast(pl.String)
        if layout.amount == "fen"
        else (fen // 100).cast(pl.String) + "." + (fen % 100).cast(pl.String).str.zfill(2)
    )
    person = pl.col("person_id")
    # fields.mask_person_id column-wise: the stars are a slice of one long enough run of them
    # (a regular expression replacing each character costs several times more).
    length = person.str.len_chars().cast(pl.Int64)
    stars = pl.lit("*" * int(frame.select(length.max()).item() or 0), dtype=pl.String)
    cells = {
        "sequence": pl.int_range(1, pl.len() + 1).cast(pl.String),
        **{c: pl.col(c) for c in texts},
        "amount": amount,
        "person_id_masked": pl.when(length <= 10)
        .then(stars.str.slice(0, length))
        .otherwise(person.str.slice(0, 6) + stars.str.slice(0, length - 10) + person.str.slice(-4)),
    }
    fields = [c.field + "_masked" if c.masked else c.field for c in layout.columns]
    if any(f not in cells for f in fields):
        return None
    rows = frame.select([cells[f].alias(str(i)) for i, f in enumerate(fields)])
    total = int(frame["amount_fen"].sum())
    # The count and total are known before the first row, so the header and totals lines are
    # too: the file is written straight to its place, with no scratch copy of its body.
    context = template_context(header, layout, rows.height, total)
    prefix, suffix = _prefix_suffix(layout, context, problems)

    def body() -> Iterator[bytes]:
        for offset in range(0, rows.height, _FRAME_CHUNK):
            text = rows.slice(offset, _FRAME_CHUNK).write_csv(
                include_header=False,
                separator=layout.delimiter,
                line_terminator=layout.line_ending,
                quote_style="never",
            )
            yield text.encode(layout.encoding)
            if on_rows is not None:
                on_rows(min(offset + _FRAME_CHUNK, rows.height))

    def write() -> str:
        return write_hashed(out_path, itertools.chain((prefix,), body(), (suffix,)))

    try:
        return finish(out_path, problems, rows.height, total, write)
    except UnicodeEncodeError:
        return None


def _one_of(characters: str) -> str:
    """A regular-expression class of these characters, for polars (whose syntax is not re's)."""
    return "[" + "".join("\\" + c if c in "\\[]^-" else c for c in characters) + "]"


def _refused(layout: Layout, texts: list[str]) -> pl.Expr:
    """Rows the row writer (`batch_records`) refuses, or whose cells `csv` would quote."""
    quoted = _one_of(layout.delimiter + '"\r\n')
    formula = "^" + _one_of(FORMULA_START)
    text_cells = ["name", "account", "account_name", "bank", "purpose"]
    return pl.any_horizontal(
        *(pl.col(c).is_null() for c in BATCH_COLUMNS),
        ~pl.col("reference").str.contains(f"^(?:{BATCH_REFERENCE})$"),
        pl.col("account").str.strip_chars() == "",
        pl.col("amount_fen") <= 0,
        *(pl.col(c).str.contains(formula) for c in text_cells),
        *(pl.col(c).str.contains(quoted) for c in texts),
    )


def _prefix_suffix(
    layout: Layout, context: dict[str, str], problems: Collector
) -> tuple[bytes, bytes]:
    prefix = b""
    for i, cells in enumerate(layout.header_lines, 1):
        prefix += _line(layout, [(fill(c, context), c) for c in cells], f"表头第{i}行", problems)
    totals = b""
    if layout.totals:
        totals = _line(layout, [(fill(c, context), c) for c in layout.totals], "合计行", problems)
    if layout.totals_position == "first":
        prefix += totals
    if layout.titles:
        prefix += _line(layout, [(c.title, c) for c in layout.columns], "栏目标题行", problems)
    suffix = totals if layout.totals_position == "last" else b""
    return prefix, suffix


# ---------------------------------------------------------------- reading


def _decode(data: bytes, layout: Layout, file: str) -> tuple[str | None, list[Problem]]:
    try:
        return data.decode(layout.encoding), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        snippet = data[start : exc.start + 8].decode(layout.encoding, errors="replace")
        return None, [
            Problem(
                file,
                f"不是 {layout.encoding} 编码的文字；请提供银行原始文件，不要另存为其他编码",
                line=line,
                snippet=snippet,
            )
        ]


def _split_head(text: str, skip: int) -> tuple[list[str], str, int]:
    """The first `skip` lines, the rest, and the 1-based line number where the rest starts."""
    heads = []
    position = 0
    for _ in range(skip):
        end = text.find("\n", position)
        if end < 0:
            heads.append(text[position:].rstrip("\r"))
            position = len(text)
            break
        heads.append(text[position:end].rstrip("\r"))
        position = end + 1
    return heads, text[position:], skip + 1


def _cells(layout: Layout, line: str, cells_spec) -> list[str]:
    if layout.format == "csv":
        return next(csv.reader([line], delimiter=layout.delimiter), [])
    data = line.encode(layout.encoding)
    out, position = [], 0
    for spec in cells_spec:
        out.append(
            data[position : position + spec.width].decode(layout.encoding, errors="replace").strip()
        )
        position += spec.width
    return out


def _totals(
    layout: Layout, line: str | None, line_no: int, file: str
) -> tuple[int | None, int | None, list[Problem]]:
    where = "第一行" if layout.totals_position == "first" else "最后一行"
    if line is None or not line.strip():
        return (
            None,
            None,
            [Problem(file, f"缺少合计行（应在{where}）；文件可能不完整", line=line_no)],
        )
    cells = _cells(layout, line, layout.totals)
    count = total = None
    problems = []
    for spec, value in zip(layout.totals, cells, strict=False):
        value = value.strip()
        if spec.value == "{count}":
            if value.isdigit():
                count = int(value)
            else:
                problems.append(
                    Problem(
                        file,
                        f"{where}应为合计行，笔数“{value}”不是整数；文件可能不完整",
                        line=line_no,
                        snippet=line[:60],
                    )
                )
        elif spec.value == "{total}":
            try:
                total = parse_amount(value, layout.amount)
            except CellError as exc:
                problems.append(
                    Problem(
                        file,
                        f"{where}应为合计行：{exc}；文件可能不完整",
                        line=line_no,
                        snippet=line[:60],
                    )
                )
    if len(cells) < len(layout.totals) and not problems:
        problems.append(
            Problem(
                file,
                f"{where}应为合计行，栏数不足；文件可能不完整",
                line=line_no,
                snippet=line[:60],
            )
        )
    return count, total, problems


def read_text(layout: Layout, path: Path) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Read a csv or fixed-width result file into checked rows.

    A file is first read by `_read_csv_fast` or `_read_fixed_fast`; when that finds anything
    wrong, or anything it does not handle (quoted cells, a byte-order mark, blank, short or
    long lines), the file is read again here line-aware, which says what is wrong and where."""
    file = path.name
    raw = path.read_bytes()
    fast = (_read_csv_fast if layout.format == "csv" else _read_fixed_fast)(layout, raw, file)
    if fast is not None:
        return fast, []
    text, problems = _decode(raw, layout, file)
    if text is None:
        return None, problems
    fixed = layout.format == "fixed"
    if fixed:
        # Fixed widths are bytes. Read as Latin-1, where one character is one byte, so that
        # polars can slice columns by byte offsets; only non-ASCII cells are then decoded for
        # real. GB18030 never uses the bytes \r or \n inside a character, so lines still split.
        text = raw.decode("latin-1")
    skip = len(layout.header_lines) + (layout.totals_position == "first") + layout.titles
    heads, rest, first_line = _split_head(text, skip)
    if len(heads) < skip:
        return None, [
            Problem(
                file, f"文件只有 {len(heads)} 行，不足表头的 {skip} 行；文件不完整", line=len(heads)
            )
        ]
    totals_line: str | None = None
    totals_no = 0
    if layout.totals_position == "first":
        totals_no = len(layout.header_lines) + 1
        totals_line = heads[totals_no - 1]
    rest = rest.rstrip("\r\n")
    if layout.totals_position == "last":
        cut = rest.rfind("\n")
        totals_line = rest[cut + 1 :].rstrip("\r") if rest else None
        totals_no = first_line + rest.count("\n")
        rest = rest[: max(cut, 0)]
    # which position holds which field
    positions: dict[str, int] = {c.field: i for i, c in enumerate(layout.columns)}
    if layout.titles and layout.format == "csv":
        found = _cells(layout, heads[-1], None)
        found = [t.strip().lstrip("\ufeff") for t in found]
        positions, missing = title_positions(layout, found)
        if missing:
            titles = "、".join(c.title for c in layout.columns)
            return None, [
                Problem(
                    file,
                    f"找不到栏目“{c.title}”；该行应为栏目标题：{titles}",
                    line=skip,
                    snippet=heads[-1][:60],
                )
                for c in missing
            ]
    if fixed:
        heads = [_real(h, layout) for h in heads]
        totals_line = None if totals_line is None else _real(totals_line, layout)
        frame = _frame_fixed(layout, rest, first_line, file, problems)
    else:
        frame = _frame(layout, rest, first_line, positions, file, problems)
    if frame is None:
        return None, problems
    if layout.totals:
        count, total, found_problems = _totals(layout, totals_line, totals_no, file)
        problems += found_problems
    frame, row_problems = check_rows(frame, layout, file)
    problems += row_problems
    if frame is not None and layout.totals and not problems:
        disagree = totals_problem(frame, count, total, file, totals_no)
        problems += [disagree] if disagree else []
    return (None, problems) if problems else (frame, [])


def _split_bytes(layout: Layout, raw: bytes):
    """(head lines, where the rows start and end in `raw`, line number of the first row, totals
    line, its line number) of a text file, the lines as bytes; None when the file is too short
    for its head and totals. The rows are not copied: a file may be hundreds of megabytes."""
    skip = len(layout.header_lines) + (layout.totals_position == "first") + layout.titles
    heads: list[bytes] = []
    start = 0
    for _ in range(skip):
        end = raw.find(b"\n", start)
        if end < 0:
            return None
        heads.append(raw[start:end].rstrip(b"\r"))
        start = end + 1
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":
        end -= 1
    first_line = skip + 1
    totals_line: bytes | None = None
    totals_no = 0
    if layout.totals_position == "first":
        totals_no = len(layout.header_lines) + 1
        totals_line = heads[totals_no - 1]
    elif layout.totals_position == "last":
        cut = raw.rfind(b"\n", start, end)
        if cut < 0:
            return None
        totals_line = raw[cut + 1 : end].rstrip(b"\r")
        end = cut
        totals_no = first_line + raw.count(b"\n", start, end) + 1
    return heads, start, end, first_line, totals_line, totals_no


def _checked_fast(layout, frame, totals_text, totals_no, file) -> pl.DataFrame | None:
    """The end both fast readers share: totals line and rows checked; None on any problem."""
    count = total = None
    if layout.totals:
        count, total, problems = _totals(layout, totals_text, totals_no, file)
        if problems:
            return None
    frame, problems = check_rows(frame, layout, file)
    if frame is None or problems:
        return None
    if layout.totals and totals_problem(frame, count, total, file, totals_no):
        return None
    return frame


def _read_fixed_fast(layout: Layout, raw: bytes, file: str) -> pl.DataFrame | None:
    """The accepted rows of a well-formed fixed-width result file, or None: then `read_text`
    reads it the careful way and reports every problem with its line.

    Widths are bytes of the file's encoding. The rows are given to polars as Latin-1 text (one
    character per byte, so columns are sliced by byte offset), split into lines by polars
    itself; every row must be exactly the line width. Cells with non-ASCII bytes are decoded
    for real, each distinct value once — strictly, so a file not in its encoding goes the
    careful way, which says where."""
    parts = _split_bytes(layout, raw)
    if parts is None:
        return None
    heads, start, end, first_line, totals_line, totals_no = parts
    if start >= end or raw.find(b"\x00", start, end) >= 0:
        return None
    try:
        [h.decode(layout.encoding) for h in heads]
        totals_text = None if totals_line is None else totals_line.decode(layout.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    rows = raw.count(b"\n", start, end) + 1
    frame = pl.read_csv(
        str(memoryview(raw)[start:end], "latin-1").encode("utf-8"),
        has_header=False,
        separator="\x00",
        quote_char=None,
        schema={"raw": pl.String},
    )
    # polars drops the "\r" of a "\r\n" line ending: every line is the line width
    wrong = pl.col("raw").str.len_chars() != _line_width(layout)
    if frame.height != rows or frame.select(wrong.any()).item():
        return None  # a blank, short or long line; the careful way says which
    frame = frame.select(*_slices(layout.columns)).with_columns(
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias("line")
    )
    for column in layout.columns:
        cells = frame[column.field]
        foreign = cells.str.len_bytes() != cells.str.len_chars()  # a byte above 0x7F
        if not foreign.any():
            continue
        latin = cells.filter(foreign).to_list()
        try:
            real = {v: v.encode("latin-1").decode(layout.encoding) for v in set(latin)}
        except UnicodeDecodeError:
            return None
        frame = frame.with_columns(cells.scatter(foreign.arg_true(), [real[v] for v in latin]))
    return _checked_fast(layout, frame, totals_text, totals_no, file)


def _line_width(layout: Layout) -> int:
    return sum(c.width or 0 for c in layout.columns)


def _slices(columns) -> list[pl.Expr]:
    """Each fixed-width column cut out of the Latin-1 line `raw` by its byte offset."""
    offset, sliced = 0, []
    for column in columns:
        sliced.append(pl.col("raw").str.slice(offset, column.width).alias(column.field))
        offset += column.width
    return sliced


def _read_csv_fast(layout: Layout, raw: bytes, file: str) -> pl.DataFrame | None:
    """The accepted rows of a well-formed csv result file, or None: then `read_text` reads it
    the careful way and reports every problem with its line.

    Bytes are split into head, rows and totals line without decoding the whole file twice;
    the rows are decoded once (a file not in its encoding goes the careful way) and given to
    polars with an explicit all-text schema. Every row must have exactly the file's number of
    cells (separators counted; no quotes), so line numbers are exact."""
    parts = _split_bytes(layout, raw)
    if parts is None:
        return None
    heads, start, end, first_line, totals_line, totals_no = parts
    body = raw[start:end]
    if not body or body.isspace() or b'"' in body or body.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        head_text = [h.decode(layout.encoding) for h in heads]
        totals_text = None if totals_line is None else totals_line.decode(layout.encoding)
        if layout.encoding.replace("-", "").replace("_", "").lower() in ("utf8", "ascii"):
            data = body
            body.decode(layout.encoding)
        else:
            data = body.decode(layout.encoding).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        return None
    positions: dict[str, int] = {c.field: i for i, c in enumerate(layout.columns)}
    width = len(layout.columns)
    if layout.titles:
        found = [t.strip().lstrip("\ufeff") for t in _cells(layout, head_text[-1], None)]
        positions, missing = title_positions(layout, found)
        if missing:
            return None
        width = len(found)
    rows = data.count(b"\n") + 1
    delimiter = layout.delimiter.encode("utf-8")
    if len(delimiter) != 1 or data.count(delimiter) != rows * (width - 1):
        return None  # a short, long or blank line somewhere
    needed = ("reference", "amount", "status", "reason_code", "reason", "bank_serial", "paid_on")
    wanted = sorted(((f, i) for f, i in positions.items() if f in needed), key=lambda kv: kv[1])
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            separator=layout.delimiter,
            quote_char=None,
            schema={f"c{i}": pl.String for i in range(width)},
            columns=[i for _, i in wanted],
            truncate_ragged_lines=False,
        )
    except Exception:  # polars: anything it cannot read goes the careful way
        return None
    if frame.height != rows:
        return None
    frame = frame.select([pl.col(f"c{i}").alias(name) for name, i in wanted]).with_columns(
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias("line")
    )
    return _checked_fast(layout, frame, totals_text, totals_no, file)


def _frame(
    layout: Layout,
    rest: str,
    first_line: int,
    positions: dict[str, int],
    file: str,
    problems: list[Problem],
) -> pl.DataFrame | None:
    wanted = sorted(positions.items(), key=lambda kv: kv[1])
    if not rest.strip():
        return pl.DataFrame(
            {name: pl.Series([], dtype=pl.String) for name, _ in wanted}
            | {"line": pl.Series([], dtype=pl.Int64)}
        )
    # csv only: fixed-width files go through _frame_fixed
    width = len(layout.columns) if not layout.titles else None
    try:
        frame = pl.read_csv(
            io.BytesIO(rest.encode("utf-8")),
            has_header=False,
            separator=layout.delimiter,
            infer_schema=False,
            quote_char='"',
            truncate_ragged_lines=False,
        )
    except Exception:  # polars: ragged lines and the like; find them line by line
        frame = None
    if frame is not None and any(frame.height and i >= frame.width for _, i in wanted):
        frame = None
    if frame is not None and frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        frame = None  # a blank line: say so, by line
    if frame is not None and frame.height != rest.count("\n") + 1:
        frame = None  # quoted line breaks would shift line numbers; take the careful way
    if frame is None:
        return _frame_slow(layout, rest, first_line, positions, file, problems, width)
    frame = frame.select([pl.col(frame.columns[i]).alias(name) for name, i in wanted])
    return frame.with_columns(
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias("line")
    )


def _real(latin: str, layout: Layout) -> str:
    return latin.encode("latin-1").decode(layout.encoding, errors="replace")


def _frame_fixed(
    layout: Layout, rest: str, first_line: int, file: str, problems: list[Problem]
) -> pl.DataFrame | None:
    """Fixed-width rows from Latin-1 text (one character per byte), sliced column-wise."""
    columns = layout.columns
    line_width = _line_width(layout)
    if not rest.strip():
        return pl.DataFrame(
            {c.field: pl.Series([], dtype=pl.String) for c in columns}
            | {"line": pl.Series([], dtype=pl.Int64)}
        )
    lines = pl.Series("raw", rest.split("\n"), dtype=pl.String).str.strip_chars_end("\r")
    frame = pl.DataFrame(
        {"raw": lines, "line": pl.int_range(first_line, first_line + len(lines), eager=True)}
    )
    bad = frame.filter(pl.col("raw").str.len_chars() != line_width).head(MAX_PROBLEMS)
    for raw, number in bad.iter_rows():
        if not raw.strip():
            problems.append(
                Problem(file, "空行；明细中间不应有空行（文件可能不完整）", line=number)
            )
        else:
            problems.append(
                Problem(
                    file,
                    f"该行长 {len(raw)} 字节，定长格式每行应为 {line_width} 字节（{layout.encoding}）",
                    line=number,
                    snippet=_real(raw, layout)[:60],
                )
            )
    if problems:
        return None
    frame = frame.select(*_slices(columns), "line")
    for column in columns:
        series = frame[column.field]
        foreign = series.str.contains(r"[^\x00-\x7f]")
        if foreign.any():
            where = foreign.arg_true()
            values = [_real(v, layout) for v in series.filter(foreign).to_list()]
            frame = frame.with_columns(series.scatter(where, values))
    return frame


def _lines(rest: str) -> Iterator[str]:
    for line in rest.split("\n"):
        yield line.rstrip("\r")


def _frame_slow(layout, rest, first_line, positions, file, problems, width) -> pl.DataFrame | None:
    """CSV line by line, when the fast read stumbled: exact line numbers for every problem.

    A result row is one line; a quoted line break inside a cell is not expected from a bank.
    """
    wanted = sorted(positions.items(), key=lambda kv: kv[1])
    expected = width or (max(positions.values()) + 1)
    columns: dict[str, list[str]] = {name: [] for name, _ in wanted}
    lines: list[int] = []
    for number, line in enumerate(_lines(rest), first_line):
        if not line.strip():
            problems.append(
                Problem(file, "空行；明细中间不应有空行（文件可能不完整）", line=number)
            )
            continue
        cells = next(csv.reader([line], delimiter=layout.delimiter), [])
        if len(cells) < expected:
            problems.append(
                Problem(
                    file,
                    f"该行有 {len(cells)} 栏，应至少有 {expected} 栏",
                    line=number,
                    snippet=line[:60],
                )
            )
            continue
        for name, index in wanted:
            columns[name].append(cells[index])
        lines.append(number)
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        return None
    return pl.DataFrame(
        {name: pl.Series(values, dtype=pl.String) for name, values in columns.items()}
        | {"line": pl.Series(lines, dtype=pl.Int64)}
    )
