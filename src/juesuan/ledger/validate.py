"""Turn a RawDataset into a Dataset, or say everything that is wrong with it in one pass.

Line tables (收入, 支出, 结转结余) may hold a million rows, so their checks are column-wise
polars expressions; only the rows that fail are visited one by one to word their messages.
Nothing is returned as a Dataset while any ERROR remains: a rejected input stores nothing.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from decimal import Decimal

import polars as pl

from juesuan.codes import economic_codes, function_codes
from juesuan.ledger.issues import ERROR, WARNING, Issue, Source, has_errors
from juesuan.ledger.model import (
    SCHEMA,
    TAGS,
    Checkpoint,
    Dataset,
    DepartmentScore,
    Fact,
    Indicator,
    Ledger,
    Measure,
    MemberUnit,
    Procurement,
    Project,
    ProjectGoal,
    ThreePublic,
    Unit,
)
from juesuan.ledger.raw import CONTROL, ROW, RawDataset, RawTable
from juesuan.ledger.schema import (
    BALANCES_TABLE,
    BASIC_NATURES,
    COMPUTED_PREFIX,
    DIRECTION_SYNONYMS,
    FACT_KEYS,
    INCOME,
    INCOME_TABLE,
    PERFORMANCE_DATA_KINDS,
    PRIOR_YEAR_KEYS,
    PROJECT,
    PURPOSE_ITEMS,
    REPORTED,
    SPENDING,
    SPENDING_TABLE,
    TIER_SYNONYMS,
    UNIT_FIELDS,
    Column,
)
from juesuan.money import (
    AMOUNT_ACCEPTED,
    AMOUNT_PATTERN,
    FULLWIDTH,
    MAX_AMOUNT_DIGITS,
    MAX_TOTAL,
    AmountError,
    from_fen,
    parse_count,
    parse_number,
    parse_yuan,
    to_ascii,
    to_fen,
)

# Short forms people write for the fund sources.
FUND_SYNONYMS = {
    "一般公共预算": "一般公共预算财政拨款",
    "一般公共预算财政拨款收入": "一般公共预算财政拨款",
    "政府性基金预算": "政府性基金预算财政拨款",
    "政府性基金预算财政拨款收入": "政府性基金预算财政拨款",
    "国有资本经营预算": "国有资本经营预算财政拨款",
    "国有资本经营预算财政拨款收入": "国有资本经营预算财政拨款",
}
TOTAL_WORDS = ("合计", "小计", "总计")
CODE_LENGTHS = {"function_code": (3, 5, 7), "economic_code": (3, 5)}
# A line table's columns: whether its amount cell is an accepted amount, and its value in 分
# (computed once, for both the check and the line).
AMOUNT_OK = "_amount_ok"
AMOUNT_FEN = "_amount_fen"
# Under money.MAX_AMOUNT: at most MAX_AMOUNT_DIGITS digits of 元 (leading zeros aside), in 分.
_FEN_CEILING = 10 ** (MAX_AMOUNT_DIGITS + 2)


def validate(raw: RawDataset) -> tuple[Dataset | None, list[Issue]]:
    issues = list(raw.issues)
    _check_control_characters(raw, issues)
    unit = _unit(raw, issues)
    year = unit.year if unit else 2020
    frames = []
    for table in (INCOME_TABLE, SPENDING_TABLE, BALANCES_TABLE):
        raw_table = raw.tables.get(table.key)
        if raw_table is None:
            continue
        frame = _line_table(raw_table, year, issues)
        if frame is not None:
            frames.append(frame)
    projects = _projects(raw.tables.get("projects"), issues)
    lines = pl.concat(frames) if frames else Ledger.empty().frame.drop("year")
    if frames:
        _check_projects(lines, projects, raw.tables.get("projects") is not None, issues)
        _check_duplicates(lines, issues)
        _check_total(lines, issues)
    if has_errors(issues) or unit is None:
        return None, _sorted(issues)
    lines = _aligned(
        lines.with_columns(pl.col("unit").fill_null(unit.name), pl.lit(unit.year).alias("year"))
    )
    dataset = Dataset(
        unit=unit,
        ledger=Ledger(lines.select(list(SCHEMA))),
        three_public=_three_public(raw.tables.get("three_public"), issues),
        procurement=_procurement(raw.tables.get("procurement"), issues),
        facts=_facts(raw.tables.get("facts"), issues),
        prior_year=_prior_year(raw.tables.get("prior_year"), issues),
        projects=projects,
        reasons=_reasons(raw.tables.get("reasons"), issues),
        texts={title: text.strip() for title, text in raw.texts.items()},
        units=_units(raw.tables.get("units"), issues),
        purposes=_purposes(raw.tables.get("purposes"), issues),
        origin=raw.origin,
        indicators=_indicators(raw.tables.get("indicators"), projects, issues),
        project_goals=_project_goals(raw.tables.get("project_goals"), projects, issues),
        monitoring=_monitoring(raw.tables.get("monitoring"), projects, unit.year, issues),
        department_scores=_department_scores(raw.tables.get("department_scores"), issues),
        performance_data=_performance_data(raw.tables.get("performance_data"), projects, issues),
    )
    if has_errors(issues):
        return None, _sorted(issues)
    return dataset, _sorted(issues)


def _sorted(issues: list[Issue]) -> list[Issue]:
    return sorted(
        issues,
        key=lambda i: (
            i.source.file,
            i.source.sheet or "",
            i.source.row or 0,
            i.source.column or "",
        ),
    )


# ---- control characters ------------------------------------------------------------------------

_CONTROL = re.compile(CONTROL)
# The same characters one by one: searched for all at once (Aho-Corasick), a column of a million
# cells costs a fifth less than with the regular expression.
_CONTROL_CHARS = [chr(c) for c in range(0xA0) if _CONTROL.match(chr(c))]


def _control_message(text: str) -> str:
    found = _CONTROL.search(text)
    code = f"U+{ord(found.group()):04X}" if found else ""
    return f"含有看不见的控制字符（{code}），会使生成的文档出错；请删去后重新填写"


def _check_control_characters(raw: RawDataset, issues: list[Issue]) -> None:
    for table in raw.tables.values():
        if table.control_free:
            continue
        checks = _RowChecks(table, table.frame)
        for column in table.table.columns:
            if column.key in table.frame.columns:
                bad = pl.col(column.key).str.contains_any(_CONTROL_CHARS)
                checks.add(bad, column, _control_message, None)
        checks.report(issues)
    for key, text in raw.unit.items():
        if _CONTROL.search(text):
            field = next(f for f in UNIT_FIELDS if f.key == key)
            where = Source(
                raw.unit_source.file, raw.unit_source.sheet, raw.unit_rows.get(key), field.title
            )
            issues.append(Issue(ERROR, where, _control_message(text), value=text))
    for title, text in raw.texts.items():
        if not _CONTROL.search(text):
            continue
        where = raw.text_sources.get(title) or raw.texts_source or Source(raw.origin)
        if where.row is None:  # a text file: name the line
            for number, line in enumerate(text.splitlines(), start=1):
                if _CONTROL.search(line):
                    at = Source(where.file, where.sheet, number, where.column)
                    issues.append(Issue(ERROR, at, _control_message(line), value=line))
        else:
            issues.append(Issue(ERROR, where, _control_message(text), value=title))


# ---- unit ------------------------------------------------------------------------------------


def _unit(raw: RawDataset, issues: list[Issue]) -> Unit | None:
    if not raw.unit:
        if not any(i.source.file == raw.unit_source.file for i in issues):
            issues.append(
                Issue(ERROR, raw.unit_source, "单位信息是空的", accepted="至少填单位名称和年度")
            )
        return None
    values: dict[str, object] = {}
    ok = True
    for field in UNIT_FIELDS:
        text = raw.unit.get(field.key, field.default)
        row = raw.unit_rows.get(field.key, raw.unit_source.row)
        where = Source(raw.unit_source.file, raw.unit_source.sheet, row, field.title)
        if text is None or str(text).strip() == "":
            if field.required:
                issues.append(
                    Issue(ERROR, where, "单位信息缺少必填项", accepted=field.help or field.title)
                )
                ok = False
            continue
        text = str(text).strip()
        if field.key == "year":
            try:
                year = parse_count(text)
            except AmountError:
                year = None
            if year is None or not 2000 <= year <= 2100:
                issues.append(
                    Issue(ERROR, where, "年度应为四位数字", value=text, accepted="如 2020")
                )
                ok = False
                continue
            values["year"] = year
        elif field.kind == "number":
            try:
                number = parse_number(text, percent=True)
                if text.endswith(("%", "％")):
                    number /= 100
            except AmountError:
                number = None
            if number is None or not 0 <= number <= 1:
                issues.append(
                    Issue(
                        ERROR,
                        where,
                        "阈值应为 0 到 1 之间的小数",
                        value=text,
                        accepted="如 0.10 或 10%",
                    )
                )
                ok = False
                continue
            values[field.key] = number
        else:
            values[field.key] = text
    return Unit(**values) if ok else None


# ---- line tables -----------------------------------------------------------------------------


def _issue_rows(
    raw: RawTable,
    frame: pl.DataFrame,
    bad: pl.Expr,
    column: Column,
    message: Callable[[str | None], str] | str,
    accepted: str | None,
    issues: list[Issue],
    severity: str = ERROR,
) -> None:
    """Report every row matching `bad`, naming the row, the column and the value found."""
    rows = frame.filter(bad).select(
        ROW, pl.col(column.key) if column.key in frame.columns else pl.lit(None)
    )
    for row, value in rows.iter_rows():
        text = message(value) if callable(message) else message
        issues.append(
            Issue(severity, raw.source(row, column), text, value=value, accepted=accepted)
        )


class _RowChecks:
    """Checks over every row of a table, run together in one pass over the frame; only the
    checks some row fails go back over the rows to word their issues."""

    def __init__(self, raw: RawTable, frame: pl.DataFrame):
        self.raw, self.frame = raw, frame
        self.checks: list[tuple] = []

    def add(self, bad: pl.Expr, column: Column, message, accepted: str | None) -> None:
        self.checks.append((bad, column, message, accepted))

    def report(self, issues: list[Issue]) -> None:
        if not self.checks:
            return
        failed = self.frame.select(
            [bad.any().alias(str(i)) for i, (bad, *_) in enumerate(self.checks)]
        ).row(0)
        for hit, (bad, column, message, accepted) in zip(failed, self.checks, strict=True):
            if hit:
                _issue_rows(self.raw, self.frame, bad, column, message, accepted, issues)


def _line_table(raw: RawTable, year: int, issues: list[Issue]) -> pl.DataFrame:
    table = raw.table
    frame = raw.frame
    # Absent optional columns behave as empty ones.
    missing = [c.key for c in table.columns if c.key not in frame.columns]
    frame = frame.with_columns([pl.lit(None, pl.String).alias(k) for k in missing])
    distinct = _Distinct(frame, raw.distinct)
    # Defaults and synonyms are applied only to the columns that have a cell needing them:
    # rewriting a full column of a million text cells costs more than the check.
    for c in table.columns:
        if c.default is not None and frame[c.key].null_count():
            frame = distinct.rewrite(frame, pl.col(c.key).fill_null(c.default))
    if distinct.any("fund", pl.col("fund").is_in(list(FUND_SYNONYMS))):
        frame = distinct.rewrite(frame, pl.col("fund").replace(FUND_SYNONYMS))
    for key in CODE_LENGTHS:
        # 208 01 09 / 208-01-09 / 2080109.0 from a spreadsheet all mean 2080109; codes that are
        # all digits already (the usual case) are left as they are without three passes.
        if distinct.any(key, pl.col(key).str.contains("[^0-9]")):
            frame = distinct.rewrite(
                frame,
                _ascii(pl.col(key)).str.replace_all(r"[\s\-]", "").str.replace(r"\.0$", ""),
            )

    # Stated totals (合计/小计 rows, or 类/款 rows whose 项 are also present) are checked
    # against their details and then left out: the ledger keeps details only.
    frame = _stated_totals(raw, frame, distinct, issues)

    typed = pl.col("amount")
    if _any(frame, typed.str.len_bytes() != typed.str.len_chars()):
        typed = _ascii(typed)  # only when some cell has a non-ASCII character to make ASCII
    # Read as written first: amounts without thousands separators (nearly all) need no copy
    # without commas. Only when a cell of the accepted form did not read is the column read
    # again without its commas.
    frame = frame.with_columns(
        _amount_fen(typed, commas=False).alias(AMOUNT_FEN),
        typed.str.contains(AMOUNT_PATTERN).alias(AMOUNT_OK),
    )
    if _any(frame, pl.col(AMOUNT_OK) & pl.col(AMOUNT_FEN).is_null()):
        frame = frame.with_columns(_amount_fen(typed).alias(AMOUNT_FEN))
    frame = frame.with_columns(
        _is_amount_fen(pl.col(AMOUNT_OK), pl.col(AMOUNT_FEN)).alias(AMOUNT_OK)
    )
    checks = _RowChecks(raw, frame)
    for column in table.columns:
        if column.key in missing:
            continue  # the header check already said the column is missing
        if column.required:
            checks.add(pl.col(column.key).is_null(), column, "必填项为空", column.help or None)
        if column.kind == "choice":
            bad = pl.col(column.key).is_not_null() & ~pl.col(column.key).is_in(list(column.choices))
            if distinct.any(column.key, bad):  # only then are the lines searched
                checks.add(bad, column, "不是可选的值", "、".join(column.choices))
        elif column.kind in ("function_code", "economic_code"):
            _check_codes(raw, frame, column, year, checks, issues)
        elif column.kind == "amount":
            bad = pl.col(column.key).is_not_null() & ~pl.col(AMOUNT_OK)
            checks.add(bad, column, _amount_message, AMOUNT_ACCEPTED)

    if table is SPENDING_TABLE:
        checks.add(
            (pl.col("nature") == PROJECT) & pl.col("project").is_null(),
            table.column("project"),
            "项目支出必须填项目名称",
            "“项目”表中登记的项目名称",
        )
        checks.add(
            pl.col("nature").is_in(list(BASIC_NATURES)) & pl.col("economic_code").is_null(),
            table.column("economic_code"),
            "基本支出必须填经济分类科目编码",
            "部门预算支出经济分类款级编码，如 30101",
        )
        bad = pl.col("economic_code").is_not_null() & (pl.col("economic_code").str.len_chars() != 5)
        if distinct.any("economic_code", bad):
            checks.add(
                bad,
                table.column("economic_code"),
                "支出明细的经济分类应细化到款（5位）",
                "如 30101",
            )
    checks.report(issues)

    direction = (
        pl.col("kind")
        if table is BALANCES_TABLE
        else pl.lit(INCOME if table is INCOME_TABLE else SPENDING)
    )
    result = frame.select(
        direction.alias("direction"),
        pl.col("phase") if "phase" in frame.columns else pl.lit("决算").alias("phase"),
        pl.col("fund"),
        pl.col("function_code"),
        (
            pl.col("economic_code") if "economic_code" in frame.columns else pl.lit(None, pl.String)
        ).alias("economic_code"),
        (pl.col("nature") if "nature" in frame.columns else pl.lit(None, pl.String)).alias(
            "nature"
        ),
        (pl.col("project") if "project" in frame.columns else pl.lit(None, pl.String)).alias(
            "project"
        ),
        # Only accepted amounts become 分 (their 13 digits cannot overflow); the rest are refused.
        pl.when(pl.col(AMOUNT_OK)).then(pl.col(AMOUNT_FEN).cast(pl.Int64)).alias("amount_fen"),
        pl.col("unit"),
        pl.col("note"),
        pl.lit(raw.file).alias("file"),
        pl.lit(raw.sheet, pl.String).alias("sheet"),
        pl.col(ROW).alias("row"),
    )
    return _aligned(result)


def _aligned(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every column cut at the chunk boundaries of its most cut one.

    The tables' cells come in the reader's chunks, their constant columns (direction, file) in
    one each: a frame whose columns are cut apart is copied whole, text and all, by its next
    query, and the copy is not kept. Cutting the few columns that differ costs nothing.
    """
    columns = frame.get_columns()
    lengths = max((c.chunk_lengths() for c in columns), key=len)
    starts = list(itertools.accumulate(lengths, initial=0))
    for i, column in enumerate(columns):
        if column.chunk_lengths() != lengths:
            whole = column.rechunk()
            columns[i] = pl.concat(
                [whole.slice(start, n) for start, n in zip(starts, lengths, strict=False)],
                rechunk=False,
            )
    return pl.DataFrame(columns)


