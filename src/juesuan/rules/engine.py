"""Rules declared in YAML, evaluated into one outcome per rule (and per binding of a foreach).

An outcome is pass, fail (with expected, actual, difference and what was compared),
not_applicable (its `when` is false) or insufficient_data (a fact it needs is missing).
A rule that could not be evaluated is never counted as passed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from juesuan.ledger.model import Dataset
from juesuan.rules.context import Context
from juesuan.rules.expr import Evaluator, ExprError, Missing, Value, as_value, parse, truth
from juesuan.statements.model import Statements
from juesuan.yamltext import load_yaml

TIERS = ("FATAL", "WARNING", "SUGGEST")
TIER_NAMES = {"FATAL": "致命", "WARNING": "警告", "SUGGEST": "建议"}
PASS, FAIL, NOT_APPLICABLE, INSUFFICIENT = "pass", "fail", "not_applicable", "insufficient_data"
STATUS_NAMES = {PASS: "通过", FAIL: "未通过", NOT_APPLICABLE: "不适用", INSUFFICIENT: "数据不足"}

RULES_DIR = Path(__file__).parent
FORMATS_DIR = Path(__file__).parent.parent / "formats"


class RuleFileError(Exception):
    """A rule file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    tier: str
    title: str
    check: ast.expr
    message: str
    hint: str = ""
    when: ast.expr | None = None
    foreach: dict[str, object] = field(default_factory=dict)  # name -> generator name or list
    let: tuple[tuple[str, ast.expr], ...] = ()
    tolerance: Decimal | str = Decimal(0)  # an amount, or "rounding"
    source: str = ""  # the file it was declared in


