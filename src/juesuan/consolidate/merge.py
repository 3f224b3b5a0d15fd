"""Merge units' datasets into the department's dataset (部门汇总).

The merged ledger is one `pl.concat` of the units' frames: every line keeps its own `unit` and
source, so a figure in the department's tables drills down to the unit's line. Facts are merged
with small dict sums, O(units); internal flows are eliminated by `eliminate.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import polars as pl

from juesuan.consolidate.eliminate import eliminate
from juesuan.consolidate.report import ConsolidationReport, name_list, yuan
from juesuan.ledger.issues import Source
from juesuan.ledger.model import (
    TAGS,
    Dataset,
    Fact,
    Ledger,
    MemberUnit,
    Procurement,
    Project,
    ThreePublic,
    Unit,
)
from juesuan.ledger.schema import FACT_KEYS
from juesuan.money import MAX_TOTAL, from_fen, to_fen

SOURCE = Source("汇总")
SCORE_KEY = "部门整体绩效自评得分"
SUMMABLE_KINDS = ("amount", "count")
PROJECT_SEPARATOR = "："


def consolidate(
    datasets: Sequence[Dataset] | Iterable[Dataset],
    *,
    name: str | None = None,
    code: str | None = None,
) -> tuple[Dataset | None, ConsolidationReport]:
    """Merge units' datasets of one year into one dataset, eliminating internal flows.

    The first dataset is taken as the department itself: the consolidated unit's kind, format and
    thresholds, its reasons and its texts come from it. Returns (None, report) when the datasets
    cannot be merged (different years, a unit twice — by name, code or the 所属单位 of its lines,
    as when a department's consolidation is given with one of its units —, nothing given);
    `report.problems` says why.
    """
    datasets = list(datasets)
    report = ConsolidationReport()
    if not datasets:
        report.problems.append("没有要汇总的数据集。")
        return None, report
    frame = _joined([d.ledger.frame for d in datasets])
    report.problems.extend(_input_problems(datasets, frame))
    if report.problems:
        return None, report
    first = datasets[0]
    report.units = [d.unit.name for d in datasets]

    projects, renames = _projects(datasets, report)
    too_large = _too_large(frame, datasets)
    if too_large:
        report.problems.extend(too_large)
        return None, report
    if renames:
        frame = _rename_projects(frame, datasets, renames)
    offsets, eliminations, problems, notes = eliminate(frame)
    report.eliminations = eliminations
    report.problems.extend(problems)
    report.notes.extend(notes)
    ledger = Ledger(pl.concat([frame, offsets], how="vertical") if offsets.height else frame)

    unit = Unit(
        name=name or f"{first.unit.department or first.unit.name}（汇总）",
        year=first.unit.year,
        code=code,
        format=first.unit.format,
        kind=first.unit.kind,
        department=first.unit.department,
        yoy_reason_threshold=first.unit.yoy_reason_threshold,
        budget_reason_threshold=first.unit.budget_reason_threshold,
    )
    formats = sorted({d.unit.format for d in datasets} - {first.unit.format})
    if formats:
        report.notes.append(
            f"各单位的公开格式不同（另有 {'、'.join(formats)}），汇总按第一个数据集的格式 "
            f"{first.unit.format}。"
        )
    dataset = Dataset(
        unit=unit,
        ledger=ledger,
        three_public=_three_public(datasets),
        procurement=_procurement(datasets),
        facts=_facts(datasets, report),
        prior_year=_prior_year(datasets, report),
        projects=projects,
        reasons=dict(first.reasons),
        texts=dict(first.texts),
        units=_units(datasets),
        purposes={k: v for d in reversed(datasets) for k, v in d.purposes.items()},
        origin="",
    )
    if len(datasets) > 1 and (first.reasons or first.texts):
        report.notes.append(
            f"变动原因和文字说明取自第一个数据集{_describe(first)}（视为部门本级），"
            "未合并其他单位的；请按汇总口径复核。"
        )
    report.lines = len(ledger)
    report.offset_lines = offsets.height
    return dataset, report


def _joined(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The units' lines in one frame, its tags and amounts each in one piece: the tables'
    group-bys over 5,000 chunks cost about twice as much (0.87 against 0.37 CPU-s at 5,000
    units). The note and source columns, read only line by line, stay in the units' pieces:
    joining them too cost a third of the consolidation (about 0.09 CPU-s at 5,000 units)."""
    joined = pl.concat(frames, how="vertical", rechunk=False)
    summed = set(TAGS) | {"amount_fen"}
    # A frame's rechunk copies its columns in parallel, a Series' one column at a time.
    pieces = pl.DataFrame([joined[c] for c in joined.columns if c in summed]).rechunk()
    return pl.DataFrame([pieces[c] if c in summed else joined[c] for c in joined.columns])


# ---- input checks ----------------------------------------------------------------------------


def _describe(dataset: Dataset) -> str:
    origin = dataset.origin or "（未注明来源）"
    return f"“{origin}”（{dataset.unit.name}）"


def _dataset_index(datasets: list[Dataset]) -> pl.Series:
    """For each line of the joined frame, the index of the dataset it came from."""
    heights = pl.DataFrame(
        {"_ds": range(len(datasets)), "_n": [d.ledger.frame.height for d in datasets]},
        schema={"_ds": pl.Int64, "_n": pl.Int64},
    ).filter(pl.col("_n") > 0)  # an empty list would explode to a null
    return heights.select(pl.col("_ds").repeat_by("_n").explode())["_ds"]


def _unit_runs(frame: pl.DataFrame, datasets: list[Dataset]) -> pl.DataFrame:
    """(unit, _ds) of every run of lines of one unit within one dataset of the joined frame.

    A run starts where the unit changes or a dataset begins: one comparison per line instead of
    hashing every line's unit, and a unit's lines usually make one run.
    """
    heights = pl.Series([d.ledger.frame.height for d in datasets], dtype=pl.Int64)
    starts = heights.cum_sum() - heights
    begins = pl.repeat(False, frame.height, eager=True).scatter(starts.filter(heights > 0), True)
    runs = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), "unit").filter(
        pl.col("unit").ne_missing(pl.col("unit").shift()) | begins
    )
    # The last dataset starting at or before a run's row holds it (empty ones share the start).
    owner = starts.search_sorted(runs["_row"], side="right").cast(pl.Int64) - 1
    return runs.select("unit", owner.alias("_ds")).drop_nulls("unit")