def _ascii(text: pl.Expr) -> pl.Expr:
    """The digit rule of juesuan.money.to_ascii, column-wise: full-width forms made ASCII."""
    return text.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values()))


def _is_amount(text: pl.Expr) -> pl.Expr:
    """Column-wise twin of parse_yuan's acceptance: the amount pattern, under the ceiling.

    Other non-ASCII digits fail the ASCII-only pattern, so they are refused here too.
    """
    typed = _ascii(text)
    return _is_amount_fen(typed.str.contains(AMOUNT_PATTERN), _amount_fen(typed))


def _amount_fen(typed: pl.Expr, *, commas: bool = True) -> pl.Expr:
    """ASCII amount text as 分 (Int128), read exactly as a decimal once its commas are gone
    (`commas=False`: read as it is, null where it has any); null where it is no number. Only
    text that _is_amount_fen accepts is taken as an amount: the decimal reading alone would also
    take "1.", ".5", "1e5" and cut a third decimal."""
    text = typed.str.replace_all(",", "", literal=True) if commas else typed
    return text.cast(pl.Decimal(38, 2), strict=False).to_physical()


def _is_amount_fen(matches: pl.Expr, fen: pl.Expr) -> pl.Expr:
    """Whether amount text is accepted, given whether its ASCII form matches AMOUNT_PATTERN
    (sign, digits, separators every three, at most two decimals) and its 分 from _amount_fen:
    the pattern, and under the ceiling."""
    return (matches & (fen.abs() < _FEN_CEILING)).fill_null(False)


