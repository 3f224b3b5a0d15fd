"""Audit of published disclosures (决算/预算公开): read a PDF, DOCX or text file, find its
sections, tables and numbers, build the facts it states, run the project's table rules and the
text-level checks, and report findings with evidence. See docs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from juesuan.audit.checks import run_all
from juesuan.audit.facts import Facts, gather
from juesuan.audit.findings import (
    CERTAIN,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNREADABLE,
    SUSPECTED,
    Finding,
    Report,
    Unresolved,
    to_html,
)
from juesuan.audit.model import Model, build
from juesuan.audit.read import Document, NotReadable, map_files, read, read_safely, read_text

__all__ = [
    "CERTAIN",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_UNREADABLE",
    "SUSPECTED",
    "Document",
    "Facts",
    "Finding",
    "Model",
    "NotReadable",
    "Report",
    "Unresolved",
    "audit",
    "audit_document",
    "audit_many",
    "audit_text",
    "read",
    "summarize",
    "to_html",
]


def audit_document(document: Document) -> Report:
    """Every check on one read document."""
    if document.error:
        return Report(document.summary(), [], [Unresolved("读取", document.error)], readable=False)
    model = build(document)
    facts = gather(model)
    outcome = run_all(model, facts)
    unresolved = [
        Unresolved("读取", f"第{page.number}页{page.problem}")
        for page in document.pages
        if page.problem
    ]
    unresolved += [Unresolved("数字", n.reason, str(n.place)) for n in model.long_numbers]
    summary = document.summary()
    summary.update(
        {
            "paragraphs": len([p for p in model.paragraphs if p.kind in ("body", "heading")]),
            "headings": len([p for p in model.paragraphs if p.kind == "heading"]),
            "tables": [
                {"title": t.title, "id": t.id, "place": t.place.as_dict(), "rows": len(t.grid_rows)}
                for t in model.tables
            ],
            "projects": list(model.projects),
            "facts": facts.counts(),
            "checks_run": outcome.run,
            "explained_by_rounding": outcome.explained,
        }
    )
    readable = document.readable
    if not readable:
        unresolved.append(Unresolved("读取", "没有可读的文字层（扫描件或乱码），未做任何核对"))
    findings = sorted(outcome.findings, key=lambda f: (f.severity != CERTAIN, _order(f)))
    return Report(summary, findings, unresolved + outcome.unresolved, readable)


def _order(finding: Finding) -> tuple:
    place = finding.evidence[0].place if finding.evidence else None
    if place is None:
        return (0, 0)
    return (place.page or 0, place.line)


def audit(path: str | Path) -> Report:
    """Read and audit one file (a file that cannot be read gives an unreadable report)."""
    return audit_document(read_safely(path))


def audit_text(text: str, name: str = "<text>") -> Report:
    return audit_document(read_text(text, name))


def _audit_path(path: str) -> Report:
    return audit(path)


def audit_many(
    paths: Sequence[str | Path], workers: int | None = None
) -> tuple[list[Report], dict]:
    """Audit many files in parallel processes (all cores by default), with a summary."""
    reports = list(map_files(_audit_path, paths, workers))
    return reports, summarize(reports)


def summarize(reports: list[Report]) -> dict:
    return {
        "files": len(reports),
        "unreadable": [r.document.get("path") for r in reports if not r.readable],
        "with_certain_findings": sum(1 for r in reports if r.readable and r.certain),
        "findings": {
            CERTAIN: sum(len(r.certain) for r in reports),
            SUSPECTED: sum(len(r.findings) - len(r.certain) for r in reports),
        },
        "unresolved": sum(len(r.unresolved) for r in reports),
    }
