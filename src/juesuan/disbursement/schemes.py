"""Schemes (补贴类别) and their dated monthly standards, read from YAML.

The file looks like::

    schemes:
      - code: QYJS                     # ≤ 6 ASCII letters/digits, upper case; part of payment keys
        name: 企业教师生活补贴
        payment_day: 10                # 1–28: the day of the month the bank pays
        function_code: "2089999"       # optional (default 2089999 其他社会保障和就业支出)
        economic_code: "30305"         # optional (default 30305 生活补助)
        project: 企业教师生活补贴       # optional (default: the name)
        standards:                     # 发放标准; an adjustment is simply a later standard
          - {start: "2020-01", amount: "1230.00"}            # 元, at most two decimals
          - {tier: 一档, start: "2020-01", amount: "700.00"}
          - {start: "2020-07", amount: "1290.00", announced: "2020-09"}

`announced` (公布月份, optional) marks a retroactive standard: decided in a month later than its
start. The monthly computation then compares what was paid for the months since `start` with
what is owed now and pays the difference (补发) or recovers it (追回).

Errors are values (`juesuan.ledger.issues.Issue`) naming the file and the path inside it, e.g.
`schemes[1].standards[0].amount`; a file with errors yields no schemes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import yaml

from juesuan.ledger.issues import ERROR, Issue, Source
from juesuan.money import AmountError, parse_yuan, to_fen

from .model import Month, Scheme, Standard

__all__ = ["Schemes", "load_schemes", "parse_schemes"]

_CODE = re.compile(r"^[A-Z0-9]{1,6}$")
_FUNCTION_CODE = re.compile(r"^\d{3}(\d{2}(\d{2})?)?$")
_ECONOMIC_CODE = re.compile(r"^\d{3}(\d{2})?$")
# The keys a scheme and a standard may have, in the order an error message lists them.
_SCHEME_KEYS = (
    "code",
    "economic_code",
    "function_code",
    "name",
    "payment_day",
    "project",
    "standards",
)
_STANDARD_KEYS = ("tier", "start", "amount", "announced")


@dataclass(frozen=True)
class Schemes:
    """The schemes of one file, or the errors that kept them out (then `schemes` is empty)."""

    schemes: tuple[Scheme, ...] = ()
    errors: tuple[Issue, ...] = ()
    file: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def __iter__(self) -> Iterator[Scheme]:
        return iter(self.schemes)

    def __len__(self) -> int:
        return len(self.schemes)

    @cached_property
    def by_code(self) -> dict[str, Scheme]:
        return {s.code: s for s in self.schemes}

    @cached_property
    def _by_text(self) -> dict[str, Scheme]:
        return {**{s.name: s for s in self.schemes}, **self.by_code}

    def get(self, code: str) -> Scheme | None:
        return self.by_code.get(code)

    def find(self, text: str) -> Scheme | None:
        """The scheme whose code (any case) or name is `text`, as a roster cell names it."""
        cleaned = str(text).strip()
        return self._by_text.get(cleaned.upper()) or self._by_text.get(cleaned)

    def tiers(self, code: str) -> tuple[str, ...]:
        """The tiers (档次) a scheme has standards for, sorted; ('',) when it has none."""
        return self._tiers.get(code, ())

    @cached_property
    def _tiers(self) -> dict[str, tuple[str, ...]]:
        return {s.code: tuple(sorted({st.tier for st in s.standards})) for s in self.schemes}

    def accepted(self) -> str:
        """The accepted scheme names for an error message: '企业教师生活补贴（QYJS）、…'."""
        return "、".join(f"{s.name}（{s.code}）" for s in self.schemes) or "（尚未设置补贴类别）"


class _TextLoader(yaml.SafeLoader):
    """A YAML loader that keeps 1100.10 as the text '1100.10': money never passes through float."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_schemes(path: str | Path) -> Schemes:
    """Read schemes from a YAML file; every problem is an Issue naming the file and the path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Schemes(
            errors=(_issue(path.name, "", "找不到补贴类别文件", str(path)),), file=path.name
        )
    except UnicodeDecodeError:
        return Schemes(errors=(_issue(path.name, "", "文件不是 UTF-8 编码", None),), file=path.name)
    return parse_schemes(text, path.name)


def parse_schemes(text: str | Mapping | list, file: str = "schemes.yaml") -> Schemes:
    """Schemes from YAML text (or data already parsed from it); `file` names it in errors."""
    if isinstance(text, str):
        try:
            data = yaml.load(text, Loader=_TextLoader)  # a SafeLoader subclass: safe
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark is not None else ""
            return Schemes(
                errors=(_issue(file, where, f"不是有效的 YAML：{exc}", None),), file=file
            )
    else:
        data = text
    # The list stands under `schemes:`, or is the whole document.
    root = "schemes"
    items = data.get(root) if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items:
        problem = _issue(
            file, root, "应为补贴类别的列表", _show(items), "schemes: 下列出每个补贴类别"
        )
        return Schemes(errors=(problem,), file=file)
    errors: list[Issue] = []
    schemes: list[Scheme] = []
    for index, item in enumerate(items):
        scheme = _scheme(item, f"{root}[{index}]", file, errors)
        if scheme is not None:
            schemes.append(scheme)
    _check_unique(items, root, file, errors)
    if errors:
        return Schemes(errors=tuple(errors), file=file)
    return Schemes(schemes=tuple(schemes), file=file)


def _scheme(item: object, where: str, file: str, errors: list[Issue]) -> Scheme | None:
    if not isinstance(item, Mapping):
        errors.append(_issue(file, where, "应为一个补贴类别（含 code、name 等）", _show(item)))
        return None
    count = len(errors)
    _unknown_keys(item, _SCHEME_KEYS, where, file, errors)
    code = _text(item.get("code"))
    if not _CODE.match(code):
        errors.append(
            _issue(
                file,
                f"{where}.code",
                "代码不符合要求",
                _show(item.get("code")),
                "1–6 位大写英文字母或数字，如 QYJS",
            )
        )
    name = _text(item.get("name"))
    if not name:
        errors.append(
            _issue(file, f"{where}.name", "缺少补贴类别名称", None, "如 企业教师生活补贴")
        )
    day = item.get("payment_day")
    if (
        isinstance(day, bool)
        or not isinstance(day, int | str)
        or not str(day).strip().isdigit()
        or not 1 <= int(str(day)) <= 28
    ):
        errors.append(
            _issue(file, f"{where}.payment_day", "发放日不符合要求", _show(day), "1–28 之间的整数")
        )
        day = 1
    function_code = _text(item.get("function_code", "2089999"))
    if not _FUNCTION_CODE.match(function_code):
        errors.append(
            _issue(
                file,
                f"{where}.function_code",
                "功能分类科目编码不符合要求",
                _show(item.get("function_code")),
                "3、5 或 7 位数字，如 2089999",
            )
        )
    economic_code = _text(item.get("economic_code", "30305"))
    if not _ECONOMIC_CODE.match(economic_code):
        errors.append(
            _issue(
                file,
                f"{where}.economic_code",
                "经济分类科目编码不符合要求",
                _show(item.get("economic_code")),
                "3 或 5 位数字，如 30305",
            )
        )
    project = _text(item.get("project")) or name
    standards = _standards(item.get("standards"), f"{where}.standards", file, errors)
    if len(errors) > count:
        return None
    return Scheme(
        code=code,
        name=name,
        payment_day=int(str(day)),
        standards=standards,
        function_code=function_code,
        economic_code=economic_code,
        project=project,
    )


def _standards(items: object, where: str, file: str, errors: list[Issue]) -> tuple[Standard, ...]:
    if not isinstance(items, list) or not items:
        errors.append(
            _issue(
                file,
                where,
                "应至少有一条发放标准",
                _show(items),
                "列表，每条含 start 和 amount，可选 tier",
            )
        )
        return ()
    found: list[Standard] = []
    seen: dict[tuple[str, Month], int] = {}
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            errors.append(_issue(file, here, "应为一条发放标准（含 start、amount）", _show(item)))
            continue
        count = len(errors)
        _unknown_keys(item, _STANDARD_KEYS, here, file, errors)
        tier = _text(item.get("tier"))
        start = _month(item.get("start"), f"{here}.start", file, errors)
        announced = None
        if item.get("announced") is not None:
            announced = _month(item.get("announced"), f"{here}.announced", file, errors)
            if start is not None and announced is not None and announced < start:
                errors.append(
                    _issue(
                        file,
                        f"{here}.announced",
                        "公布月份早于执行月份",
                        str(announced),
                        f"不早于 {start} 的月份",
                    )
                )
        amount = _amount(item.get("amount"), f"{here}.amount", file, errors)
        if len(errors) > count or start is None or amount is None:
            continue
        if (tier, start) in seen:
            errors.append(
                _issue(
                    file,
                    f"{here}.start",
                    f"与 {where}[{seen[(tier, start)]}] 的档次和执行月份相同",
                    str(start),
                    "同一档次每个执行月份只能有一条标准",
                )
            )
            continue
        seen[(tier, start)] = index
        found.append(Standard(start=start, amount=amount, tier=tier, announced=announced))
    return tuple(sorted(found, key=lambda s: (s.tier, s.start)))


def _unknown_keys(
    item: Mapping, known: tuple[str, ...], where: str, file: str, errors: list[Issue]
) -> None:
    for key in item:
        if key not in known:
            errors.append(
                _issue(file, f"{where}.{key}", "不认识的字段", str(key), "、".join(known))
            )


def _check_unique(items: list, root: str, file: str, errors: list[Issue]) -> None:
    # Judged on the raw items, so the positions named are those in the file.
    for key, what in (("code", "代码"), ("name", "名称")):
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not _text(item.get(key)):
                continue
            value = _text(item.get(key))
            if value in first:
                errors.append(
                    _issue(
                        file,
                        f"{root}[{index}].{key}",
                        f"与 {root}[{first[value]}] 的{what}重复",
                        value,
                        f"每个补贴类别的{what}各不相同",
                    )
                )
            else:
                first[value] = index


def _month(value: object, where: str, file: str, errors: list[Issue]) -> Month | None:
    text = _text(value)
    try:
        if not re.fullmatch(r"\d{4}(-|/|年)?\d{1,2}月?", text):
            raise ValueError(text)
        return Month.parse(text)
    except ValueError:
        errors.append(_issue(file, where, "月份不符合要求", _show(value), '年-月，如 "2020-01"'))
        return None


def _amount(value: object, where: str, file: str, errors: list[Issue]) -> int | None:
    if value is None or isinstance(value, bool):
        errors.append(
            _issue(file, where, "缺少金额", _show(value), '以元为单位的金额，如 "1100.00"')
        )
        return None
    try:
        yuan: Decimal = parse_yuan(value)
    except AmountError as exc:
        errors.append(_issue(file, where, str(exc), _show(value), '以元为单位的金额，如 "1100.00"'))
        return None
    if yuan <= 0:
        errors.append(
            _issue(file, where, "金额应大于零", _show(value), '大于零的金额，如 "1100.00"')
        )
        return None
    return to_fen(yuan)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _show(value: object) -> str | None:
    return None if value is None else str(value)


def _issue(
    file: str, where: str, message: str, value: str | None, accepted: str | None = None
) -> Issue:
    # The path inside the YAML file plays the role of a spreadsheet's column.
    return Issue(ERROR, Source(file, column=where or None), message, value, accepted)
