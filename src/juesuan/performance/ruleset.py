"""Scoring rule sets as data: `rulesets/<name>.yaml`, loaded and checked into a RuleSet.

A rule set may `extends:` another: mappings merge into the base, lists replace it, null removes a
key. So a jurisdiction's variant (sichuan-2020) is a short file of differences, and no code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from juesuan.yamltext import load_yaml

RULESETS_DIR = Path(__file__).parent / "rulesets"
ANY_LEVEL1 = "*"


class RuleSetError(Exception):
    """A rule-set file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Part:
    """A share of the indicator points (产出 50) and the 一级指标 names that belong to it."""

    name: str
    points: Decimal
    level1: tuple[str, ...]  # ("*",) takes every 一级指标
    support: str = ""

    def takes(self, level1: str) -> bool:
        return ANY_LEVEL1 in self.level1 or _compact(level1) in {_compact(n) for n in self.level1}


@dataclass(frozen=True)
class Tier:
    """A 定性 completion tier: its band of the 分值 and the default point within it."""

    name: str
    label: str
    low: Decimal
    high: Decimal
    default: Decimal

    def contains(self, share: Decimal) -> bool:
        top = self.high >= 1
        return self.low <= share and (share <= self.high if top else share < self.high)


@dataclass(frozen=True)
class Band:
    name: str
    min: Decimal


@dataclass(frozen=True)
class Grades:
    bands: tuple[Band, ...]
    support: str = ""

    def grade(self, score: Decimal) -> str:
        for band in self.bands:
            if score >= band.min:
                return band.name
        return self.bands[-1].name

    def describe(self) -> str:
        """The band table in words: 优 ≥ 90、良 ≥ 80、中 ≥ 60、差 < 60."""
        parts = [f"{b.name} ≥ {b.min.normalize():f}" for b in self.bands if b.min > 0]
        last = self.bands[-1]
        if last.min == 0 and len(self.bands) > 1:
            parts.append(f"{last.name} < {self.bands[-2].min.normalize():f}")
        return "、".join(parts)


@dataclass(frozen=True)
class RuleSet:
    id: str
    title: str
    basis: str
    path: Path
    total: Decimal
    places: int  # 得分 decimals
    execution_points: Decimal
    execution_cap: bool
    explain_below: Decimal | None  # an execution rate below this needs a reason
    parts: tuple[Part, ...]
    absent: dict[str, tuple[tuple[str, ...], str]]  # part -> (recipients, split)
    reverse_method: str  # linear | ratio
    flag_over: Decimal | None
    tiers: tuple[Tier, ...]
    grades: Grades
    support: dict[str, str] = field(default_factory=dict)  # rule id -> support tag

    @property
    def indicator_points(self) -> Decimal:
        return self.total - self.execution_points

    def part_of(self, level1: str) -> Part | None:
        return next((p for p in self.parts if p.takes(level1)), None)

    def tier(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)


def _compact(text: str) -> str:
    return "".join(str(text).split())


# ---- loading -------------------------------------------------------------------------------------