def _input_problems(datasets: list[Dataset], frame: pl.DataFrame) -> list[str]:
    problems = []
    first = datasets[0]
    other_years = [d for d in datasets if d.unit.year != first.unit.year]
    if other_years:
        years: dict[int, list[str]] = {}
        for d in datasets:
            years.setdefault(d.unit.year, []).append(_describe(d))
        parts = "；".join(
            f"{year}年度：{name_list(found, 5)}" for year, found in sorted(years.items())
        )
        problems.append(f"各数据集的年度不一致，不能汇总（应为同一年度）：{parts}。")
    reported: set[tuple[int, int]] = set()  # pairs of datasets already said to be one unit
    for label, value in (("单位名称", lambda d: d.unit.name), ("单位编码", lambda d: d.unit.code)):
        seen: dict[str, int] = {}
        for position, d in enumerate(datasets):
            key = value(d)
            if not key:
                continue
            if key in seen:
                reported.add((seen[key], position))
                problems.append(
                    f"数据集{_describe(d)}与数据集{_describe(datasets[seen[key]])}的{label}相同"
                    f"（{key}），是同一单位，不能重复汇总。"
                )
            else:
                seen[key] = position
    return problems + _overlapping_units(datasets, frame, reported)


def _too_large(frame: pl.DataFrame, datasets: list[Dataset]) -> list[str]:
    """The consolidation is held to a dataset's ceiling on all its amounts (money.MAX_TOTAL), so
    its Int64 sums (the elimination's, the tables') cannot wrap however many units it joins."""
    size = pl.col("amount_fen").abs().cast(pl.Int128).sum()
    total = frame.select(size).item() or 0
    if total <= to_fen(MAX_TOTAL):
        return []
    found = dict(
        frame.select(_dataset_index(datasets), "amount_fen").group_by("_ds").agg(size).iter_rows()
    )
    sizes = [found.get(i, 0) for i in range(len(datasets))]
    largest = sorted(range(len(datasets)), key=lambda i: -sizes[i])[:3]
    shown = "、".join(f"{_describe(datasets[i])} {yuan(from_fen(sizes[i]))} 元" for i in largest)
    return [
        f"各数据集的金额（不计正负）合计 {yuan(from_fen(total))} 元，超过一个数据集的上限 "
        f"{yuan(MAX_TOTAL)} 元，不能汇总；最大的是{shown}，请核对是否多填了数字或重复给出了数据集。"
    ]