def _any(frame: pl.DataFrame, expr: pl.Expr) -> bool:
    return bool(frame.select(expr.any()).item())


class _Distinct:
    """The distinct values of a line table's columns, for checks that depend on one column
    alone: a column of a million cells has a few hundred in a ledger. Taken from the reader
    when it found them, else found once per column; a column rewritten cell by cell has its
    values rewritten the same way, not found again. Once stated totals are left out, they may
    still hold a value of those rows only: a check on them may then find a value that no line
    has, so it tells whether the lines need searching, never what is wrong with them."""

    def __init__(self, frame: pl.DataFrame, known: dict[str, pl.Series]):
        self.frame = frame
        self.values = {key: values.to_frame() for key, values in known.items()}

    def any(self, column: str, expr: pl.Expr) -> bool:
        """Whether some cell of `column` passes `expr` (of that column alone)."""
        if column not in self.frame.columns:
            return False
        if column not in self.values:
            self.values[column] = self.frame.select(pl.col(column).unique())
        return _any(self.values[column], expr)

    def rewrite(self, frame: pl.DataFrame, expr: pl.Expr) -> pl.DataFrame:
        """`frame` with one column replaced by `expr` of that column alone, cell by cell."""
        self.frame = frame.with_columns(expr)
        (column,) = expr.meta.root_names()
        if column in self.values:
            self.values[column] = self.values[column].select(expr.unique())
        return self.frame


