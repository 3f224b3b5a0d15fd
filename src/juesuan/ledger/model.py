"""Ledger lines and the typed facts beside them; a Dataset is one unit-year of both.

Lines are held column-wise in a polars DataFrame (amounts as integer 分, never float) so that a
million lines select and group in milliseconds; `Line` gives one row as a plain value. Nothing
here mutates: every selection returns a new Ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

import polars as pl

from juesuan.ledger.issues import Source
from juesuan.money import from_fen

TAGS = (
    "unit",
    "year",
    "direction",
    "phase",
    "fund",
    "function_code",
    "economic_code",
    "nature",
    "project",
)
# The tags whose values come from short lists (phases, funds, code tables): sums by them stay
# small. A consolidation has as many units and projects as it has lines, nearly.
COMPACT_TAGS = tuple(t for t in TAGS if t not in ("unit", "project"))
SOURCE_COLUMNS = ("file", "sheet", "row")
SCHEMA: dict[str, pl.DataType] = {
    "unit": pl.String,
    "year": pl.Int32,
    "direction": pl.String,
    "phase": pl.String,
    "fund": pl.String,
    "function_code": pl.String,
    "economic_code": pl.String,
    "nature": pl.String,
    "project": pl.String,
    # A line is at most 10^15 分 (money.MAX_AMOUNT) and a loaded dataset's lines at most
    # money.MAX_TOTAL in all, so no Int64 sum over them can wrap (polars wraps silently).
    "amount_fen": pl.Int64,
    "note": pl.String,
    "file": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
}

# Filter keys that match a code and everything below it (208 matches 2080109).
PREFIX_FILTERS = {"function": "function_code", "economic": "economic_code"}


@dataclass(frozen=True, slots=True)
class Line:
    unit: str
    year: int
    direction: str  # 收入 / 支出 / 年初结转和结余 / 年末结转和结余 / 使用非财政拨款结余 / 结余分配
    phase: str  # 年初预算 / 调整预算 / 决算
    fund: str
    function_code: str | None
    economic_code: str | None
    nature: str | None
    project: str | None
    amount: Decimal  # 元
    source: Source
    note: str | None = None


def _predicate(key: str, value: object) -> pl.Expr:
    if key in PREFIX_FILTERS:
        column = pl.col(PREFIX_FILTERS[key])
        prefixes = value if isinstance(value, (tuple, list, set, frozenset)) else (value,)
        expr = pl.lit(False)
        for prefix in prefixes:
            expr = expr | column.str.starts_with(str(prefix))
        return expr
    if key not in SCHEMA:
        raise KeyError(f"unknown ledger filter {key!r}")
    column = pl.col(key)
    if value is None:
        return column.is_null()
    if isinstance(value, (tuple, list, set, frozenset)):
        return column.is_in(list(value))
    return column == value


def _filter(frame: pl.DataFrame, where: Mapping[str, object]) -> pl.DataFrame:
    if not where:
        return frame
    expr = pl.lit(True)
    for key, value in where.items():
        expr = expr & _predicate(key, value)
    return frame.filter(expr)


def _tag(key: str) -> str:
    """The tag a filter key selects on (`function` is a prefix of function_code)."""
    column = PREFIX_FILTERS.get(key, key)
    if column not in TAGS:
        raise KeyError(f"unknown ledger filter {key!r}")
    return column


class Ledger:
    """An immutable set of lines with fast selection and group-by."""

    __slots__ = ("_sums", "frame")

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame.select([pl.col(c).cast(t) for c, t in SCHEMA.items()])
        self._sums: dict[tuple[str, ...], pl.DataFrame] = {}

    @classmethod
    def empty(cls) -> Ledger:
        return cls(pl.DataFrame(schema=SCHEMA))

    @classmethod
    def from_lines(cls, lines: Iterable[Line]) -> Ledger:
        rows = [
            {
                **{tag: getattr(line, tag) for tag in TAGS},
                "amount_fen": int(line.amount * 100),
                "note": line.note,
                "file": line.source.file,
                "sheet": line.source.sheet,
                "row": line.source.row,
            }
            for line in lines
        ]
        return cls(pl.DataFrame(rows, schema=SCHEMA)) if rows else cls.empty()

    @classmethod
    def concat(cls, ledgers: Iterable[Ledger]) -> Ledger:
        frames = [ledger.frame for ledger in ledgers]
        return cls(pl.concat(frames)) if frames else cls.empty()

    def __len__(self) -> int:
        return self.frame.height

    def sums(self, *tags: str) -> pl.DataFrame:
        """Amounts and line counts summed by just these tags, computed once per set of tags.

        Rules ask many small questions over few tags each; answering them from sums by those
        tags costs as much as the answer has rows, however many distinct lines the ledger holds
        (a consolidated province: nearly every line its own combination of all the tags).
        Sums by compact tags only are taken from the sums by all of them, which are small.
        """
        key = tuple(sorted(set(tags)))
        if key not in self._sums:
            if set(key) < set(COMPACT_TAGS):
                source, lines = self.sums(*COMPACT_TAGS), pl.col("lines").sum()
            else:
                source, lines = self.frame, pl.len()
            # Summed in 128 bits: exact for any number of lines, loaded or put together.
            amounts = pl.col("amount_fen").cast(pl.Int128).sum()
            if key:
                sums = source.group_by(list(key)).agg(amounts, lines.alias("lines"))
            else:
                sums = source.select(amounts, lines.alias("lines"))
            self._sums[key] = sums
        return self._sums[key]

    def _where(self, where: Mapping[str, object], *tags: str) -> pl.DataFrame:
        """The sums by the tags `where` filters on (and `tags`), filtered by `where`."""
        return _filter(self.sums(*tags, *(_tag(key) for key in where)), where)

    def collapsed(self) -> Ledger:
        """The same money summed over unit, project and source: small, for statements."""
        # Casting the 128-bit sums back to the line type raises rather than wraps.
        frame = self.sums(*COMPACT_TAGS).drop("lines")
        return Ledger(
            frame.with_columns([pl.lit(None).alias(c) for c in SCHEMA if c not in frame.columns])
        )

    def select(self, **where: object) -> Ledger:
        return Ledger(_filter(self.frame, where))

    def total(self, **where: object) -> Decimal:
        fen = self._where(where)["amount_fen"].sum()
        return from_fen(int(fen or 0))

    def count(self, **where: object) -> int:
        return int(self._where(where)["lines"].sum() or 0)

    def sum_by(self, by: str | tuple[str, ...], **where: object) -> dict:
        """Totals grouped by one tag (keys are values) or several (keys are tuples)."""
        keys = (by,) if isinstance(by, str) else tuple(by)
        selected = self._where(where, *(_tag(key) for key in keys))
        grouped = selected.group_by(list(keys)).agg(pl.col("amount_fen").sum())
        result = {}
        for row in grouped.iter_rows():
            key = row[0] if len(keys) == 1 else tuple(row[:-1])
            result[key] = from_fen(int(row[-1]))
        return result

    def sum_by_code_level(self, column: str, digits: int, **where: object) -> dict[str, Decimal]:
        """Totals by the first `digits` of a code column (3 = 类, 5 = 款, 7 = 项)."""
        selected = self._where(where, _tag(column)).filter(pl.col(column).is_not_null())
        grouped = selected.group_by(pl.col(column).str.slice(0, digits).alias("code")).agg(
            pl.col("amount_fen").sum()
        )
        return {code: from_fen(int(fen)) for code, fen in grouped.iter_rows()}

    def values(self, column: str, **where: object) -> list:
        selected = self._where(where, _tag(column))
        return sorted(v for v in selected[column].unique().to_list() if v is not None)

    def lines(self, **where: object) -> Iterator[Line]:
        for row in _filter(self.frame, where).iter_rows(named=True):
            yield Line(
                **{tag: row[tag] for tag in TAGS},
                amount=from_fen(row["amount_fen"]),
                source=Source(row["file"], row["sheet"], row["row"]),
                note=row["note"],
            )


# ---- typed facts beside the lines ------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    name: str
    year: int
    code: str | None = None
    format: str = "sichuan-2020"
    kind: str | None = None
    department: str | None = None
    yoy_reason_threshold: Decimal = Decimal("0.10")
    budget_reason_threshold: Decimal = Decimal("0.10")


@dataclass(frozen=True)
class ThreePublic:
    """One 三公经费 item: budget and actual in 元, with 批次/团组 and 人次."""

    item: str
    fund: str
    budget: Decimal
    actual: Decimal
    batches: int | None
    persons: int | None
    source: Source
    note: str | None = None


@dataclass(frozen=True)
class Procurement:
    kind: str  # 货物 / 工程 / 服务
    amount: Decimal
    sme_amount: Decimal | None
    small_micro_amount: Decimal | None
    source: Source
    note: str | None = None


@dataclass(frozen=True)
class Project:
    name: str
    code: str | None
    kind: str | None
    note: str | None
    source: Source


@dataclass(frozen=True)
class MemberUnit:
    """A unit the department's final accounts include (部门决算单位构成), in the order given."""

    name: str
    note: str | None
    source: Source