def _overlapping_units(
    datasets: list[Dataset], frame: pl.DataFrame, reported: set[tuple[int, int]]
) -> list[str]:
    """Datasets whose lines belong to the same unit (所属单位): a consolidation given one of its
    own units again would count that unit's lines twice."""
    held = (
        _unit_runs(frame, datasets)
        .unique()
        .with_columns(pl.col("_ds").min().over("unit").alias("_first"))
        .filter(pl.col("_ds") != pl.col("_first"))
        .sort("_ds", "unit")  # each later dataset in turn, its units in name order
    )
    shared: dict[tuple[int, int], list[str]] = {}
    for unit, later, first in held.iter_rows():
        if (first, later) not in reported:
            shared.setdefault((first, later), []).append(unit)
    return [
        f"数据集{_describe(datasets[later])}与数据集{_describe(datasets[first])}都含有所属单位为"
        f"{name_list([f'“{unit}”' for unit in units])}的收支明细：其中一个已汇总了另一个"
        "（或两者汇总了同一单位），不能重复汇总；请去掉重复的数据集。"
        for (first, later), units in shared.items()
    ]


# ---- facts -----------------------------------------------------------------------------------


def _summed(values: list[Decimal | int]) -> Decimal | int:
    if all(isinstance(v, int) for v in values):
        return sum(values)
    return sum((Decimal(v) for v in values), Decimal("0.00"))


def _facts(datasets: list[Dataset], report: ConsolidationReport) -> dict[str, Fact]:
    values: dict[str, list[Decimal | int]] = {}
    for d in datasets:
        for key, fact in d.facts.items():
            values.setdefault(key, []).append(fact.value)
    facts: dict[str, Fact] = {}
    dropped = []
    partial = []
    for key, found in values.items():
        if FACT_KEYS.get(key) not in SUMMABLE_KINDS:
            dropped.append(key)
            continue
        if len(found) < len(datasets):
            partial.append(f"{key}（{len(found)}/{len(datasets)}个单位）")
        facts[key] = Fact(key, _summed(found), SOURCE, f"{len(found)}个单位汇总")
    if SCORE_KEY in dropped:
        report.notes.append(f"{SCORE_KEY}不能相加，汇总数据集中未列；请按部门整体另行填报。")
        dropped.remove(SCORE_KEY)
    if dropped:
        report.notes.append(f"其他事项中以下项目不能相加，未列入汇总：{'、'.join(dropped)}。")
    if partial:
        report.notes.append(
            f"其他事项中以下项目只有部分单位填报，按已填报的单位相加：{'、'.join(partial)}。"
        )
    return facts


def _prior_year(datasets: list[Dataset], report: ConsolidationReport) -> dict[str, Fact]:
    values: dict[str, list[Decimal | int]] = {}
    for d in datasets:
        for key, fact in d.prior_year.items():
            values.setdefault(key, []).append(fact.value)
    kept: dict[str, Fact] = {}
    dropped = []
    for key, found in values.items():
        if len(found) == len(datasets):
            kept[key] = Fact(key, _summed(found), SOURCE, f"{len(found)}个单位汇总")
        else:
            dropped.append(f"{key}（{len(found)}/{len(datasets)}个单位有）")
    if dropped:
        report.notes.append(
            "上年数只汇总每个单位都有的项目；以下项目缺少部分单位的数，未列入，"
            f"同比分析需补填：{'、'.join(dropped)}。"
        )
    return kept