def _amount_message(value: str | None) -> str:
    try:
        parse_yuan(value)
    except AmountError as exc:
        return str(exc)
    return "不是金额"


def _check_codes(
    raw: RawTable,
    frame: pl.DataFrame,
    column: Column,
    year: int,
    checks: _RowChecks,
    issues: list[Issue],
) -> None:
    key = column.key
    lengths = CODE_LENGTHS[key]
    pattern = "^(" + "|".join(rf"[0-9]{{{n}}}" for n in lengths) + ")$"
    bad = pl.col(key).is_not_null() & ~pl.col(key).str.contains(pattern)
    what = "功能分类" if key == "function_code" else "经济分类"
    accepted = f"{what}编码为 {'/'.join(map(str, lengths))} 位数字"
    name_key = "function_name" if key == "function_code" else "economic_name"
    # The distinct (code, name) pairs first: a group-by over the lines is several times cheaper
    # than filtering them and taking unique rows, and a code's form is judged on them, not on
    # every line (a pattern search over a million cells costs more than the group-by).
    pairs = frame.group_by(
        key,
        pl.col(name_key) if name_key in frame.columns else pl.lit(None, pl.String).alias(name_key),
    ).len()
    if _any(pairs, bad):  # only then are the lines searched, to name each one
        checks.add(bad, column, "科目编码格式不对", accepted)
    codes = function_codes(year) if key == "function_code" else economic_codes(year)
    pairs = pairs.filter(pl.col(key).is_not_null() & ~bad).select(key, name_key)
    problems = {}
    for code, name in pairs.iter_rows():
        problem = codes.check(code, name)
        if problem is not None:
            problems[(code, name)] = problem
    if not problems:
        return
    by_code = pl.DataFrame(
        {"_code": [c for c, _ in problems], "_name": [n for _, n in problems]},
        schema={"_code": pl.String, "_name": pl.String},
    )
    rows = frame.select(
        ROW, key, name_key if name_key in frame.columns else pl.lit(None, pl.String).alias(name_key)
    )
    rows = rows.join(
        by_code, left_on=[key, name_key], right_on=["_code", "_name"], nulls_equal=True
    )
    for row, code, name in rows.iter_rows():
        problem = problems[(code, name)]
        issues.append(
            Issue(
                WARNING,
                raw.source(row, column),
                problem.message,
                value=code,
                accepted="、".join(f"{s.code} {s.name}" for s in problem.suggestions) or None,
            )
        )


