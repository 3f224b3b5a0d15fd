"""Code, CodeTable and CodeProblem: lookup over one classification (功能分类 or 经济分类)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FUNCTION = "function"
ECONOMIC = "economic"
KINDS = (FUNCTION, ECONOMIC)

# Code length -> level, per classification.
LEVELS: dict[str, dict[int, str]] = {
    FUNCTION: {3: "类", 5: "款", 7: "项"},
    ECONOMIC: {3: "类", 5: "款"},
}
KIND_LABELS = {FUNCTION: "功能分类", ECONOMIC: "经济分类"}
CONFIDENCES = ("high", "medium", "unverified")
# How sure a shipped row is, as told to a user (docs.md says what each level rests on).
CONFIDENCE_LABELS = {"high": "有公开文件佐证", "medium": "佐证不足", "unverified": "未经核实"}

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]+")
_LEVEL_SUFFIX = re.compile(r"\((类|款|项)\)$")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(
            f"科目表类型应为“function”（功能分类）或“economic”（经济分类），收到的是“{kind}”"
        )
    return kind


def normalize_code(code: object) -> str:
    """A code as written -> digits only: full-width digits and spaces ("208 01 09") are accepted."""
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    if code is None:
        return ""
    return _SPACES.sub("", str(code).translate(_FULLWIDTH_DIGITS))


def name_key(name: str) -> str:
    """A name for comparison: NFKC (full-/half-width brackets alike), no spaces, no "（项）" tag."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", name))
    return _LEVEL_SUFFIX.sub("", text)


def level_of(code: str, kind: str) -> str | None:
    """类/款/项 from the code's length; None when the code is not digits of a valid length."""
    if not _DIGITS.fullmatch(code):
        return None
    return LEVELS[kind].get(len(code))


def parent_of(code: str, kind: str) -> str | None:
    """The code one level up, derived from the digits (208 for 20801, 20801 for 2080109)."""
    level = level_of(code, kind)
    if level is None or level == "类":
        return None
    return code[:-2]


def lengths_text(kind: str) -> str:
    return "/".join(str(n) for n in LEVELS[kind])


def malformed_message(shown: str, kind: str) -> str:
    return f"科目编码“{shown}”格式不对：{KIND_LABELS[kind]}应为{lengths_text(kind)}位数字"


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    level: str  # "类" | "款" | "项"
    parent: str | None
    confidence: str  # "high" | "medium" | "unverified"
    source: str

    @property
    def label(self) -> str:
        """ "2080109 社会保险经办机构", as used in messages."""
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class CodeProblem:
    code: str
    message: str  # Chinese, shown to the person who wrote the code
    suggestions: tuple[Code, ...]
    reason: str = "unknown"  # "malformed" | "unknown" | "name"