@dataclass(frozen=True)
class Fact:
    """A number from 其他事项 or 上年数: an amount in 元 (Decimal), a count (int) or a score."""

    key: str
    value: Decimal | int
    source: Source
    note: str | None = None


# ---- performance (预算绩效) records: cells as written, parsed by juesuan.performance ----------


@dataclass(frozen=True)
class Indicator:
    """One 绩效指标 of a project: 一级/二级/三级, target and actual as written, optional 分值."""

    project: str
    level1: str  # 一级指标: 产出指标 / 项目完成指标 / 效益指标 / 满意度指标 / 成本指标 ...
    level2: str
    level3: str
    target: str  # 指标值 as written: "644", "<1%", "1.71万元/人", "每月20日前发放到位"
    direction: str | None = None  # ≥ > = ≤ < 定性; None: taken from the target
    unit: str | None = None  # 计量单位
    weight: Decimal | None = None  # 分值; None: the rule set distributes
    actual: str | None = None  # 实际完成值 as written
    tier: str | None = None  # 完成档次 of a 定性 indicator: 达成 / 部分达成 / 未达成
    actual_source: str = "填报"  # 填报, or 计算:<name>
    score: Decimal | None = None  # 得分 as stated
    reason: str | None = None  # 偏差原因及改进措施
    note: str | None = None
    source: Source = field(default_factory=lambda: Source(""))

    @property
    def name(self) -> str:
        return self.level3