def _stated_totals(
    raw: RawTable, frame: pl.DataFrame, distinct: _Distinct, issues: list[Issue]
) -> pl.DataFrame:
    """Check 合计/小计 rows and 类/款 rows that have 项 details; drop them from the lines."""
    code = pl.col("function_code")
    names = pl.col("function_name") if "function_name" in frame.columns else pl.lit(None, pl.String)
    is_total_code = code.is_in(list(TOTAL_WORDS)) | code.str.contains(r"^[0-9]{3}([0-9]{2})?$")
    is_total_name = names.str.contains_any(list(TOTAL_WORDS))
    # Most ledgers have no total rows: each mark depends on one column, so its distinct values
    # (a few hundred) tell, and no line is searched or copied.
    if not (
        distinct.any("function_code", is_total_code) or distinct.any("function_name", is_total_name)
    ):
        return frame
    is_word = code.is_in(list(TOTAL_WORDS)) | is_total_name
    is_candidate = is_word | code.str.contains(r"^[0-9]{3}([0-9]{2})?$")
    marks = frame.select(
        is_word.fill_null(False).alias("word"), is_candidate.fill_null(False).alias("candidate")
    )
    word, candidate = marks.to_series(0), marks.to_series(1)
    candidates = frame.filter(candidate)
    detail = frame.filter(~word)
    group = [k for k in ("unit", "kind", "phase", "fund", "nature") if k in frame.columns]
    # Details are the rows whose code is not the prefix of another row's code.
    codes = set(detail["function_code"].drop_nulls().to_list())
    parents = {c[:n] for c in codes for n in (3, 5) if len(c) > n}
    amounts = detail.with_columns(pl.col("amount").alias("_amount")).filter(
        _is_amount(pl.col("_amount")) & ~code.is_in(list(parents)).fill_null(False)
    )
    drop: list[int] = []
    column = raw.table.column("amount")
    for row in candidates.iter_rows(named=True):
        stated_text = row["amount"] or ""
        try:
            stated = parse_yuan(stated_text)
        except AmountError:
            continue  # the amount check reports it
        same = pl.lit(True)
        for key in group:
            if row.get(key) is not None:
                same = same & (pl.col(key) == row[key])
        prefix = row["function_code"] or ""
        is_total_word = prefix in TOTAL_WORDS or any(
            w in (row.get("function_name") or "") for w in TOTAL_WORDS
        )
        if is_total_word:
            scope = amounts.filter(same)
        else:
            scope = amounts.filter(
                same & code.str.starts_with(prefix) & (code.str.len_chars() > len(prefix))
            )
            if scope.is_empty():
                continue  # a 类/款 line with no details under it is a line, not a total
        details = sum((parse_yuan(v) for v in scope["_amount"].to_list()), Decimal(0))
        where = raw.source(row[ROW], column)
        label = "合计行" if is_total_word else f"科目 {prefix} 的小计行"
        if details != stated:
            issues.append(
                Issue(
                    ERROR,
                    where,
                    f"{label}与其明细之和不符：填的是 {stated:,.2f} 元，明细之和为 {details:,.2f} 元，"
                    f"相差 {stated - details:,.2f} 元",
                    value=stated_text,
                    accepted="删去合计/小计行（由系统计算），或更正明细",
                )
            )
        else:
            issues.append(
                Issue(
                    WARNING,
                    where,
                    f"{label}与明细一致，已按明细计算，此行不计入",
                    value=stated_text,
                )
            )
        drop.append(row[ROW])
    return frame.filter(~pl.col(ROW).is_in(drop))


def _check_projects(
    lines: pl.DataFrame, projects: dict[str, Project], registered: bool, issues: list[Issue]
) -> None:
    project = pl.col("project")
    if not _any(lines, project.is_not_null()):
        return
    unknown = lines.filter(project.is_not_null() & ~project.is_in(list(projects)))
    if not registered:
        first = unknown.row(0, named=True)
        issues.append(
            Issue(
                WARNING,
                Source(first["file"], first["sheet"]),
                "数据中有项目名称，但没有“项目”表；项目绩效等将无法生成",
                accepted="增加“项目”表登记每个项目",
            )
        )
        return
    column = SPENDING_TABLE.column("project")
    for row in unknown.iter_rows(named=True):
        close = difflib.get_close_matches(row["project"], list(projects), n=3, cutoff=0.4)
        issues.append(
            Issue(
                ERROR,
                Source(row["file"], row["sheet"], row["row"], column.title),
                "项目未在“项目”表登记",
                value=row["project"],
                accepted="、".join(close) if close else "先在“项目”表登记",
            )
        )


def _check_total(lines: pl.DataFrame, issues: list[Issue]) -> None:
    """All amounts together under money.MAX_TOTAL, so no sum over the ledger can overflow."""
    size = pl.col("amount_fen").abs().cast(pl.Int128)
    total = lines.select(size.sum()).item()
    if total is None or total <= to_fen(MAX_TOTAL):
        return
    largest = lines.sort(size, descending=True, nulls_last=True).row(0, named=True)
    issues.append(
        Issue(
            ERROR,
            Source(largest["file"], largest["sheet"], largest["row"], "金额"),
            f"全部金额（不计正负）合计 {from_fen(total):,} 元，超过上限 {MAX_TOTAL:,} 元；"
            "此行是最大的一笔，请核对是否多填了数字",
            value=f"{from_fen(largest['amount_fen']):,}",
        )
    )


def _check_duplicates(lines: pl.DataFrame, issues: list[Issue]) -> None:
    keys = ["unit", *TAGS[2:], "amount_fen", "note", "file"]  # the year is not set yet
    # Equal lines have equal hashes of their keys: the hashes, sorted, tell in one pass over
    # integers which values repeat (almost never one), and only the lines with those are
    # compared on every key. Finding repeats by hashing the hashes, or by the amount first
    # (in 分 a third of the lines share theirs), costs four times as much. Lines whose amount
    # was refused are not compared: they are reported already.
    hashes = lines.select(keys).hash_rows()
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    if repeated.is_empty():
        return
    read = lines.filter(pl.col("amount_fen").is_not_null() & hashes.is_in(repeated.implode()))
    dup = read.filter(pl.struct(keys).is_duplicated())
    if dup.is_empty():
        return
    first_row: dict[tuple, int] = {}
    for row in dup.sort("row").iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        if key not in first_row:
            first_row[key] = row["row"]
            continue
        issues.append(
            Issue(
                ERROR,
                Source(row["file"], row["sheet"], row["row"]),
                f"与第{first_row[key]}行完全相同（重复录入？）",
                accepted="删除重复行；确属两笔的，请在备注或项目中区分",
            )
        )