class CodeTable:
    """One classification's codes, keyed by code; iteration is in code (tree) order.

    `year` labels messages ("不在2020年科目表中"). `complete` says whether the table claims to be
    the whole official table; the shipped tables are partial, so their "unknown code" messages
    say so. `origin` names the table in those messages ("内置2020年功能分类科目表", or the user's
    imported file).
    """

    def __init__(
        self,
        kind: str,
        codes: Iterable[Code],
        *,
        year: int | None = None,
        complete: bool = False,
        origin: str = "",
    ) -> None:
        self.kind = check_kind(kind)
        self.year = year
        self.complete = complete
        self.origin = origin or f"{KIND_LABELS[kind]}科目表"
        by_code: dict[str, Code] = {}
        for code in codes:
            if level_of(code.code, kind) is None:
                raise ValueError(malformed_message(code.code, kind))
            by_code[code.code] = code
        self._codes = dict(sorted(by_code.items()))
        self._children: dict[str, list[Code]] = {}
        for code in self._codes.values():
            parent = parent_of(code.code, kind)
            if parent is not None:
                self._children.setdefault(parent, []).append(code)

    def __repr__(self) -> str:
        year = f" {self.year}" if self.year is not None else ""
        return f"<CodeTable {self.kind}{year}: {len(self)} codes>"

    # -- lookup ---------------------------------------------------------------------------------

    def get(self, code: str) -> Code | None:
        return self._codes.get(normalize_code(code))

    def __contains__(self, code: object) -> bool:
        return normalize_code(code) in self._codes

    def __iter__(self) -> Iterator[Code]:
        return iter(self._codes.values())

    def __len__(self) -> int:
        return len(self._codes)

    def name(self, code: str) -> str | None:
        found = self.get(code)
        return found.name if found else None

    def level(self, code: str) -> str | None:
        return level_of(normalize_code(code), self.kind)

    def parent(self, code: str) -> str | None:
        return parent_of(normalize_code(code), self.kind)

    def children(self, code: str) -> list[Code]:
        return list(self._children.get(normalize_code(code), ()))

    # -- suggestions and checks -----------------------------------------------------------------

    def closest(self, code: str, name: str | None = None, n: int = 3) -> list[Code]:
        """Nearest known codes to a code that is probably mistyped or missing from the table.

        Order: codes whose name equals `name`; then known siblings (same parent); then the rest
        by shared leading digits and digits equal in place, blended with name similarity when a
        name is given; codes of the same level before other levels, then by numeric distance.
        Ties go in code order.
        """
        wanted = normalize_code(code)
        wanted_name = name_key(name) if name else ""
        parent = parent_of(wanted, self.kind)
        ranked: list[tuple[tuple[object, ...], Code]] = []
        for known in self._codes.values():
            if known.code == wanted:
                continue
            known_name = name_key(known.name)
            same_name = bool(wanted_name) and known_name == wanted_name
            sibling = parent is not None and parent_of(known.code, self.kind) == parent
            same_level = len(known.code) == len(wanted)
            closeness = _closeness(wanted, known.code)
            if wanted_name:
                ratio = difflib.SequenceMatcher(None, wanted_name, known_name).ratio()
                score = (closeness + ratio) / 2
                sibling_order = -ratio
            else:
                score = closeness
                sibling_order = 0.0
            if sibling:
                key: tuple[object, ...] = (not same_name, 0, sibling_order, known.code)
            else:
                distance = _distance(wanted, known.code)
                key = (not same_name, 1, not same_level, -score, distance, known.code)
            ranked.append((key, known))
        ranked.sort(key=lambda pair: pair[0])
        return [known for _, known in ranked[: max(n, 0)]]

    def check(self, code: str, name: str | None = None) -> CodeProblem | None:
        """None when the code is known (and, if given, its name matches); else a problem."""
        shown = "" if code is None else str(code).strip()
        wanted = normalize_code(code)
        if level_of(wanted, self.kind) is None:
            plausible = bool(_DIGITS.fullmatch(wanted)) or bool(name and name.strip())
            suggestions = tuple(self.closest(wanted, name)) if plausible else ()
            return CodeProblem(
                shown, malformed_message(shown, self.kind), suggestions, reason="malformed"
            )
        known = self._codes.get(wanted)
        if known is None:
            suggestions = tuple(self.closest(wanted, name))
            year = f"{self.year}年" if self.year is not None else ""
            message = f"{KIND_LABELS[self.kind]}科目编码“{wanted}”不在{year}科目表中"
            if suggestions:
                message += "；最接近的有：" + "、".join(s.label for s in suggestions)
            return CodeProblem(wanted, message + self._import_hint(), suggestions, reason="unknown")
        if name is not None and name.strip() and name_key(name) != name_key(known.name):
            written = name.strip()
            message = f"科目编码“{wanted}”的名称应为“{known.name}”，填的是“{written}”"
            if known.confidence == "unverified":
                message += "（该名称未经财政部科目表核实）"
            same_name = tuple(
                other
                for other in self._codes.values()
                if other.code != wanted and name_key(other.name) == name_key(written)
            )
            if len(same_name) == 1:
                message += f"；名称“{written}”对应的编码是{same_name[0].code}"
            return CodeProblem(wanted, message, same_name or (known,), reason="name")
        return None

    def _import_hint(self) -> str:
        """Which table was looked in, and the command that loads the official one."""
        year = self.year if self.year is not None else "年度"
        command = f"juesuan codes import 财政部科目表.xlsx --year {year} --kind {self.kind}"
        if self.complete:
            return f"（查的是{self.origin}；如需换用财政部当年科目表，可运行“{command}”）"
        return (
            f"（查的是{self.origin}，内置科目表不全；如确为本年度科目，"
            f"可运行“{command}”导入财政部当年科目表）"
        )

    # -- combining ------------------------------------------------------------------------------

    def merged(self, other: CodeTable) -> CodeTable:
        """A new table: all of self's rows, with other's rows overriding and extending them."""
        if other.kind != self.kind:
            raise ValueError(
                f"不能合并不同类型的科目表：{KIND_LABELS[self.kind]}与{KIND_LABELS[other.kind]}"
            )
        rows = {**self._codes, **other._codes}
        return CodeTable(
            self.kind,
            rows.values(),
            year=self.year if self.year is not None else other.year,
            complete=self.complete or other.complete,
            origin=f"{self.origin}和{other.origin}",
        )


def _closeness(wanted: str, known: str) -> float:
    """0..1: shared leading digits, plus digits equal in place (catches one mistyped digit)."""
    if not wanted:
        return 0.0
    prefix = 0
    for x, y in zip(wanted, known, strict=False):
        if x != y:
            break
        prefix += 1
    in_place = sum(x == y for x, y in zip(wanted, known, strict=False))
    return (prefix + in_place) / (2 * max(len(wanted), len(known)))


def _distance(wanted: str, known: str) -> int:
    """Numeric distance with both codes padded to 7 digits (208 sits next to 20801 and 209)."""
    if not _DIGITS.fullmatch(wanted) or len(wanted) > 7:
        return 0
    return abs(int(known.ljust(7, "0")) - int(wanted.ljust(7, "0")))