def locate(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = RULESETS_DIR / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = "、".join(sorted(p.stem for p in RULESETS_DIR.glob("*.yaml")))
    raise RuleSetError(f"找不到绩效评分规则“{name_or_path}”；已有的规则：{known}")


def read_document(name_or_path: str | Path, seen: tuple[Path, ...] = ()) -> tuple[Path, dict]:
    """A rule-set file as a mapping, with its `extends:` chain merged in."""
    path = locate(name_or_path)
    if path in seen:
        raise RuleSetError(f"{path}：extends 循环引用")
    try:
        document = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{path}：不是有效的 YAML：{exc}") from exc
    if not isinstance(document, dict):
        raise RuleSetError(f"{path}：应为键值结构")
    base = document.pop("extends", None)
    if base is None:
        return path, document
    _, parent = read_document(base, (*seen, path))
    return path, _merge(parent, document)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def number(path: Path, where: str, value: object) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise RuleSetError(f"{path}：{where} 应为数字，写的是“{value}”") from exc
    if not result.is_finite():
        raise RuleSetError(f"{path}：{where} 应为数字，写的是“{value}”")
    return result


def support_of(entry: object) -> str:
    if isinstance(entry, dict):
        return " ".join(str(entry.get("support") or "").split())
    return ""


def grades_from(path: Path, entry: object) -> Grades:
    if not isinstance(entry, dict) or not entry.get("bands"):
        raise RuleSetError(f"{path}：grades 缺少 bands（等级与分数线）")
    bands = tuple(
        Band(str(b["name"]), number(path, f"等级 {b.get('name')} 的 min", b["min"]))
        for b in entry["bands"]
    )
    if [b.min for b in bands] != sorted((b.min for b in bands), reverse=True):
        raise RuleSetError(f"{path}：grades 的分数线应从高到低排列")
    return Grades(bands, support_of(entry))


def load_ruleset(name_or_path: str | Path) -> RuleSet:
    """Load a project scoring rule set: a name under rulesets/ (national-2020) or a YAML path."""
    path, doc = read_document(name_or_path)
    try:
        return _ruleset(path, doc)
    except (KeyError, TypeError) as exc:
        raise RuleSetError(f"{path}：缺少或写错了 {exc}") from exc


def _ruleset(path: Path, doc: dict) -> RuleSet:
    execution = doc.get("execution") or {}
    parts = tuple(
        Part(
            str(p["name"]),
            number(path, f"部分 {p['name']} 的 points", p["points"]),
            (ANY_LEVEL1,) if p.get("level1") == ANY_LEVEL1 else tuple(map(str, p["level1"])),
            support_of(p),
        )
        for p in doc["parts"]
    )
    total = number(path, "total", doc.get("total", 100))
    execution_points = number(path, "execution.points", execution.get("points", 0))
    if execution_points + sum(p.points for p in parts) != total:
        raise RuleSetError(
            f"{path}：预算执行 {execution_points} 与各部分分值之和 "
            f"{sum(p.points for p in parts)} 应等于总分 {total}"
        )
    names = {p.name for p in parts}
    absent = {}
    for name, rule in (doc.get("absent") or {}).items():
        recipients = tuple(map(str, rule.get("to") or ()))
        unknown = [n for n in (name, *recipients) if n not in names]
        if unknown:
            raise RuleSetError(f"{path}：absent 中的部分不存在：{'、'.join(unknown)}")
        split = str(rule.get("split", "proportional"))
        if split not in ("proportional", "equal"):
            raise RuleSetError(f"{path}：absent.{name}.split 应为 proportional 或 equal")
        absent[str(name)] = (recipients, split)
    quantitative = doc.get("quantitative") or {}
    reverse = quantitative.get("reverse") or {}
    method = str(reverse.get("method", "linear"))
    if method not in ("linear", "ratio"):
        raise RuleSetError(f"{path}：quantitative.reverse.method 应为 linear 或 ratio")
    positive = quantitative.get("positive") or {}
    flag = (positive.get("flag_over") or {}).get("ratio")
    qualitative = doc.get("qualitative") or {}
    tiers = []
    for entry in qualitative.get("tiers") or ():
        tier = Tier(
            str(entry["name"]),
            str(entry.get("label", entry["name"])),
            number(path, f"档次 {entry['name']} 的 from", entry["from"]),
            number(path, f"档次 {entry['name']} 的 to", entry["to"]),
            number(path, f"档次 {entry['name']} 的 default", entry["default"]),
        )
        if not tier.contains(tier.default):
            raise RuleSetError(f"{path}：档次 {tier.name} 的默认点 {tier.default} 不在其区间内")
        tiers.append(tier)
    explain = execution.get("explain_below")
    cap = execution.get("cap") or {}
    support = {
        "execution": support_of(execution),
        "execution.cap": support_of(cap),
        "execution.explain_below": support_of(explain),
        "weights": support_of(doc.get("weights")),
        "absent": " ".join(support_of(r) for r in (doc.get("absent") or {}).values()),
        "positive.met": support_of(positive.get("met")),
        "positive.missed": support_of(positive.get("missed")),
        "positive.exceeded": support_of(positive.get("exceeded")),
        "positive.flag_over": support_of(positive.get("flag_over")),
        "equal.zero": support_of((quantitative.get("equal") or {}).get("zero")),
        "equal.nonzero": support_of((quantitative.get("equal") or {}).get("nonzero")),
        "reverse.linear": support_of(reverse.get("linear")),
        "reverse.ratio": support_of(reverse.get("ratio")),
        "negative_actual": support_of(quantitative.get("negative_actual")),
        "qualitative": support_of(qualitative),
        "qualitative.default": " ".join(str(qualitative.get("default_support") or "").split()),
        "grades": support_of(doc.get("grades")),
    }
    for part in parts:
        support[f"part.{part.name}"] = part.support
    return RuleSet(
        id=str(doc.get("id", path.stem)),
        title=str(doc.get("title", path.stem)),
        basis=" ".join(str(doc.get("basis", "")).split()),
        path=path,
        total=total,
        places=int(doc.get("round", 2)),
        execution_points=execution_points,
        execution_cap=bool(cap.get("enabled", True)),
        explain_below=(
            number(path, "execution.explain_below.rate", explain["rate"])
            if isinstance(explain, dict)
            else None
        ),
        parts=parts,
        absent=absent,
        reverse_method=method,
        flag_over=number(path, "flag_over.ratio", flag) if flag is not None else None,
        tiers=tuple(tiers),
        grades=grades_from(path, doc.get("grades")),
        support=support,
    )
