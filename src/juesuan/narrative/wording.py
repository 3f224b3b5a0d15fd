"""A format's wording as data: Jinja templates in its folder render the document's blocks.

`document.j2` lays out the parts; its sentences name facts through functions that print markers
(`ref`, `amount`, `count`, `quote`), so every number in a paragraph becomes a Ref to its fact and
the text check can re-derive it. Direction words come from the numbers (`by_direction`,
`budget_word`), reasons from the dataset (`reason`, `budget_reason`, which also mark where a
missing reason must be warned about). The rendered text is read line by line:

- `@h<level> <anchor> <text>`: a heading;  `@figure <key>`, `@contents`, `@pagebreak`;
- `@text <name>`: the unit's text of that name (or a note that it is missing);
- `@tables <part>`, `@glossary`, `@attachments`, `@performance`: blocks built from values;
- anything else: a generated paragraph, its lines joined; a blank line ends it.

Options (options.yaml) apply to every template alike: percentage places, the space between a
number and Chinese text, and how last year is named.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import jinja2
import jinja2.bccache
import jinja2.ext

from juesuan.codes import economic_codes, function_codes
from juesuan.document.model import (
    Block,
    Contents,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    Quote,
    Ref,
)
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import INCOME_ROWS, SPENDING_COLUMNS
from juesuan.narrative.writer import Part, Writer
from juesuan.rules.engine import FAIL, Outcome
from juesuan.statements.model import Statements
from juesuan.statements.options import FORMATS_DIR, FormatError, FormatOptions, format_options

TEMPLATE = "document.j2"
# Markers in rendered text: a fact's number, a person's words, a missing reason to warn about.
REF, QUOTE, WARN, END = "\x02", "\x04", "\x06", "\x03"
SEP = "\x1f"
BREAK = "\x01"  # where a template has a blank line (not whitespace: lines are stripped)
_BLANK = re.compile(r"\n[ \t]*\n")
_MARKED = re.compile(f"([{REF}{QUOTE}{WARN}])(.*?){END}", re.S)
_DIRECTIVE = re.compile(r"^@(\w+)(?:\s+(.*))?$")


class _BlankLines(jinja2.ext.Extension):
    """A blank line in a template ends a paragraph; a line that renders empty does not."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _BLANK.sub(f"\n{BREAK}\n", source)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs: compiling a format's document.j2 costs a build
    0.08-0.12 CPU-s, loading it a few ms. They are kept in jinja's folder for this user (made
    0700 and checked to be the user's own, since what it holds is run). An entry serves only the
    same template text compiled by the same code: the options and the extension set here shape
    the compiled template too, so this module's source and jinja's version are in its checksum.
    A folder that cannot be read or written only makes the build compile again."""

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha1(_code_identity() + source.encode("utf-8")).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable or damaged: compiled again and rewritten
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def _code_identity() -> bytes:
    return f"{jinja2.__version__}\n".encode() + Path(__file__).read_bytes()


@functools.cache
def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        _code_identity()
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no source to check against, no private temporary folder
        return None


@functools.cache
def _environment(name: str) -> jinja2.Environment:
    options = format_options(name)
    folders = [FORMATS_DIR / name, *(FORMATS_DIR / other for other in options.wording)]
    if not any((folder / TEMPLATE).exists() for folder in folders):
        raise FormatError(f"{FORMATS_DIR / name}：没有措辞模板 {TEMPLATE}")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        extensions=[_BlankLines],
        undefined=jinja2.StrictUndefined,  # a misspelt name is an error, never empty text
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_compiled_templates(),
    )


def render(
    writer: Writer,
    statements: Statements,
    figures: dict[str, Figure],
    builders: dict[str, Callable[[str], list[Block]]],
) -> list[Block]:
    """The document's blocks from the format's templates. `builders` make the blocks that are
    not sentences (tables, glossary, attachments, performance forms), by directive name."""
    options = format_options(statements.format)
    template = _environment(statements.format).get_template(TEMPLATE)
    try:
        text = template.render(_context(writer, statements, options))
    except jinja2.TemplateError as exc:
        raise FormatError(f"{FORMATS_DIR / statements.format}：措辞模板有误：{exc}") from exc
    return _blocks(text, writer, figures, builders, options)


# ---- what the templates may use ------------------------------------------------------------------


def _context(writer: Writer, statements: Statements, options: FormatOptions) -> dict:
    facts = writer.facts

    def ref(key: str) -> str:
        if key not in facts:
            raise FormatError(f"{statements.format} 的措辞模板引用了不存在的事实“{key}”")
        return f"{REF}{key}{END}"

    def quote(text: object) -> str:
        return f"{QUOTE}{str(text).replace(chr(10), '')}{END}" if text else ""

    def count(key: str) -> str:
        found = writer.count(key)
        return ref(key) if isinstance(found, Ref) else quote(found.text)

    def direction(key: str) -> int:
        return facts.direction.get(key, 0) if writer.has(f"{key}.上年") else 0

    def by_direction(key: str, up: str, down: str, same: str = "") -> str:
        """The word for the change of `key`: 增加 / 减少 / 持平 as its numbers say."""
        return {1: up, -1: down, 0: same}[direction(key)]

    def reason(key: str, lead: str = "主要变动原因：") -> str:
        """Why `key` changed against last year — only after a stated change; a warning naming the
        sentence when the change passes the threshold and the dataset gives no reason."""
        if direction(key) == 0:
            return ""
        text = writer.reason("同比变动", key)
        if text:
            return lead + quote(f"{text.rstrip('。')}。")
        if writer.changed_beyond_threshold(key):
            return _warn("同比变动", key, "所述变动超过阈值")
        return ""

    def budget_word(key: str) -> str:
        """大于 / 小于 as the shown figures of 决算 and its budget differ; "" when they read the
        same (a difference under half a cent of 万元 is 持平)."""
        budget = facts.get(f"{key}.预算")
        if budget is None or key not in facts or facts[key].value == budget.value:
            return ""
        return "大于" if facts[key].value > budget.value else "小于"

    def budget_reason(topic: str, key: str, level: str = "", budget: str = "预算数") -> str:
        """Why 决算 differs from `budget` (预算数, or the 全年预算数 the sentence printed), when it
        does (beyond the threshold: a warning if the dataset gives no reason); `level`, when
        they read the same and the format says so."""
        word = budget_word(key)
        if not word:
            return level if writer.has(f"{key}.预算") else ""
        text = writer.reason("预决算差异", topic)
        if text:
            return f"决算数{word}{budget}的主要原因：" + quote(f"{text.rstrip('。')}。")
        threshold = writer.dataset.unit.budget_reason_threshold * 100
        if abs(facts[f"{key}.完成率"].value - 100) > threshold:
            return _warn("预决算差异", topic, f"所述决算数{word}预算数超过阈值")
        return ""

    def purpose(topic: str, where: str) -> str:
        """The dataset's words for what `topic` (a 项 or a 三公 item) was spent on; a warning
        naming the sentence's subject `where` when it gives none."""
        text = writer.dataset.purposes.get(topic)
        if text:
            return quote(text)
        writer.warnings.append(
            Outcome(
                rule="narrative-missing-purpose",
                tier="WARNING",
                title="正文需要的“主要用于”未填报",
                status=FAIL,
                message=f"正文写到“{where}”须说明主要用于什么，数据中没有“{topic}”的用途",
                hint=f"在“主要用途”表中填一行：科目或事项“{topic}”，主要用于写明开支内容。",
                bindings={"topic": topic},
            )
        )
        return ""

    def last_year(suffix: str) -> str:
        if options.prior_year == "number":
            return f"{ref('上年度')} {suffix}"
        return options.prior_year

    def share(key: str, lead: str = "，占 ") -> str:
        return f"{lead}{ref(key + '.占比')}%" if writer.has(f"{key}.占比") else ""

    def completion(key: str, lead: str = "完成预算") -> str:
        return f"，{lead} {ref(key + '.完成率')}%" if writer.has(f"{key}.完成率") else ""

    def rows(section, digits: int, shown: bool = False, spent: bool = False) -> list:
        """The rows of a table section with a code of `digits` (and a figure, when `shown`; any
        amount, even one printed 0.00, when `spent`)."""
        return [
            r
            for r in section.rows
            if r.code
            and len(r.code) == digits
            and (not shown or r.cells[0].shown)
            and (not spent or r.cells[0].exact)
        ]

    dataset = writer.dataset
    return {
        "share": share,
        "completion": completion,
        "rows": rows,
        "having": lambda prefix, names: [n for n in names if writer.has(prefix + n)],
        "nonzero": lambda prefix, names: [n for n in names if not writer.zero(prefix + n)],
        "ref": ref,
        "amount": lambda key: f"{ref(key)} 万元",
        "count": count,
        "quote": quote,
        "has": writer.has,
        "zero": writer.zero,
        "direction": direction,
        "by_direction": by_direction,
        "reason": reason,
        "budget_word": budget_word,
        "budget_reason": budget_reason,
        "budget_phase": facts.budget_phase,
        "compare": lambda a, b: (
            (facts[a].value > facts[b].value) - (facts[a].value < facts[b].value)
        ),
        "reason_text": lambda kind, topic: (
            quote(f"{text.rstrip('。')}。") if (text := writer.reason(kind, topic)) else ""
        ),
        "purpose": purpose,
        "text": lambda name: dataset.texts.get(name, ""),
        "last_year": last_year,
        "function_name": lambda code: function_codes(dataset.unit.year).name(code) or "",
        "economic_name": lambda code: economic_codes(dataset.unit.year).name(code) or "",
        "unit": dataset.unit,
        "dataset": dataset,
        "statements": statements,
        "income_rows": INCOME_ROWS,
        "spending_columns": SPENDING_COLUMNS,
    }