# ---- small tables ----------------------------------------------------------------------------


def _rows(raw: RawTable | None, issues: list[Issue]):
    """Yield (row number, {key: text}) for each row, after required and uniqueness checks."""
    if raw is None:
        return
    table = raw.table
    seen: dict[tuple, int] = {}
    for record in raw.frame.iter_rows(named=True):
        row = record[ROW]
        values = {c.key: record.get(c.key) or c.default for c in table.columns}
        ok = True
        for column in table.columns:
            if column.required and values[column.key] is None:
                issues.append(
                    Issue(
                        ERROR, raw.source(row, column), "必填项为空", accepted=column.help or None
                    )
                )
                ok = False
        if table.unique and ok:
            key = tuple(values[k] for k in table.unique)
            if key in seen:
                title = "、".join(table.column(k).title for k in table.unique)
                issues.append(
                    Issue(
                        ERROR,
                        raw.source(row),
                        f"与第{seen[key]}行的{title}相同，每项只能填一行",
                        value="、".join(map(str, key)),
                    )
                )
                ok = False
            seen.setdefault(key, row)
        if ok:
            yield row, values


def _typed(raw: RawTable, row: int, column: Column, text: str | None, issues: list[Issue]):
    """A cell as its declared kind; None (and an issue) when it is not one."""
    if text is None:
        return None
    where = raw.source(row, column)
    if column.kind == "amount":
        try:
            return parse_yuan(text)
        except AmountError as exc:
            issues.append(Issue(ERROR, where, str(exc), value=text, accepted=AMOUNT_ACCEPTED))
            return None
    if column.kind == "count":
        try:
            return parse_count(text)
        except AmountError as exc:
            issues.append(Issue(ERROR, where, str(exc), value=text, accepted="如 0、5、56"))
            return None
    if column.kind == "choice":
        text = FUND_SYNONYMS.get(text, text) if column.key == "fund" else text
        if text not in column.choices:
            issues.append(
                Issue(ERROR, where, "不是可选的值", value=text, accepted="、".join(column.choices))
            )
            return None
    return text


def _three_public(raw: RawTable | None, issues: list[Issue]) -> tuple[ThreePublic, ...]:
    items = []
    for row, values in _rows(raw, issues):
        typed = {c.key: _typed(raw, row, c, values[c.key], issues) for c in raw.table.columns}
        if (
            typed["item"]
            and typed["fund"]
            and typed["budget"] is not None
            and typed["actual"] is not None
        ):
            items.append(
                ThreePublic(
                    typed["item"],
                    typed["fund"],
                    typed["budget"],
                    typed["actual"],
                    typed["batches"],
                    typed["persons"],
                    raw.source(row),
                    typed["note"],
                )
            )
    return tuple(items)


def _procurement(raw: RawTable | None, issues: list[Issue]) -> tuple[Procurement, ...]:
    items = []
    for row, values in _rows(raw, issues):
        typed = {c.key: _typed(raw, row, c, values[c.key], issues) for c in raw.table.columns}
        if typed["kind"] and typed["amount"] is not None:
            items.append(
                Procurement(
                    typed["kind"],
                    typed["amount"],
                    typed["sme_amount"],
                    typed["small_micro_amount"],
                    raw.source(row),
                    typed["note"],
                )
            )
    return tuple(items)


def _number(raw: RawTable, row: int, column: Column, kind: str, text: str, issues: list[Issue]):
    if kind == "amount":
        return _typed(raw, row, Column(column.key, column.title, "amount"), text, issues)
    if kind == "count":
        return _typed(raw, row, Column(column.key, column.title, "count"), text, issues)
    try:
        return parse_number(text)
    except AmountError as exc:
        issues.append(
            Issue(ERROR, raw.source(row, column), str(exc), value=text, accepted="如 79.6")
        )
        return None


def _facts(raw: RawTable | None, issues: list[Issue]) -> dict[str, Fact]:
    return _keyed(
        raw, issues, "value", FACT_KEYS.get, list(FACT_KEYS), "事项", "见“填表说明”中的事项清单"
    )


def _prior_year(raw: RawTable | None, issues: list[Issue]) -> dict[str, Fact]:
    def kind(key: str) -> str | None:
        is_code = re.fullmatch("[0-9]{3}|[0-9]{5}|[0-9]{7}", key) is not None
        return "amount" if key in PRIOR_YEAR_KEYS or is_code else None

    return _keyed(
        raw,
        issues,
        "amount",
        kind,
        list(PRIOR_YEAR_KEYS),
        "上年数项目",
        "见“填表说明”，或功能分类编码",
    )


def _keyed(
    raw: RawTable | None,
    issues: list[Issue],
    value_key: str,
    kind_of: Callable[[str], str | None],
    known: list[str],
    what: str,
    fallback: str,
) -> dict[str, Fact]:
    """Key/value tables: each key must be a known one; its value has the key's kind."""
    facts = {}
    for row, values in _rows(raw, issues):
        key = values["key"]
        kind = kind_of(key)
        if kind is None:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.3)
            issues.append(
                Issue(
                    ERROR,
                    raw.source(row, raw.table.column("key")),
                    f"不是可填的{what}",
                    value=key,
                    accepted="、".join(close) if close else fallback,
                )
            )
            continue
        value = _number(raw, row, raw.table.column(value_key), kind, values[value_key], issues)
        if value is not None:
            facts[key] = Fact(key, value, raw.source(row), values["note"])
    return facts


