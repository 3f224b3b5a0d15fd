"""Ledger lines and the typed facts beside them; a Dataset is one unit-year of both.

Lines are held column-wise in a polars DataFrame (amounts as integer 分, never float) so that a
million lines select and group in milliseconds; `Line` gives one row as a plain value. Nothing
here mutates: every selection returns a new Ledger.
"""

from __future__ import annotations

import itertools
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


# A tag a question compares or groups by, and how many of its leading characters (None: all of
# it): `function='208'` compares ("function_code", 3).
Part = tuple[str, int | None]


def _question(where: Mapping[str, object]) -> tuple[tuple[Part, ...], list[set]] | None:
    """The parts `where` compares and the values each accepts, so that the lines it selects are
    those whose parts are one of the combinations of those values; None when it cannot be put
    so (prefixes of different lengths in one filter, a value not of its tag's type)."""
    parts: list[Part] = []
    accepted: list[set] = []
    for key, value in where.items():
        column = _tag(key)
        many = isinstance(value, (tuple, list, set, frozenset))
        if key in PREFIX_FILTERS:
            prefixes = {str(p) for p in value} if many else {str(value)}
            lengths = {len(p) for p in prefixes}
            if len(lengths) > 1:
                return None
            parts.append((column, lengths.pop() if lengths else 0))
            accepted.append(prefixes)
            continue
        # One value is compared by ==, or is_null for None; a list by is_in, which never
        # selects an empty tag.
        values = set(value) - {None} if many else {value}
        kind = int if SCHEMA[column] == pl.Int32 else str
        if any(type(v) is not kind for v in values if v is not None):
            return None
        parts.append((column, None))
        accepted.append(values)
    # In one order, so that questions naming the same tags in another order share an index.
    ordered = sorted(
        zip(parts, accepted, strict=True),
        key=lambda pair: (pair[0][0], -1 if pair[0][1] is None else pair[0][1]),
    )
    return tuple(part for part, _ in ordered), [values for _, values in ordered]


def _grouped(sums: pl.DataFrame, parts: tuple[Part, ...], leading: int) -> dict:
    """{values of the first `leading` parts: {values of the rest: (amount in 分, lines)}}."""
    keys = [
        (pl.col(column) if length is None else pl.col(column).str.slice(0, length)).alias(f"_{i}")
        for i, (column, length) in enumerate(parts)
    ]
    totals = (pl.col("amount_fen").sum(), pl.col("lines").sum())
    frame = sums.group_by(keys).agg(*totals) if keys else sums.select(*totals)
    grouped: dict[tuple, dict[tuple, tuple[int, int]]] = {}
    for row in frame.iter_rows():
        grouped.setdefault(row[:leading], {})[row[leading:-2]] = (row[-2], row[-1])
    return grouped


def _tag(key: str) -> str:
    """The tag a filter key selects on (`function` is a prefix of function_code)."""
    column = PREFIX_FILTERS.get(key, key)
    if column not in TAGS:
        raise KeyError(f"unknown ledger filter {key!r}")
    return column


class Ledger:
    """An immutable set of lines with fast selection and group-by."""

    __slots__ = ("_indexes", "_sums", "frame")

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame.select([pl.col(c).cast(t) for c, t in SCHEMA.items()])
        self._sums: dict[tuple[str, ...], pl.DataFrame] = {}
        self._indexes: dict[tuple, dict] = {}

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
            # Lazily, so that only the tags and the amount are read: an eager group-by makes
            # every column of a frame of several chunks (a loaded ledger's tables) contiguous
            # first, notes and sources too, which costs more than the group-by itself.
            query = source.lazy()
            if key:
                query = query.group_by(list(key)).agg(amounts, lines.alias("lines"))
            else:
                query = query.select(amounts, lines.alias("lines"))
            self._sums[key] = query.collect()
        return self._sums[key]

    def _answer(
        self, where: Mapping[str, object], groups: tuple[Part, ...] = ()
    ) -> dict[tuple, tuple[int, int]]:
        """Amount in 分 and line count by the groups' values, over the lines `where` selects."""
        question = _question(where)
        if question is None:  # not a set of lookups: the sums filtered as a frame
            columns = {_tag(key) for key in where} | {column for column, _ in groups}
            selected = _filter(self.sums(*columns), where)
            return _grouped(selected, groups, 0).get((), {})
        parts, accepted = question
        index = self._index(parts, groups)
        found: dict[tuple, tuple[int, int]] = {}
        for values in itertools.product(*accepted):
            for group, (fen, lines) in index.get(values, {}).items():
                before = found.get(group, (0, 0))
                found[group] = (before[0] + fen, before[1] + lines)
        return found

    def _index(self, parts: tuple[Part, ...], groups: tuple[Part, ...]) -> dict:
        """Sums by the parts a question compares, then by its groups, as dictionaries: made
        once per kind of question, so each question costs a few lookups, not a pass over a frame
        (a rule set asks hundreds, most of them alike but for their values)."""
        key = (parts, groups)
        if key not in self._indexes:
            columns = {column for column, _ in (*parts, *groups)}
            self._indexes[key] = _grouped(self.sums(*columns), (*parts, *groups), len(parts))
        return self._indexes[key]

    def select(self, **where: object) -> Ledger:
        return Ledger(_filter(self.frame, where))

    def total(self, **where: object) -> Decimal:
        return from_fen(sum(fen for fen, _ in self._answer(where).values()))

    def count(self, **where: object) -> int:
        return sum(lines for _, lines in self._answer(where).values())

    def sum_by(self, by: str | tuple[str, ...], **where: object) -> dict:
        """Totals grouped by one tag (keys are values) or several (keys are tuples)."""
        keys = (by,) if isinstance(by, str) else tuple(by)
        found = self._answer(where, tuple((_tag(key), None) for key in keys))
        return {
            (group[0] if len(keys) == 1 else group): from_fen(fen)
            for group, (fen, _) in found.items()
        }

    def sum_by_code_level(self, column: str, digits: int, **where: object) -> dict[str, Decimal]:
        """Totals by the first `digits` of a code column (3 = 类, 5 = 款, 7 = 项)."""
        found = self._answer(where, ((_tag(column), digits),))
        return {code: from_fen(fen) for (code,), (fen, _) in found.items() if code is not None}

    def values(self, column: str, **where: object) -> list:
        found = self._answer(where, ((_tag(column), None),))
        return sorted(value for (value,) in found if value is not None)

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