def _warn(kind: str, topic: str, what: str) -> str:
    return f"{WARN}{kind}{SEP}{topic}{SEP}{what}{END}"


# ---- reading the rendered text -----------------------------------------------------------------


def _blocks(
    text: str,
    writer: Writer,
    figures: dict[str, Figure],
    builders: dict[str, Callable[[str], list[Block]]],
    options: FormatOptions,
) -> list[Block]:
    blocks: list[Block] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            paragraph = _paragraph("".join(lines), writer, options)
            if paragraph is not None:
                blocks.append(paragraph)
            lines.clear()

    # A block tag just before a blank line can leave the break at the end of a text line.
    for raw in text.replace(BREAK, f"\n{BREAK}\n").splitlines():
        line = raw.strip()
        directive = _DIRECTIVE.match(line)
        if line == BREAK or directive:
            flush()
        if directive:
            blocks.extend(_directive(*directive.groups(), writer.dataset, figures, builders))
        elif line != BREAK:
            lines.append(line)
    flush()
    return blocks


def _directive(
    name: str,
    argument: str | None,
    dataset: Dataset,
    figures: dict[str, Figure],
    builders: dict[str, Callable[[str], list[Block]]],
) -> list[Block]:
    argument = (argument or "").strip()
    if name.startswith("h") and name[1:].isdigit():
        anchor, _, title = argument.partition(" ")
        return [Heading(int(name[1:]), title.strip(), anchor)]
    if name == "figure":
        return [figures[argument]] if argument in figures else []
    if name == "contents":
        return [Contents()]
    if name == "pagebreak":
        return [PageBreak()]
    if name in ("text", "given_text"):  # given_text: nothing when the unit wrote none
        return unit_text(dataset, argument, missing_note=name == "text")
    if name in builders:
        return builders[name](argument)
    raise FormatError(f"措辞模板中有不认识的指令 @{name}")


