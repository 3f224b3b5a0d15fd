"""The disclosure package: what `juesuan build` writes, and its manifest.

Each output has a role (tables, checks, later document-docx, document-pdf, html, figures) and a
SHA-256; the manifest also lists every input file read, so a published package can be traced to
the exact data it came from. Nothing is written when a FATAL rule fails, unless it is a draft.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from juesuan import __version__
from juesuan.files import replaced
from juesuan.ledger.model import Dataset
from juesuan.rules.engine import FAIL, Outcome
from juesuan.statements.model import Statements

MANIFEST = "manifest.json"
CHECKS = "checks.json"


@dataclass(frozen=True)
class Output:
    path: str  # relative to the package folder
    role: str
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
            "outputs": [{"path": o.path, "role": o.role, "sha256": o.sha256} for o in self.outputs],
        }


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


def tables_file_name(dataset: Dataset) -> str:
    return f"{dataset.unit.year}年度{dataset.unit.name}部门决算附表.xlsx"


def write_package(
    dataset: Dataset,
    statements: Statements,
    outcomes: list[Outcome],
    summary: dict,
    out: Path,
    *,
    draft: bool = False,
) -> Manifest:
    """Write tables, checks.json and manifest.json into `out` (created if needed)."""
    from juesuan.publish.tables_xlsx import write_tables

    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(dataset.unit.name, dataset.unit.year, statements.format, draft)
    manifest.inputs = input_files(dataset.origin)
    manifest.checks = summary

    tables = out / tables_file_name(dataset)
    write_tables(statements, dataset.unit, tables, draft=draft)
    manifest.outputs.append(Output(tables.name, "tables", sha256(tables)))

    checks = out / CHECKS
    _write_json(
        checks,
        {
            "unit": dataset.unit.name,
            "year": dataset.unit.year,
            "format": statements.format,
            "summary": summary,
            "publishable": not any(o.status == FAIL and o.tier == "FATAL" for o in outcomes),
            "outcomes": [o.as_dict() for o in outcomes],
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
        },
    )
    manifest.outputs.append(Output(checks.name, "checks", sha256(checks)))
    _write_json(out / MANIFEST, manifest.as_dict())
    return manifest


def _write_json(path: Path, data: dict) -> None:
    with replaced(path) as temporary:
        temporary.write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
