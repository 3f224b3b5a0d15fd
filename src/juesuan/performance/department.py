"""The department-wide self-evaluation (部门整体支出绩效自评): a points tree from YAML, its leaves
given by the unit (部门整体自评) or computed from the ledger and the 绩效监控 checkpoints.

See rulesets/department-sichuan.yaml for the kinds of leaf and their parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from juesuan.ledger.model import PREFIX_FILTERS, SCHEMA, Dataset, DepartmentScore
from juesuan.ledger.schema import ACTUAL
from juesuan.performance.checks import FATAL, WARNING, outcome, tolerance
from juesuan.performance.measures import Measures
from juesuan.performance.ruleset import Grades, RuleSetError, grades_from, number, read_document
from juesuan.performance.scoring import SCORED, rounded
from juesuan.performance.values import show_number
from juesuan.rules.engine import FAIL, INSUFFICIENT, PASS, Outcome

GIVEN = "given"
KINDS = ("budget_completion", "budget_deviation", "checkpoints")
SCORE_KEY = "部门整体绩效自评得分"  # the stated total, in 其他事项
_PATH_SEPARATORS = re.compile(r"\s*[/／>＞·\\]\s*")


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    points: Decimal
    path: str  # names from the top, joined by "/"
    spec: str | dict | None = None  # "given" or {kind: ...} for a leaf; None for a branch
    children: tuple[Node, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Tree:
    id: str
    title: str
    basis: str
    support: str
    path: Path
    total: Decimal
    places: int
    grades: Grades
    nodes: tuple[Node, ...]

    def leaves(self) -> list[Node]:
        found: list[Node] = []

        def walk(node: Node) -> None:
            if node.is_leaf:
                found.append(node)
            for child in node.children:
                walk(child)

        for node in self.nodes:
            walk(node)
        return found

    def find(self, item: str) -> Node | None:
        """A leaf by id, by path (一级/二级/三级) or by a name no other leaf has."""
        key = _compact(item)
        leaves = self.leaves()
        for leaf in leaves:
            if key.upper() == leaf.id.upper() or key == _compact(leaf.path):
                return leaf
        if _PATH_SEPARATORS.search(item):
            wanted = "/".join(_compact(p) for p in _PATH_SEPARATORS.split(item.strip()))
            for leaf in leaves:
                if wanted == _compact(leaf.path):
                    return leaf
        named = [leaf for leaf in leaves if _compact(leaf.name) == key]
        return named[0] if len(named) == 1 else None


@dataclass(frozen=True)
class NodeScore:
    node: Node
    score: Decimal | None
    status: str  # scored | insufficient_data
    basis: str  # 填报 / 计算 / 合计
    how: str
    explanation: str | None = None
    children: tuple[NodeScore, ...] = ()


@dataclass(frozen=True)
class DepartmentResult:
    tree: Tree
    nodes: tuple[NodeScore, ...]
    total: Decimal  # the sum of the scored leaves
    missing: tuple[str, ...]  # leaves that could not be scored (paths)
    grade: str | None  # None while any leaf is missing
    stated_total: Decimal | None  # 部门整体绩效自评得分 from 其他事项

    @property
    def complete(self) -> bool:
        return not self.missing

    def leaves(self) -> list[NodeScore]:
        found: list[NodeScore] = []

        def walk(node: NodeScore) -> None:
            if not node.children:
                found.append(node)
            for child in node.children:
                walk(child)

        for node in self.nodes:
            walk(node)
        return found


def _compact(text: str) -> str:
    return "".join(str(text).split())


# ---- loading -------------------------------------------------------------------------------------


def load_department_tree(name_or_path: str | Path) -> Tree:
    """Load a department points tree: a name under rulesets/ or a YAML path; sums are checked."""
    path, doc = read_document(name_or_path)
    if not doc.get("tree"):
        raise RuleSetError(f"{path}：缺少 tree（评分表）")
    ids: set[str] = set()
    nodes = tuple(_node(path, entry, "", ids) for entry in doc["tree"])
    total = number(path, "total", doc.get("total", 100))
    found = sum((n.points for n in nodes), Decimal(0))
    if found != total:
        raise RuleSetError(f"{path}：一级指标分值合计 {found}，应为总分 {total}")
    return Tree(
        id=str(doc.get("id", path.stem)),
        title=str(doc.get("title", path.stem)),
        basis=" ".join(str(doc.get("basis", "")).split()),
        support=str(doc.get("support", "")),
        path=path,
        total=total,
        places=int(doc.get("round", 2)),
        grades=grades_from(path, doc.get("grades")),
        nodes=nodes,
    )


def _node(path: Path, entry: dict, parent: str, ids: set[str]) -> Node:
    name = str(entry.get("name") or "")
    node_id = str(entry.get("id") or name)
    where = f"指标 {node_id}"
    if not name:
        raise RuleSetError(f"{path}：{where} 缺少 name")
    if node_id in ids:
        raise RuleSetError(f"{path}：指标编号 {node_id} 重复")
    ids.add(node_id)
    points = number(path, f"{where} 的 points", entry.get("points"))
    full = f"{parent}/{name}" if parent else name
    children = tuple(_node(path, c, full, ids) for c in entry.get("children") or ())
    if children:
        found = sum((c.points for c in children), Decimal(0))
        if found != points:
            raise RuleSetError(f"{path}：{where} 的下级分值合计 {found}，应为 {points}")
        return Node(node_id, name, points, full, None, children)
    spec = entry.get("score", GIVEN)
    if spec != GIVEN:
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise RuleSetError(f"{path}：{where} 的 score 应为 given 或 kind 为 {'/'.join(KINDS)}")
        for key in spec.get("where") or {}:
            if key not in SCHEMA and key not in PREFIX_FILTERS:
                raise RuleSetError(f"{path}：{where} 的 where 中“{key}”不是账上的标签")
        if spec["kind"] == "budget_deviation" and not spec.get("bands"):
            raise RuleSetError(f"{path}：{where} 缺少 bands")
        if spec["kind"] == "checkpoints" and not spec.get("months"):
            raise RuleSetError(f"{path}：{where} 缺少 months")
    return Node(node_id, name, points, full, spec)


# ---- evaluation ----------------------------------------------------------------------------------


def evaluate_department(
    dataset: Dataset, tree: Tree, measures: Measures
) -> tuple[DepartmentResult, list[Outcome]]:
    outcomes: list[Outcome] = []
    given: dict[str, DepartmentScore] = {}
    for row in dataset.department_scores:
        leaf = tree.find(row.item)
        where = str(row.source)
        if leaf is None:
            outcomes.append(
                outcome(
                    "PERF-department-item",
                    FATAL,
                    FAIL,
                    f"{where}：“{row.item}”不是评分表“{tree.title}”中的末级指标",
                    hint="填末级指标的编号、名称或路径，如 "
                    + "、".join(f"{n.id}（{n.path}）" for n in tree.leaves()[:3]),
                    refs=(where,),
                )
            )
            continue
        if leaf.id in given:
            outcomes.append(
                outcome(
                    "PERF-department-item",
                    FATAL,
                    FAIL,
                    f"{where}：与 {given[leaf.id].source} 是同一指标“{leaf.path}”",
                    refs=(where,),
                )
            )
            continue
        given[leaf.id] = row

    def score(node: Node) -> NodeScore:
        if node.children:
            parts = tuple(score(c) for c in node.children)
            done = [p.score for p in parts if p.score is not None]
            total = sum(done, Decimal(0))
            complete = len(done) == len(parts)
            return NodeScore(
                node,
                total if done else None,
                SCORED if complete else INSUFFICIENT,
                "合计",
                f"下级指标得分之和{'' if complete else '（部分指标数据不足）'}",
                children=parts,
            )
        return _leaf(node, given.get(node.id), dataset, tree, measures, outcomes)

    nodes = tuple(score(n) for n in tree.nodes)
    result = DepartmentResult(tree, nodes, Decimal(0), (), None, None)
    leaves = result.leaves()
    total = sum((leaf.score for leaf in leaves if leaf.score is not None), Decimal(0))
    missing = tuple(leaf.node.path for leaf in leaves if leaf.status != SCORED)
    stated = dataset.facts.get(SCORE_KEY)
    stated_total = Decimal(stated.value) if stated is not None else None
    result = DepartmentResult(
        tree,
        nodes,
        total,
        missing,
        None if missing else tree.grades.grade(total),
        stated_total,
    )
    if stated_total is not None:
        shown_total = show_number(total, tree.places)
        if missing:
            outcomes.append(
                outcome(
                    "PERF-department-total",
                    WARNING,
                    INSUFFICIENT,
                    f"部门整体自评得分：文中为 {stated_total}，评分表有指标数据不足"
                    f"（{'、'.join(missing)}），无法核对",
                    refs=(str(stated.source),),
                )
            )
        else:
            ok = abs(total - stated_total) <= tolerance(stated_total)
            outcomes.append(
                outcome(
                    "PERF-department-total",
                    WARNING,
                    PASS if ok else FAIL,
                    f"部门整体自评得分：文中为 {stated_total}，按评分表各末级指标合计为 {shown_total}"
                    + ("，一致" if ok else ""),
                    hint="" if ok else "核对各末级指标得分或文中所写总分",
                    refs=(str(stated.source),),
                )
            )
    return result, outcomes


def _leaf(
    node: Node,
    row: DepartmentScore | None,
    dataset: Dataset,
    tree: Tree,
    measures: Measures,
    outcomes: list[Outcome],
) -> NodeScore:
    explanation = row.explanation if row is not None else None
    stated = row.score if row is not None else None
    refs = (str(row.source),) if row is not None else ()
    bindings = {"指标": node.path}
    if stated is not None and stated > node.points:
        outcomes.append(
            outcome(
                "PERF-department-leaf",
                FATAL,
                FAIL,
                f"“{node.path}”填报得分 {stated} 超过分值 {node.points}",
                bindings=bindings,
                refs=refs,
            )
        )
        stated = None
    if node.spec == GIVEN:
        if stated is None:
            outcomes.append(
                outcome(
                    "PERF-department-leaf",
                    WARNING,
                    INSUFFICIENT,
                    f"“{node.path}”需由单位填报得分（部门整体自评），未填",
                    bindings=bindings,
                    refs=refs,
                )
            )
            return NodeScore(node, None, INSUFFICIENT, "填报", "未填得分", explanation)
        value = rounded(stated, tree.places)
        return NodeScore(
            node, value, SCORED, "填报", f"单位填报 {show_number(value)} 分", explanation
        )
    computed, how = _compute(node, dataset, measures)
    if computed is None:
        if stated is not None:
            value = rounded(stated, tree.places)
            return NodeScore(
                node,
                value,
                SCORED,
                "填报",
                f"{how}；按填报得分 {show_number(value)}",
                explanation,
            )
        outcomes.append(
            outcome(
                "PERF-department-leaf",
                WARNING,
                INSUFFICIENT,
                f"“{node.path}”无法计算：{how}",
                bindings=bindings,
                refs=refs,
            )
        )
        return NodeScore(node, None, INSUFFICIENT, "计算", how, explanation)
    value = rounded(min(max(computed, Decimal(0)), node.points), tree.places)
    how = f"{how} → {show_number(value, tree.places)}"
    if stated is not None:
        ok = rounded(stated, tree.places) == value
        outcomes.append(
            outcome(
                "PERF-department-leaf",
                WARNING,
                PASS if ok else FAIL,
                f"“{node.path}”：填报 {show_number(stated)}，按规则计算为 "
                f"{show_number(value, tree.places)}" + ("，一致" if ok else ""),
                bindings=bindings,
                refs=refs,
            )
        )
    return NodeScore(node, value, SCORED, "计算", how, explanation)


def _compute(node: Node, dataset: Dataset, measures: Measures) -> tuple[Decimal | None, str]:
    spec = node.spec
    assert isinstance(spec, dict)
    kind = spec["kind"]
    points = node.points
    if kind == "checkpoints":
        return _checkpoints(node, dataset)
    where = dict(spec.get("where") or {})
    phase = (
        measures.budget_phase(None, **where)
        if spec.get("budget", "全年预算") == "全年预算"
        else str(spec["budget"])
    )
    budget = measures.funds(None, phase, **where).total
    actual = measures.funds(None, ACTUAL, **where).total
    scope = "、".join(f"{v}" for v in where.values()) or "全部支出"
    if budget <= 0:
        return None, f"{scope}没有{phase}，无法计算"
    if kind == "budget_completion":
        rate = actual / budget
        head = (
            f"{scope}完成率 = 决算 {actual:,.2f} ÷ {phase} {budget:,.2f} = "
            f"{show_number(rate * 100, 2)}%"
        )
        if spec.get("method", "proportional") == "shortfall":
            target = Decimal(str(spec.get("target", 1)))
            per_point = Decimal(str(spec.get("per_point", 1)))
            if rate >= target:
                return points, f"{head}，达到 {show_number(target * 100)}%，满分"
            short = (target - rate) * 100
            value = points - short * per_point
            return value, (
                f"{head}，低于 {show_number(target * 100)}% {show_number(short, 2)} 个百分点，"
                f"每个百分点扣 {show_number(per_point)} 分：{show_number(points)} − "
                f"{show_number(short * per_point, 2)}"
            )
        value = min(rate, Decimal(1)) * points
        return value, f"{head}；{show_number(points)} × 完成率 = {show_number(value, 4)}"
    deviation = abs(actual - budget) / budget
    head = (
        f"{scope}偏差率 = |决算 {actual:,.2f} − {phase} {budget:,.2f}| ÷ {budget:,.2f} = "
        f"{show_number(deviation * 100, 2)}%"
    )
    for bound, share in spec["bands"]:
        if bound is None or deviation <= Decimal(str(bound)):
            limit = "其余" if bound is None else f"不超过 {show_number(Decimal(str(bound)) * 100)}%"
            share = Decimal(str(share))
            return share * points, (f"{head}，属“{limit}”档，得分值的 {show_number(share * 100)}%")
    return Decimal(0), f"{head}，超出各档，得 0 分"


def _checkpoints(node: Node, dataset: Dataset) -> tuple[Decimal | None, str]:
    spec = node.spec
    assert isinstance(spec, dict)
    months = [int(m) for m in spec["months"]]
    rows = {c.month: c for c in dataset.monitoring if c.project is None}
    missing = [m for m in months if m not in rows or rows[m].planned is None]
    if missing:
        return None, "缺少部门整体的绩效监控（计划与实际执行进度）：" + "、".join(
            f"{m}月" for m in missing
        )
    share = node.points / len(months)
    total = Decimal(0)
    words = []
    for month in months:
        row = rows[month]
        if row.actual >= row.planned:
            total += share
            words.append(f"{month}月 {show_number(row.actual)}% ≥ {show_number(row.planned)}% 达到")
        elif spec.get("missed", "proportional") == "proportional" and row.planned > 0:
            part = share * row.actual / row.planned
            total += part
            words.append(
                f"{month}月 {show_number(row.actual)}% < {show_number(row.planned)}%，"
                f"按比例 {show_number(part, 2)}"
            )
        else:
            words.append(
                f"{month}月 {show_number(row.actual)}% < {show_number(row.planned)}%，0 分"
            )
    return total, f"每个时点 {show_number(share, 2)} 分：" + "；".join(words)