def unit_text(dataset: Dataset, key: str, *, missing_note: bool = True) -> list[Block]:
    """The unit's own text `key` as plain paragraphs (not checked against facts)."""
    text = dataset.texts.get(key)
    if not text:
        if not missing_note:
            return []
        note = f"（本部分文字未提供：请在数据集的文字说明中填写“{key}”。）"
        return [Paragraph.plain(note, style="note")]
    return [Paragraph.plain(p) for p in paragraphs(text)]


def paragraphs(text: str) -> list[str]:
    """Markdown text as paragraphs: blank lines separate them; headings lose their # marks."""
    chunks = [c.strip() for c in text.replace("\r\n", "\n").split("\n\n")]
    return [c.lstrip("#").strip().replace("\n", "") for c in chunks if c.strip()]


def _paragraph(text: str, writer: Writer, options: FormatOptions) -> Paragraph | None:
    parts: list[Part] = []
    position = 0
    for match in _MARKED.finditer(text):
        parts.append(text[position : match.start()])
        kind, body = match.groups()
        if kind == REF:
            parts.append(writer.ref(body))
        elif kind == QUOTE:
            parts.append(Quote(body))
        else:
            topic_kind, topic, what = body.split(SEP)
            sentence = writer.para(*parts).text
            writer.warn(topic_kind, topic, f"句子“{sentence}”{what}")
        position = match.end()
    parts.append(text[position:])
    if options.spacing == "tight":
        parts = _tight(parts)
    paragraph = writer.para(*parts)
    return paragraph if paragraph.text.strip() else None


