"""A small, safe expression language for rules: arithmetic, comparisons and whitelisted calls.

Written here rather than taken from a library because a rule needs more than a result: each side
of its comparison (expected vs actual) and the ledger selections each side touched, so a failure
can name the cells involved. Values carry that provenance through arithmetic.
"""

from __future__ import annotations

import ast
import functools
import operator
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
COMPARISON_WORDS = {
    "==": "应等于",
    "!=": "不应等于",
    "<": "应小于",
    "<=": "不应大于",
    ">": "应大于",
    ">=": "不应小于",
}
ROUNDING_STEP = Decimal("0.005")
_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class Missing(Exception):
    """A fact the expression needs is absent: the rule cannot be evaluated (insufficient_data)."""


class ExprError(Exception):
    """The expression itself is wrong (unknown name, bad syntax): a fault in the rule file."""


@dataclass(frozen=True)
class Value:
    """A number with its unit ('元', '%', or '' for counts) and what it was computed from."""

    amount: Decimal
    unit: str = "元"
    refs: tuple[str, ...] = ()
    terms: int = 0  # how many separately rounded figures (table cells) went into it

    def _combine(self, other: object, op: Callable, unit: str | None = None) -> Value:
        if isinstance(other, Value):
            return Value(
                op(self.amount, other.amount),
                unit or self.unit,
                self.refs + other.refs,
                self.terms + other.terms,
            )
        return Value(op(self.amount, _decimal(other)), unit or self.unit, self.refs, self.terms)

    def __add__(self, other: object) -> Value:
        return self._combine(other, operator.add)

    def __radd__(self, other: object) -> Value:
        return Value(_decimal(other) + self.amount, self.unit, self.refs, self.terms)

    def __sub__(self, other: object) -> Value:
        return self._combine(other, operator.sub)

    def __rsub__(self, other: object) -> Value:
        return Value(_decimal(other) - self.amount, self.unit, self.refs, self.terms)

    def __mul__(self, other: object) -> Value:
        return self._combine(other, operator.mul)

    def __rmul__(self, other: object) -> Value:
        return self._combine(other, operator.mul)

    def __truediv__(self, other: object) -> Value:
        divisor = other.amount if isinstance(other, Value) else _decimal(other)
        if divisor == 0:
            raise Missing("除数为零")
        return self._combine(other, operator.truediv, unit="")

    def __neg__(self) -> Value:
        return Value(-self.amount, self.unit, self.refs, self.terms)

    def __abs__(self) -> Value:
        return Value(abs(self.amount), self.unit, self.refs, self.terms)

    def _cmp(self, other: object, op: Callable) -> bool:
        right = other.amount if isinstance(other, Value) else _decimal(other)
        return op(self.amount, right)

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return self._cmp(other, operator.eq)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return self._cmp(other, operator.ne)

    def __lt__(self, other: object) -> bool:
        return self._cmp(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._cmp(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._cmp(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._cmp(other, operator.ge)

    __hash__ = None  # type: ignore[assignment]


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ExprError("布尔值不能参与运算")
    if isinstance(value, int):
        return Decimal(value)
    raise ExprError(f"不能参与运算的值：{value!r}")


def as_value(value: object) -> Value:
    if isinstance(value, Value):
        return value
    return Value(_decimal(value), "")


@dataclass(frozen=True)
class Comparison:
    """The top-level comparison of a check: actual (left) against expected (right)."""

    holds: bool
    actual: Value | None
    expected: Value | None
    operator: str  # '==', '<=', ...


class Evaluator:
    """Evaluates parsed expressions against names and functions supplied by the caller."""

    def __init__(self, names: Mapping[str, object], functions: Mapping[str, Callable]):
        self.names = names
        self.functions = functions

    def evaluate(self, tree: ast.expr) -> object:
        return self._eval(tree)

    def compare(self, tree: ast.expr, tolerance: Decimal | str = Decimal(0)) -> Comparison:
        """Evaluate a check. A single comparison keeps its two sides; anything else is boolean.

        `tolerance` is an amount, or "rounding": n figures each rounded to 0.01 may differ from
        their exact sum by n × 0.005, so that is all the gap rounding can explain.
        """
        if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
            left = self._eval(tree.left)
            right = self._eval(tree.comparators[0])
            op = type(tree.ops[0])
            if isinstance(left, (Value, Decimal, int)) and isinstance(right, (Value, Decimal, int)):
                actual, expected = as_value(left), as_value(right)
                if tolerance == "rounding":
                    tolerance = ROUNDING_STEP * max(actual.terms + expected.terms, 1)
                if op is ast.Eq:
                    holds = abs(actual.amount - expected.amount) <= tolerance
                elif op is ast.NotEq:
                    holds = abs(actual.amount - expected.amount) > tolerance
                elif op in (ast.LtE, ast.Lt):
                    holds = _COMPARE[op](actual.amount, expected.amount + tolerance)
                else:
                    holds = _COMPARE[op](actual.amount, expected.amount - tolerance)
                return Comparison(holds, actual, expected, _SYMBOL[op])
        result = self._eval(tree)
        if not isinstance(result, bool):
            raise ExprError("检查式的结果应为真或假")
        return Comparison(result, None, None, "")

    def _eval(self, node: ast.AST) -> object:
        return compiled(node)(self)


def truth(value: object) -> bool:
    if isinstance(value, Value):
        return value.amount != 0
    return bool(value)


# An expression's closure, made once per tree: a rule set's trees live as long as it does, and
# the same text parses to the same tree (parse is cached), so each is walked node by node once.
Compiled = Callable[[Evaluator], object]
_COMPILED: weakref.WeakKeyDictionary[ast.AST, Compiled] = weakref.WeakKeyDictionary()


def compiled(tree: ast.AST) -> Compiled:
    function = _COMPILED.get(tree)
    if function is None:
        function = _COMPILED[tree] = _compile(tree)
    return function


def _compile(node: ast.AST) -> Compiled:
    """The node as a closure over the evaluator (its names and functions), which does what
    evaluating the node would: the same values, the same errors, raised when evaluated."""
    match node:
        case ast.Constant(value=value):
            if isinstance(value, float):
                value = Decimal(repr(value))  # the literal as written, not its binary float
            return lambda evaluator: value
        case ast.Name(id=name):

            def look_up(evaluator: Evaluator) -> object:
                names = evaluator.names
                if name in names:
                    value = names[name]
                    return value() if callable(value) else value
                raise ExprError(f"未定义的名称：{name}")

            return look_up
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            first, second, apply = _compile(left), _compile(right), _BINARY[type(op)]
            adds, divides = isinstance(op, ast.Add), isinstance(op, ast.Div)

            def binary(evaluator: Evaluator) -> object:
                a, b = first(evaluator), second(evaluator)
                if adds and isinstance(a, str) and isinstance(b, str):
                    return a + b  # names built from parts: '合计.' + kind
                if not isinstance(a, Value) and not isinstance(b, Value):
                    a, b = _decimal(a), _decimal(b)
                    if divides and b == 0:
                        raise Missing("除数为零")
                return apply(a, b)

            return binary
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            inner = _compile(operand)
            return lambda evaluator: -inner(evaluator)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            inner = _compile(operand)
            return lambda evaluator: not truth(inner(evaluator))
        case ast.BoolOp(op=ast.And(), values=values):
            parts = [_compile(v) for v in values]
            return lambda evaluator: all(truth(p(evaluator)) for p in parts)
        case ast.BoolOp(op=ast.Or(), values=values):
            parts = [_compile(v) for v in values]
            return lambda evaluator: any(truth(p(evaluator)) for p in parts)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            head = _compile(left)
            steps = [
                (_COMPARE[type(op)], _compile(c)) for op, c in zip(ops, comparators, strict=True)
            ]

            def compare(evaluator: Evaluator) -> bool:
                current = head(evaluator)
                for holds, comparator in steps:
                    following = comparator(evaluator)
                    if not holds(current, following):
                        return False
                    current = following
                return True

            return compare
        case ast.IfExp(test=test, body=body, orelse=orelse):
            condition, then, otherwise = _compile(test), _compile(body), _compile(orelse)
            return lambda evaluator: (
                then(evaluator) if truth(condition(evaluator)) else otherwise(evaluator)
            )
        case ast.Tuple(elts=elts) | ast.List(elts=elts):
            items = [_compile(e) for e in elts]
            return lambda evaluator: tuple(i(evaluator) for i in items)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=keywords):
            positional = [_compile(a) for a in args]
            named = [(k.arg, _compile(k.value)) for k in keywords]

            def call(evaluator: Evaluator) -> object:
                function = evaluator.functions.get(name)
                if function is None:
                    raise ExprError(f"未定义的函数：{name}")
                return function(
                    *(a(evaluator) for a in positional),
                    **{k: v(evaluator) for k, v in named},
                )

            return call
    message = f"不支持的表达式：{ast.unparse(node)}"

    def unsupported(evaluator: Evaluator) -> object:
        raise ExprError(message)

    return unsupported


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ast.expr:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExprError(f"表达式语法错误：{text}（{exc.msg}）") from exc
