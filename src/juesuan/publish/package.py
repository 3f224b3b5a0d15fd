"""The disclosure package: what `juesuan build` writes, and its manifest.

`prepare` does everything that decides whether a package may be written — statements, every rule,
the performance evaluation (its PERF-* outcomes: WARNING and SUGGEST ones are shown, only FATAL
ones block), the narrative and the text-against-tables check — without writing a byte.
`write_package` then writes the tables workbook (the statements, then the document's forms), the
figures, the document as .docx, .pdf and .html, checks.json and manifest.json, and a zip of all
of them, into a new folder that replaces the output folder only when all is written (a failure
leaves the previous package as it was). Each output has a role and a SHA-256; the manifest also
lists every input file read, so a published package traces back to the exact data it came from.
The zip holds the manifest, so the manifest cannot hold the zip's hash: `juesuan build` prints it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from juesuan import __version__
from juesuan.charts.forked import Child
from juesuan.document.assemble import assemble
from juesuan.document.model import Document, FormBlock
from juesuan.files import KeptEntryClash, replaced, replaced_folder, safe_file_name
from juesuan.ledger.model import Dataset
from juesuan.narrative.check import check_text
from juesuan.narrative.facts import Facts, collect
from juesuan.narrative.wording import unknown_texts
from juesuan.performance import ExternalMeasures, PerformanceResult, evaluate_performance
from juesuan.publish.table_layout import TableLayout
from juesuan.rules.engine import (
    FAIL,
    INSUFFICIENT,
    NOT_APPLICABLE,
    PASS,
    TIERS,
    Outcome,
    evaluate,
    load_ruleset,
)
from juesuan.statements.build import build
from juesuan.statements.model import Statements

MANIFEST = "manifest.json"
DOCUMENT_SUFFIXES = {"document-docx": ".docx", "document-pdf": ".pdf", "html": ".html"}
CHECKS = "checks.json"
FIGURES = "figures"


@dataclass(frozen=True)
class Output:
    path: str  # relative to the package folder
    role: str  # tables | document-docx | document-pdf | html | figures | checks
    sha256: str


@dataclass
class Manifest:
    unit: str
    year: int
    format: str
    draft: bool
    inputs: list[dict] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    external: dict | None = None  # performance actuals taken from outside the dataset
    fonts: list[dict] = field(default_factory=list)  # the font files the PDF and figures use
    zip: str | None = None

    def as_dict(self) -> dict:
        return {
            "generator": f"juesuan {__version__}",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "unit": self.unit,
            "year": self.year,
            "format": self.format,
            "draft": self.draft,
            "checks": self.checks,
            "inputs": self.inputs,
            **({"external_measures": self.external} if self.external else {}),
            "fonts": self.fonts,
            "outputs": [{"path": o.path, "role": o.role, "sha256": o.sha256} for o in self.outputs],
        }


@dataclass
class Prepared:
    """Everything a package is made of, computed and checked, nothing written yet."""

    dataset: Dataset
    statements: Statements
    facts: Facts
    outcomes: list[Outcome]
    performance: PerformanceResult | None = None
    measures: ExternalMeasures | None = None  # as given to `prepare`
    forms: list[tuple[str, list[TableLayout]]] = field(default_factory=list)  # form_groups

    @property
    def fatal(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == FAIL and o.tier == "FATAL"]

    @property
    def summary(self) -> dict:
        return summarize(self.outcomes)


def summarize(outcomes: list[Outcome]) -> dict:
    summary = {status: 0 for status in (PASS, FAIL, NOT_APPLICABLE, INSUFFICIENT)}
    failed = {tier: 0 for tier in TIERS}
    for outcome in outcomes:
        summary[outcome.status] += 1
        if outcome.status == FAIL:
            failed[outcome.tier] += 1
    return {**summary, "total": len(outcomes), "failed_by_tier": failed}


def prepare(
    dataset: Dataset,
    format_name: str | None = None,
    *,
    measures: ExternalMeasures | None = None,
) -> Prepared:
    """Statements, rule outcomes, the performance evaluation and its outcomes, facts, and the
    narrative's own checks (no figures needed). `measures` are performance actuals computed
    outside the dataset (the disbursement system's payments); they take precedence over its
    绩效数据 (`evaluate_performance`)."""
    format_name = format_name or dataset.unit.format
    statements = build(dataset, format_name)
    outcomes = evaluate(dataset, load_ruleset(format_name), statements)
    performance = evaluate_performance(dataset, measures=measures)
    outcomes += performance.outcomes
    facts = collect(dataset, statements, performance)
    document, writer = assemble(dataset, statements, facts, [], performance=performance)
    outcomes += writer.warnings + check_text(document, facts, statements)
    outcomes += unknown_texts(dataset, statements.format)
    forms = form_groups(document)  # the figures do not change them: the workbook needs no figures
    return Prepared(dataset, statements, facts, outcomes, performance, measures, forms)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(origin: str) -> list[dict]:
    """Every file of the dataset that was read, with its hash."""
    root = Path(origin)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    return [{"path": str(p.relative_to(base)), "sha256": sha256(p)} for p in files]


def base_name(dataset: Dataset) -> str:
    """The stem of the package's file names; the unit's name made safe for a file name."""
    return f"{dataset.unit.year}年度{safe_file_name(dataset.unit.name)}部门决算"


def tables_file_name(dataset: Dataset) -> str:
    return f"{base_name(dataset)}附表.xlsx"


class OutputRefused(Exception):
    """`out` cannot take a package; nothing was written. The message says why in Chinese."""


KEPT_LIMIT = 1000  # more than this besides a package: a folder of other work, not a package's


def others_files(out: Path) -> list[Path]:
    """What `out` holds besides a previous package (paths relative to it), which the new package
    keeps; OutputRefused when `out` is a file, or a folder of other work (a home folder …) that
    a package must not be swapped with."""
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"输出位置 {out} 是一个文件，应为文件夹（不存在则新建）")
    if not out.is_dir():
        return []
    others = sorted(set(out.rglob("*")) - previous_package(out))
    if len(others) > KEPT_LIMIT:
        raise OutputRefused(
            f"输出文件夹 {out} 中另有 {len(others)} 项不属于公开包的内容（超过 {KEPT_LIMIT} 项），"
            "不像是放公开包的文件夹；未生成任何文件。请指定新的文件夹，或只放公开包的文件夹。"
        )
    return [p.relative_to(out) for p in others]


def previous_package(out: Path) -> set[Path]:
    """The files and folders of the package in `out`: its manifest, the outputs the manifest
    lists, and the zip holding exactly those (empty when `out` holds no package)."""
    try:
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["outputs"]
        members = {MANIFEST, *(str(o["path"]) for o in listed)}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    found = set()
    for member in members:
        path = out / member
        found |= {path, *(p for p in path.parents if out in p.parents)}
    for archive in out.glob("*.zip"):
        try:
            with zipfile.ZipFile(archive) as bundle:
                if set(bundle.namelist()) == members:
                    found.add(archive)
        except (OSError, zipfile.BadZipFile):
            continue
    return found


def write_package(
    prepared: Prepared, out: Path, *, draft: bool = False, drawer: Child | None = None
) -> Manifest:
    """Write every output and their zip into a new folder that replaces `out` when complete.

    A failure at any step leaves `out` as it was. The previous package's files go as a whole;
    anything else in `out` is kept, unless it has the name of a new package file (OutputRefused).
    `drawer`, a child process made ready to draw (`juesuan.charts.ready_to_draw`) while the data
    was read, draws the figures while this one writes the workbook; without it they are drawn here.
    """
    from juesuan.fonts import find_cjk_font

    find_cjk_font()  # before anything is written: a missing font stops here, with how to install one
    keep = others_files(out)
    try:
        with replaced_folder(out, keep=keep) as folder:
            return _write_outputs(prepared, folder, draft, drawer)
    except KeptEntryClash as clash:
        raise OutputRefused(
            f"输出文件夹 {out} 中已有“{clash.filename}”，不属于上次生成的公开包，"
            "却与这次要写出的文件同名；为免覆盖，未改动任何文件。请移走或改名后重新生成。"
        ) from clash


def _write_outputs(prepared: Prepared, out: Path, draft: bool, drawer: Child | None) -> Manifest:
    from juesuan.charts import chart_specs, draw_figures, require_chart_glyphs

    dataset, statements = prepared.dataset, prepared.statements
    # The figures first: the drawer works on them while this process does all the rest.
    charts = chart_specs(dataset, statements)
    if drawer is not None:
        drawer.send(draw_figures, charts, out / FIGURES, True)

    try:
        # Checked while they are drawn (the fonts' character maps are read here once):
        # a character without a font still stops the build before anything is kept.
        require_chart_glyphs(charts)
        from juesuan.publish.tables_xlsx import write_tables

        manifest = _manifest(prepared, draft)
        # The workbook: the statements, then the document's forms, a sheet for each kind.
        tables = out / tables_file_name(dataset)
        write_tables(statements, dataset.unit, tables, draft=draft, forms=prepared.forms)
        # Needs no figure: written while they are drawn, not after the PDF with one core idle.
        checks = out / CHECKS
        _write_json(checks, checks_json(prepared))
    except BaseException:
        if drawer is not None:  # its figures must not land in the folder as it is removed
            drawer.close()
        raise
    from juesuan.fonts import read_font_names
    from juesuan.publish.docx import write_docx
    from juesuan.publish.html import write_html
    from juesuan.publish.pdf import write_pdf

    def record(path: Path, role: str) -> None:
        manifest.outputs.append(Output(str(path.relative_to(out)), role, sha256(path)))

    figures = drawer.result() if drawer is not None else draw_figures(charts, out / FIGURES)
    document, _ = assemble(
        dataset,
        statements,
        prepared.facts,
        figures,
        draft=draft,
        performance=prepared.performance,
    )

    name = base_name(dataset)
    documents = {role: out / f"{name}{suffix}" for role, suffix in DOCUMENT_SUFFIXES.items()}
    # typst lays the PDF out without holding the interpreter: it runs beside the other writers.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pdf = pool.submit(write_pdf, document, documents["document-pdf"])
        write_docx(document, documents["document-docx"])
        write_html(document, documents["html"])
        # The names of the PDF's fonts, read while typst still lays out: not after it, alone.
        read_font_names()
        pdf_fonts = pdf.result()
    record(tables, "tables")
    for figure in figures:
        for path in (figure.png, figure.svg):
            if path is not None:
                record(path, "figures")
    for role, path in documents.items():
        record(path, role)
    manifest.fonts = font_records(pdf_fonts, [f for figure in figures for f in figure.fonts])

    record(checks, "checks")
    _write_json(out / MANIFEST, manifest.as_dict())

    archive = out / f"{name}公开包.zip"
    with (
        replaced(archive) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as bundle,
    ):
        for output in manifest.outputs:
            bundle.write(out / output.path, output.path)
        bundle.write(out / MANIFEST, MANIFEST)
    manifest.zip = archive.name
    return manifest


def _manifest(prepared: Prepared, draft: bool) -> Manifest:
    """The manifest before the outputs: the unit, the inputs read and the checks' summary."""
    dataset = prepared.dataset
    manifest = Manifest(dataset.unit.name, dataset.unit.year, prepared.statements.format, draft)
    manifest.inputs = input_files(dataset.origin)
    manifest.checks = prepared.summary
    if prepared.measures is not None:
        # what was not read from the input files, and so not covered by their hashes
        manifest.external = {
            "source": prepared.measures.source,
            "values": [
                {"project": project, "name": name, "value": str(value)}
                for (project, name), value in sorted(prepared.measures.values.items())
            ],
        }
    return manifest


def font_records(pdf: list[tuple[str, Path | None]], figures: list[Path]) -> list[dict]:
    """The font files the PDF embeds (by the names it gives them) and the figures draw with."""
    from juesuan.fonts import font_source

    records: dict[str, dict] = {}

    def entry(file: Path | None, name: str) -> dict:
        key = str(file) if file else name
        if key not in records:
            records[key] = {
                "file": file.name if file else None,
                "source": font_source(file) if file else "typst",
                "sha256": sha256(file) if file else None,
                "faces": [],
                "used_by": [],
            }
        return records[key]

    for name, file in pdf:
        record = entry(file, name)
        record["faces"].append(name)
        if "pdf" not in record["used_by"]:
            record["used_by"].append("pdf")
    for file in dict.fromkeys(figures):
        record = entry(file, file.name)
        if "figures" not in record["used_by"]:
            record["used_by"].append("figures")
    return list(records.values())


def form_groups(document: Document) -> list[tuple[str, list[TableLayout]]]:
    """The document's forms by group (项目绩效目标完成情况表 …), groups in order of appearance."""
    groups: dict[str, list[TableLayout]] = {}
    for block in document.blocks:
        if isinstance(block, FormBlock):
            groups.setdefault(block.group, []).append(block.layout)
    return list(groups.items())


def checks_json(prepared: Prepared) -> dict:
    dataset, statements = prepared.dataset, prepared.statements
    return {
        "unit": dataset.unit.name,
        "year": dataset.unit.year,
        "format": statements.format,
        "summary": prepared.summary,
        "publishable": not prepared.fatal,
        "outcomes": [o.as_dict() for o in prepared.outcomes],
        "rounding_adjustments": [
            {
                "table": a.table,
                "row": a.row,
                "column": a.column,
                "rounded": str(a.rounded),
                "shown": str(a.shown),
            }
            for t in statements
            for a in t.adjustments
        ],
    }


def _write_json(path: Path, data: dict) -> None:
    with replaced(path) as temporary:
        temporary.write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