def _tight(parts: list[Part]) -> list[Part]:
    """No space between a number (or a quoted piece such as "（未填报）") and the Chinese text
    around it: "财政局2024年度"."""
    tight = list(parts)
    for i, part in enumerate(tight):
        if not isinstance(part, (Ref, Quote)):
            continue
        before = tight[i - 1] if i else None
        if type(before) is str and before.endswith(" ") and not before[:-1][-1:].isascii():
            tight[i - 1] = before[:-1]
        after = tight[i + 1] if i + 1 < len(tight) else None
        if type(after) is str and after.startswith(" ") and not after[1:2].isascii():
            tight[i + 1] = after[1:]
    return tight


# ---- the unit's texts the format knows -----------------------------------------------------------


def unknown_texts(dataset: Dataset, format_name: str) -> list[Outcome]:
    """A text the format does not print would vanish from the document: one no format knows
    (a misspelt or new title) is FATAL, one another format prints is a WARNING."""
    options = format_options(format_name)
    every = [format_options(p.name) for p in FORMATS_DIR.iterdir() if (p / "options.yaml").exists()]
    outcomes = []
    for name in dataset.texts:
        if options.knows_text(name):
            continue
        elsewhere = any(other.knows_text(name) for other in every)
        where = (
            f"{Path(dataset.origin).name}/texts/{name}.md"
            if dataset.origin and Path(dataset.origin).is_dir()
            else f"工作表“文字说明”中标题为“{name}”的一行"
        )
        known = "、".join([*options.texts, *(f"…{s}" for s in options.text_suffixes)])
        outcomes.append(
            Outcome(
                rule="texts-known",
                tier="WARNING" if elsewhere else "FATAL",
                title="文字说明的标题须为公开格式所用",
                status=FAIL,
                message=(
                    f"{where}：公开格式“{format_name}”不印“{name}”这段文字"
                    + ("（其他格式才用）" if elsewhere else "，任何格式都不认识这个标题")
                ),
                hint=f"本格式认识的标题：{known}。请改用其中之一，或删去这段文字。",
                bindings={"text": name},
            )
        )
    return outcomes