def _optional_sum(values: Iterable[Decimal | int | None]) -> Decimal | int | None:
    present = [v for v in values if v is not None]
    return _summed(present) if present else None


def _three_public(datasets: list[Dataset]) -> tuple[ThreePublic, ...]:
    groups: dict[tuple[str, str], list[ThreePublic]] = {}
    for d in datasets:
        for item in d.three_public:
            groups.setdefault((item.item, item.fund), []).append(item)
    return tuple(
        ThreePublic(
            item=item,
            fund=fund,
            budget=_summed([i.budget for i in found]),
            actual=_summed([i.actual for i in found]),
            batches=_optional_sum(i.batches for i in found),
            persons=_optional_sum(i.persons for i in found),
            source=SOURCE,
            note=f"{len(found)}个单位汇总",
        )
        for (item, fund), found in groups.items()
    )


def _procurement(datasets: list[Dataset]) -> tuple[Procurement, ...]:
    groups: dict[str, list[Procurement]] = {}
    for d in datasets:
        for item in d.procurement:
            groups.setdefault(item.kind, []).append(item)
    return tuple(
        Procurement(
            kind=kind,
            amount=_summed([i.amount for i in found]),
            sme_amount=_optional_sum(i.sme_amount for i in found),
            small_micro_amount=_optional_sum(i.small_micro_amount for i in found),
            source=SOURCE,
            note=f"{len(found)}个单位汇总",
        )
        for kind, found in groups.items()
    )


def _units(datasets: Sequence[Dataset]) -> tuple[MemberUnit, ...]:
    """部门决算单位构成 of the whole: each dataset's own list, or the dataset's unit, in order."""
    units: dict[str, MemberUnit] = {}
    for d in datasets:
        for u in d.units or (MemberUnit(d.unit.name, None, SOURCE),):
            units.setdefault(u.name, u)
    return tuple(units.values())


# ---- projects --------------------------------------------------------------------------------


def _projects(
    datasets: list[Dataset], report: ConsolidationReport
) -> tuple[dict[str, Project], dict[int, dict[str, str]]]:
    """Projects merged by name, and per dataset index the project names that had to change.

    A name two units use stays one project only when both describe it alike (same code and
    kind); otherwise every unit's project of that name is prefixed with the unit's name.
    """
    users: dict[str, list[tuple[int, Project]]] = {}
    for index, d in enumerate(datasets):
        for project in d.projects.values():
            users.setdefault(project.name, []).append((index, project))
    taken = set(users)
    merged: dict[str, Project] = {}
    renames: dict[int, dict[str, str]] = {}
    for project_name, found in users.items():
        if len({(p.code, p.kind) for _, p in found}) == 1:
            merged[project_name] = found[0][1]
            continue
        new_names = []
        for index, project in found:
            new = _free(f"{datasets[index].unit.name}{PROJECT_SEPARATOR}{project_name}", taken)
            taken.add(new)
            renames.setdefault(index, {})[project_name] = new
            merged[new] = Project(new, project.code, project.kind, project.note, project.source)
            new_names.append(new)
        report.notes.append(
            f"项目“{project_name}”在 {len(found)} 个单位的项目编码或类别不同，"
            f"已按单位区分为：{name_list(new_names, 5).replace('个单位', '个项目')}。"
        )
    return merged, renames


def _free(candidate: str, taken: set[str]) -> str:
    name, number = candidate, 2
    while name in taken:
        name = f"{candidate}（{number}）"
        number += 1
    return name


def _rename_projects(
    frame: pl.DataFrame, datasets: list[Dataset], renames: dict[int, dict[str, str]]
) -> pl.DataFrame:
    """Apply per-dataset project renames with one join over the merged frame."""
    table = pl.DataFrame(
        [(i, old, new) for i, names in renames.items() for old, new in names.items()],
        schema={"_ds": pl.Int64, "project": pl.String, "_new": pl.String},
        orient="row",
    )
    columns = frame.columns
    joined = frame.with_columns(_dataset_index(datasets)).join(
        table, on=["_ds", "project"], how="left", maintain_order="left"
    )
    return joined.with_columns(pl.coalesce("_new", "project").alias("project")).select(columns)
