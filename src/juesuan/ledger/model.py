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


class Ledger:
    """An immutable set of lines with fast selection and group-by."""

    __slots__ = ("_cube", "frame")

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame.select([pl.col(c).cast(t) for c, t in SCHEMA.items()])
        self._cube: pl.DataFrame | None = None

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

    # The cube: sums by every tag. Rules ask many small questions; answering them from the cube
    # rather than from every line keeps a million-line check fast.
    @property
    def cube(self) -> pl.DataFrame:
        if self._cube is None:
            self._cube = self.frame.group_by(list(TAGS)).agg(
                pl.col("amount_fen").sum(), pl.len().alias("lines")
            )
        return self._cube

    def collapsed(self) -> Ledger:
        """The same money summed over unit, project and source: small, for statements."""
        keep = ["year", "direction", "phase", "fund", "function_code", "economic_code", "nature"]
        frame = self.frame.group_by(keep).agg(pl.col("amount_fen").sum())
        return Ledger(
            frame.with_columns([pl.lit(None).alias(c) for c in SCHEMA if c not in frame.columns])
        )

    def select(self, **where: object) -> Ledger:
        return Ledger(_filter(self.frame, where))

    def total(self, **where: object) -> Decimal:
        fen = _filter(self.cube, where)["amount_fen"].sum()
        return from_fen(int(fen or 0))

    def count(self, **where: object) -> int:
        return int(_filter(self.cube, where)["lines"].sum() or 0)

    def sum_by(self, by: str | tuple[str, ...], **where: object) -> dict:
        """Totals grouped by one tag (keys are values) or several (keys are tuples)."""
        keys = (by,) if isinstance(by, str) else tuple(by)
        grouped = _filter(self.cube, where).group_by(list(keys)).agg(pl.col("amount_fen").sum())
        result = {}
        for row in grouped.iter_rows():
            key = row[0] if len(keys) == 1 else tuple(row[:-1])
            result[key] = from_fen(int(row[-1]))
        return result

    def sum_by_code_level(self, column: str, digits: int, **where: object) -> dict[str, Decimal]:
        """Totals by the first `digits` of a code column (3 = 类, 5 = 款, 7 = 项)."""
        cube = _filter(self.cube, where).filter(pl.col(column).is_not_null())
        grouped = cube.group_by(pl.col(column).str.slice(0, digits).alias("code")).agg(
            pl.col("amount_fen").sum()
        )
        return {code: from_fen(int(fen)) for code, fen in grouped.iter_rows()}

    def values(self, column: str, **where: object) -> list:
        return sorted(
            v for v in _filter(self.cube, where)[column].unique().to_list() if v is not None
        )

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
class Fact:
    """A number from 其他事项 or 上年数: an amount in 元 (Decimal), a count (int) or a score."""

    key: str
    value: Decimal | int
    source: Source
    note: str | None = None


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
    origin: str = ""  # the folder or workbook it was read from

    def __post_init__(self) -> None:
        for name in ("facts", "prior_year", "projects", "reasons", "texts"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