def _projects(raw: RawTable | None, issues: list[Issue]) -> dict[str, Project]:
    return {
        values["name"]: Project(
            values["name"], values["code"], values["kind"], values["note"], raw.source(row)
        )
        for row, values in _rows(raw, issues)
    }


def _reasons(raw: RawTable | None, issues: list[Issue]) -> dict[tuple[str, str], str]:
    reasons = {}
    for row, values in _rows(raw, issues):
        kind = _typed(raw, row, raw.table.column("kind"), values["kind"], issues)
        if kind:
            reasons[(kind, values["topic"])] = values["reason"]
    return reasons


def _units(raw: RawTable | None, issues: list[Issue]) -> tuple[MemberUnit, ...]:
    return tuple(
        MemberUnit(values["name"], values["note"], raw.source(row))
        for row, values in _rows(raw, issues)
    )


def _purposes(raw: RawTable | None, issues: list[Issue]) -> dict[str, str]:
    """Each purpose's topic is a 项 (7 digits) or a 三公 item; its words follow "主要用于："."""
    purposes = {}
    for row, values in _rows(raw, issues):
        topic = to_ascii(values["topic"]).strip()
        if not (re.fullmatch("[0-9]{7}", topic) or topic in PURPOSE_ITEMS):
            issues.append(
                Issue(
                    ERROR,
                    raw.source(row, raw.table.column("topic")),
                    "不是项级功能分类编码，也不是“三公”经费的一项",
                    value=topic,
                    accepted="7位功能分类编码（如 2013901），或 " + "、".join(PURPOSE_ITEMS),
                )
            )
            continue
        purposes[topic] = values["purpose"].strip().rstrip("。；;")
    return purposes


# ---- performance (预算绩效) ---------------------------------------------------------------------

_LIST_SEPARATORS = re.compile(r"[、,，;；]+")
_PERIOD_PATTERNS = (
    re.compile(r"^(?P<year>[0-9]{4})[-/.年](?P<month>[0-9]{1,2})月?(份)?$"),
    re.compile(r"^(?P<year>[0-9]{4})(?P<month>[0-9]{2})$"),
    re.compile(r"^(?P<month>[0-9]{1,2})月(份|末|底)?$"),
    re.compile(r"^(?P<month>[0-9]{1,2})$"),
)


def _registered(
    raw: RawTable, row: int, column: Column, name: str, projects: dict[str, Project], issues
) -> bool:
    """Whether `name` is a project in 项目; an ERROR naming the cell when it is not."""
    if name in projects:
        return True
    close = difflib.get_close_matches(name, list(projects), n=3, cutoff=0.4)
    issues.append(
        Issue(
            ERROR,
            raw.source(row, column),
            "项目未在“项目”表登记",
            value=name,
            accepted="、".join(close) if close else "先在“项目”表登记",
        )
    )
    return False


def _choice(
    raw: RawTable,
    row: int,
    column: Column,
    text: str | None,
    synonyms: dict[str, str],
    issues: list[Issue],
) -> str | None:
    if text is None:
        return None
    compact = re.sub(r"\s+", "", text)
    value = synonyms.get(compact, compact)
    if value in column.choices:
        return value
    also = [k for k in synonyms if len(k) <= 4]
    issues.append(
        Issue(
            ERROR,
            raw.source(row, column),
            "不是可选的值",
            value=text,
            accepted="、".join(column.choices) + (f"（也可写：{'、'.join(also)}）" if also else ""),
        )
    )
    return None


def _decimal(
    raw: RawTable,
    row: int,
    column: Column,
    text: str | None,
    issues: list[Issue],
    *,
    percent: bool = False,
    accepted: str = "数字，如 10 或 6.25",
) -> Decimal | None:
    """A number cell (≥ 0); a trailing % is accepted where the column holds a percentage."""
    if text is None:
        return None
    message = "应为不小于 0 的数字"
    try:
        value = parse_number(text, percent=percent)
    except AmountError as exc:
        value, message = None, f"{message}：{exc}"
    if value is None or value < 0:
        issues.append(Issue(ERROR, raw.source(row, column), message, value=text, accepted=accepted))
        return None
    return value


def _actual_source(raw: RawTable, row: int, column: Column, text: str, issues) -> str | None:
    compact = re.sub(r"\s+", "", text).replace("：", ":")
    if compact == REPORTED:
        return REPORTED
    if compact.startswith(COMPUTED_PREFIX) and len(compact) > len(COMPUTED_PREFIX):
        return compact
    issues.append(
        Issue(
            ERROR,
            raw.source(row, column),
            "实际值来源应为“填报”或“计算:名称”",
            value=text,
            accepted="填报、计算:发放人数、计算:执行数、计算:失败退回率、计算:人均补贴成本 等",
        )
    )
    return None


def _indicators(
    raw: RawTable | None, projects: dict[str, Project], issues: list[Issue]
) -> tuple[Indicator, ...]:
    items = []
    for row, values in _rows(raw, issues):
        column = raw.table.column
        count = len(issues)
        _registered(raw, row, column("project"), values["project"], projects, issues)
        direction = _choice(
            raw, row, column("direction"), values["direction"], DIRECTION_SYNONYMS, issues
        )
        tier = _choice(raw, row, column("tier"), values["tier"], TIER_SYNONYMS, issues)
        weight = _decimal(raw, row, column("weight"), values["weight"], issues)
        score = _decimal(raw, row, column("score"), values["score"], issues)
        source = _actual_source(raw, row, column("actual_source"), values["actual_source"], issues)
        if len(issues) > count:
            continue
        items.append(
            Indicator(
                project=values["project"],
                level1=values["level1"],
                level2=values["level2"],
                level3=values["level3"],
                target=values["target"],
                direction=direction,
                unit=values["unit"],
                weight=weight,
                actual=values["actual"],
                tier=tier,
                actual_source=source or REPORTED,
                score=score,
                reason=values["reason"],
                note=values["note"],
                source=raw.source(row),
            )
        )
    return tuple(items)