@dataclass(frozen=True)
class ProjectGoal:
    """A project's 年度目标 and what came of it, with the problems found and the measures."""

    project: str
    expected: str | None = None  # 预期目标
    achieved: str | None = None  # 实际完成目标
    problems: str | None = None  # 主要问题
    measures: str | None = None  # 改进措施
    stated_rate: str | None = None  # 执行率 as written in the text ("86.33%"), to be checked
    note: str | None = None
    source: Source = field(default_factory=lambda: Source(""))


@dataclass(frozen=True)
class Checkpoint:
    """One 绩效监控 point: planned and actual budget execution progress (percent) at a month."""

    project: str | None  # None: the department as a whole
    period: str  # as written: "2020-06", "6月"
    month: int
    actual: Decimal  # 实际执行进度, percent
    planned: Decimal | None = None  # 计划执行进度, percent
    reason: str | None = None
    action: str | None = None
    note: str | None = None
    source: Source = field(default_factory=lambda: Source(""))


@dataclass(frozen=True)
class DepartmentScore:
    """A leaf of the department-wide self-evaluation (部门整体自评), as given by the unit."""

    item: str  # the leaf: its id, name or path
    score: Decimal | None = None
    explanation: str | None = None
    note: str | None = None
    source: Source = field(default_factory=lambda: Source(""))


@dataclass(frozen=True)
class Measure:
    """A number performance indicators are computed from (绩效数据): a value or a sum of projects."""

    project: str
    key: str  # 发放人数 / 发放笔数 / 失败退回笔数 / 发放金额 (元) / ...
    value: Decimal | int | None = None
    sum_of: tuple[str, ...] = ()  # when value is None: the same key summed over these projects
    note: str | None = None
    source: Source = field(default_factory=lambda: Source(""))


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Dataset:
    """One unit-year: the ledger and every other fact the disclosure needs."""

    unit: Unit
    ledger: Ledger
    three_public: tuple[ThreePublic, ...] = ()
    procurement: tuple[Procurement, ...] = ()
    facts: Mapping[str, Fact] = field(default_factory=dict)
    prior_year: Mapping[str, Fact] = field(default_factory=dict)
    projects: Mapping[str, Project] = field(default_factory=dict)
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (kind, topic) -> text
    texts: Mapping[str, str] = field(default_factory=dict)  # title -> markdown
    units: tuple[MemberUnit, ...] = ()  # 部门决算单位构成; empty for a single unit
    # "主要用于：…" by 7-digit function code or 三公 item
    purposes: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""  # the folder or workbook it was read from
    # 预算绩效: indicators, goals, monitoring, department self-evaluation, measured data.
    indicators: tuple[Indicator, ...] = ()
    project_goals: Mapping[str, ProjectGoal] = field(default_factory=dict)  # project -> goal
    monitoring: tuple[Checkpoint, ...] = ()
    department_scores: tuple[DepartmentScore, ...] = ()
    performance_data: tuple[Measure, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "facts",
            "prior_year",
            "projects",
            "reasons",
            "texts",
            "purposes",
            "project_goals",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