@dataclass(frozen=True)
class RuleSet:
    quantities: tuple[tuple[str, ast.expr], ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Outcome:
    rule: str
    tier: str
    title: str
    status: str
    message: str
    hint: str = ""
    bindings: dict[str, str] = field(default_factory=dict)
    actual: Value | None = None
    expected: Value | None = None
    refs: tuple[str, ...] = ()

    @property
    def difference(self) -> Decimal | None:
        if self.actual is None or self.expected is None:
            return None
        return self.actual.amount - self.expected.amount

    def as_dict(self) -> dict:
        def number(value: Value | None) -> str | None:
            return None if value is None else str(_rounded(value))

        return {
            "rule": self.rule,
            "tier": self.tier,
            "title": self.title,
            "status": self.status,
            "message": self.message,
            "hint": self.hint,
            "bindings": self.bindings,
            "actual": number(self.actual),
            "expected": number(self.expected),
            "difference": None if self.difference is None else str(self.difference),
            "unit": self.actual.unit if self.actual is not None else None,
            "involved": list(self.refs),
        }


def _rounded(value: Value) -> Decimal:
    return (
        value.amount.quantize(Decimal("0.01"))
        if value.unit in ("元", "万元", "%")
        else value.amount
    )


# ---- loading ---------------------------------------------------------------------------------


def load_ruleset(name_or_path: str | Path) -> RuleSet:
    """Load a rule file: a path, a format name (formats/NAME/rules.yaml) or a core file name."""
    path = _locate(name_or_path)
    quantities: dict[str, ast.expr] = {}
    rules: list[Rule] = []
    _load_into(path, quantities, rules, seen=set())
    ids = [r.id for r in rules]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuleFileError(f"{path}：规则编号重复：{'、'.join(sorted(duplicates))}")
    return RuleSet(tuple(quantities.items()), tuple(rules))


def _locate(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    for candidate in (
        FORMATS_DIR / str(name_or_path) / "rules.yaml",
        RULES_DIR / f"{name_or_path}.yaml",
    ):
        if candidate.exists():
            return candidate
    known = sorted(p.name for p in FORMATS_DIR.iterdir() if (p / "rules.yaml").exists())
    raise RuleFileError(f"找不到公开格式或规则文件“{name_or_path}”；已有的格式：{'、'.join(known)}")


def _load_into(path: Path, quantities: dict, rules: list, seen: set) -> None:
    if path in seen:
        return
    seen.add(path)
    try:
        document = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}：不是有效的 YAML：{exc}") from exc
    for include in document.get("include", []):
        _load_into(_locate(include), quantities, rules, seen)
    for name, text in (document.get("quantities") or {}).items():
        quantities[str(name)] = _parse(path, f"量 {name}", text)
    for entry in document.get("rules") or []:
        rules.append(_rule(path, entry))


def _parse(path: Path, where: str, text: object) -> ast.expr:
    try:
        return parse(str(text))
    except ExprError as exc:
        raise RuleFileError(f"{path}：{where}：{exc}") from exc


def _rule(path: Path, entry: dict) -> Rule:
    rule_id = entry.get("id")
    if not rule_id:
        raise RuleFileError(f"{path}：有一条规则缺少 id")
    where = f"规则 {rule_id}"
    for key in ("tier", "check", "message"):
        if key not in entry:
            raise RuleFileError(f"{path}：{where} 缺少 {key}")
    if entry["tier"] not in TIERS:
        raise RuleFileError(f"{path}：{where} 的 tier 应为 {'/'.join(TIERS)}")
    tolerance = entry.get("tolerance", 0)
    if tolerance != "rounding":
        try:
            tolerance = Decimal(str(tolerance))
        except InvalidOperation as exc:
            raise RuleFileError(f"{path}：{where} 的 tolerance 应为数字或 rounding") from exc
    return Rule(
        id=str(rule_id),
        tier=entry["tier"],
        title=entry.get("title", rule_id),
        check=_parse(path, where, entry["check"]),
        message=entry["message"].strip(),
        hint=(entry.get("hint") or "").strip(),
        when=_parse(path, where, entry["when"]) if entry.get("when") else None,
        foreach=dict(entry.get("foreach") or {}),
        let=tuple((k, _parse(path, where, v)) for k, v in (entry.get("let") or {}).items()),
        tolerance=tolerance,
        source=str(path),
    )


# ---- evaluation ------------------------------------------------------------------------------


def evaluate(
    dataset: Dataset, ruleset: RuleSet, statements: Statements | None = None
) -> list[Outcome]:
    """Every rule's outcome; table rules need `statements` (else they are insufficient_data)."""
    context = Context(dataset, statements)
    functions = context.functions()
    generators = context.generators()
    cache: dict[str, Value] = {}
    quantity_names: dict[str, object] = {}

    def quantity(name: str, tree: ast.expr):
        def compute() -> Value:
            if name not in cache:
                cache[name] = as_value(Evaluator(quantity_names, functions).evaluate(tree))
            return cache[name]

        return compute

    for name, tree in ruleset.quantities:
        compute = quantity(name, tree)
        quantity_names[name] = compute
        context.define(name, compute)

    outcomes: list[Outcome] = []
    for rule in ruleset.rules:
        for bindings in _bindings(rule, generators, functions):
            outcomes.append(_evaluate_one(rule, bindings, quantity_names, functions))
    return outcomes


def _bindings(rule: Rule, generators: dict, functions: dict) -> list[dict]:
    """Every combination of the foreach values; a value that is a mapping binds several names.

    A foreach is a generator name (function_parents), a generator call (rows('T03', level=1))
    or a literal list.
    """
    combos: list[dict] = [{}]
    for name, spec in rule.foreach.items():
        if isinstance(spec, str):
            if spec in generators:
                values = generators[spec]()
            else:
                try:
                    values = Evaluator({}, {**functions, **generators}).evaluate(parse(spec))
                except (ExprError, Missing) as exc:
                    raise RuleFileError(f"{rule.source}：规则 {rule.id} 的 foreach：{exc}") from exc
        else:
            values = spec
        combos = [
            {**c, **(v if isinstance(v, dict) else {name: v})} for c in combos for v in values
        ]
    return combos


def _evaluate_one(rule: Rule, bindings: dict, quantities: dict, functions: dict) -> Outcome:
    names = {**quantities, **bindings}
    shown = {k: str(v) for k, v in bindings.items()}
    evaluator = Evaluator(names, functions)
    base = {"rule": rule.id, "tier": rule.tier, "title": rule.title, "bindings": shown}
    try:
        for name, tree in rule.let:
            names[name] = _lazy_let(name, tree, evaluator)
        if rule.when is not None and not truth(evaluator.evaluate(rule.when)):
            return Outcome(**base, status=NOT_APPLICABLE, message=f"{rule.title}：本数据不适用")
        comparison = evaluator.compare(rule.check, rule.tolerance)
    except Missing as exc:
        return Outcome(
            **base, status=INSUFFICIENT, message=f"无法判断：{exc}", hint=_format(rule.hint, names)
        )
    except ExprError as exc:
        raise RuleFileError(f"{rule.source}：规则 {rule.id}：{exc}") from exc
    refs = ()
    if comparison.actual is not None:
        refs = tuple(dict.fromkeys(comparison.actual.refs + comparison.expected.refs))
        names = {**names, "actual": comparison.actual, "expected": comparison.expected}
        names["diff"] = comparison.actual - comparison.expected
    if comparison.holds:
        message = rule.title + (f"：{show(comparison.actual)}" if comparison.actual else "")
    else:
        message = _format(rule.message, names)
    return Outcome(
        **base,
        status=PASS if comparison.holds else FAIL,
        message=message,
        hint=_format(rule.hint, names),
        actual=comparison.actual,
        expected=comparison.expected,
        refs=refs,
    )


def _lazy_let(name: str, tree: ast.expr, evaluator: Evaluator):
    """A `let` value worked out when first used: a `when` that does not need it decides first,
    so a rule whose values cannot be had where it does not apply is 不适用, not 数据不足."""
    state: dict[str, object] = {}

    def compute():
        if "value" not in state:
            if state.get("busy"):
                raise ExprError(f"let 中的 {name} 引用了它自己")
            state["busy"] = True
            try:
                state["value"] = evaluator.evaluate(tree)
            finally:
                state["busy"] = False
        return state["value"]

    return compute


def _format(template: str, names: dict) -> str:
    try:
        return template.format_map(_Shown(names))
    except (ValueError, IndexError):
        return template


class _Shown(dict):
    """Names as text for a message; quantities are computed only when a message mentions them."""

    def __init__(self, names: dict):
        super().__init__()
        self.names = names

    def __missing__(self, key: str) -> str:
        if key not in self.names:  # a name an unevaluated step would have set: never "{key}"
            return "（无数据）"
        value = self.names[key]
        if callable(value) and not isinstance(value, Value):
            try:
                value = value()
            except (Missing, ExprError):
                return "（无数据）"
        return show(value)


def show(value: object) -> str:
    """A value as a person reads it: 1,234.56 元, 12.34%, 56."""
    if isinstance(value, Value):
        if value.unit in ("元", "万元"):
            return f"{value.amount.quantize(Decimal('0.01')):,} {value.unit}"
        if value.unit == "%":
            return f"{value.amount.quantize(Decimal('0.01'))}%"
        return f"{value.amount.normalize():f}"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)