def _project_goals(
    raw: RawTable | None, projects: dict[str, Project], issues: list[Issue]
) -> dict[str, ProjectGoal]:
    goals = {}
    for row, values in _rows(raw, issues):
        column = raw.table.column
        if not _registered(raw, row, column("project"), values["project"], projects, issues):
            continue
        rate = values["stated_rate"]
        count = len(issues)
        _decimal(raw, row, column("stated_rate"), rate, issues, percent=True, accepted="如 86.33%")
        if len(issues) > count:
            continue
        goals[values["project"]] = ProjectGoal(
            project=values["project"],
            expected=values["expected"],
            achieved=values["achieved"],
            problems=values["problems"],
            measures=values["measures"],
            stated_rate=rate,
            note=values["note"],
            source=raw.source(row),
        )
    return goals


def _month(raw: RawTable, row: int, column: Column, text: str, year: int, issues) -> int | None:
    try:
        compact = to_ascii(re.sub(r"\s+", "", text))
    except AmountError:
        compact = ""  # an odd digit: refused below like any other unreadable period
    for pattern in _PERIOD_PATTERNS:
        match = pattern.match(compact)
        if match is None:
            continue
        month = int(match.group("month"))
        if not 1 <= month <= 12:
            break
        found = match.groupdict().get("year")
        if found is not None and int(found) != year:
            issues.append(
                Issue(
                    WARNING,
                    raw.source(row, column),
                    f"监控时点的年度不是本数据的年度 {year}",
                    value=text,
                )
            )
        return month
    issues.append(
        Issue(
            ERROR,
            raw.source(row, column),
            "监控时点应为年月或月份",
            value=text,
            accepted=f"如 {year}-06、{year}年6月、6月",
        )
    )
    return None


def _monitoring(
    raw: RawTable | None, projects: dict[str, Project], year: int, issues: list[Issue]
) -> tuple[Checkpoint, ...]:
    points = []
    seen: dict[tuple[str | None, int], int] = {}
    for row, values in _rows(raw, issues):
        column = raw.table.column
        count = len(issues)
        project = values["project"]
        if project is not None:
            _registered(raw, row, column("project"), project, projects, issues)
        month = _month(raw, row, column("period"), values["period"], year, issues)
        planned = _decimal(
            raw, row, column("planned"), values["planned"], issues, percent=True, accepted="如 50%"
        )
        actual = _decimal(
            raw, row, column("actual"), values["actual"], issues, percent=True, accepted="如 47.5%"
        )
        if len(issues) > count and any(i.severity == ERROR for i in issues[count:]):
            continue
        if (project, month) in seen:
            issues.append(
                Issue(
                    ERROR,
                    raw.source(row, column("period")),
                    f"与第{seen[(project, month)]}行是同一项目的同一监控时点",
                    value=values["period"],
                )
            )
            continue
        seen[(project, month)] = row
        points.append(
            Checkpoint(
                project=project,
                period=values["period"],
                month=month,
                actual=actual,
                planned=planned,
                reason=values["reason"],
                action=values["action"],
                note=values["note"],
                source=raw.source(row),
            )
        )
    return tuple(points)


def _department_scores(raw: RawTable | None, issues: list[Issue]) -> tuple[DepartmentScore, ...]:
    scores = []
    for row, values in _rows(raw, issues):
        count = len(issues)
        score = _decimal(raw, row, raw.table.column("score"), values["score"], issues)
        if len(issues) > count:
            continue
        scores.append(
            DepartmentScore(
                item=values["item"],
                score=score,
                explanation=values["explanation"],
                note=values["note"],
                source=raw.source(row),
            )
        )
    return tuple(scores)


def _performance_data(
    raw: RawTable | None, projects: dict[str, Project], issues: list[Issue]
) -> tuple[Measure, ...]:
    measures = []
    for row, values in _rows(raw, issues):
        column = raw.table.column
        count = len(issues)
        project, key, text = values["project"], values["key"], values["value"]
        _registered(raw, row, column("project"), project, projects, issues)
        sum_of: tuple[str, ...] = ()
        if values["sum_of"] is not None:
            names = _LIST_SEPARATORS.split(values["sum_of"])
            sum_of = tuple(n.strip() for n in names if n.strip())
            for name in sum_of:
                _registered(raw, row, column("sum_of"), name, projects, issues)
            if project in sum_of:
                issues.append(
                    Issue(
                        ERROR,
                        raw.source(row, column("sum_of")),
                        "汇总项目不能包含本项目",
                        value=values["sum_of"],
                    )
                )
        if (text is None) == (not sum_of):
            issues.append(
                Issue(
                    ERROR,
                    raw.source(row, column("value")),
                    "“数值”和“汇总项目”应填且只填一个",
                    value=text,
                    accepted="填数值；或不填数值，在“汇总项目”中列出项目",
                )
            )
            continue
        value: Decimal | int | None = None
        if text is not None:
            kind = PERFORMANCE_DATA_KINDS.get(key, "number")
            value = (
                _number(raw, row, column("value"), kind, text, issues)
                if kind != "number"
                else _decimal(raw, row, column("value"), text, issues)
            )
        if len(issues) > count:
            continue
        measures.append(
            Measure(
                project=project,
                key=key,
                value=value,
                sum_of=sum_of,
                note=values["note"],
                source=raw.source(row),
            )
        )
    return tuple(measures)
