"""Benchmark and mutation corpus for `juesuan audit`.

    .venv/bin/python bench/audit.py                 # timings and a 1,000-document batch
    .venv/bin/python bench/audit.py --mutations 240  # plus the mutation corpus (recall per kind)
    .venv/bin/python bench/audit.py --count 0        # timings only, no batch

Timings: our generated disclosure PDF (the example built by `juesuan build`), a 30-page slice of
it, and the Shanghai template when shared/ is present. Batch: copies of our document as text
(and a smaller batch of PDF copies) audited on 2 worker processes; docs/s.

Headline: read + audit of our PDF (best of --runs, 3) against the floor of pypdfium2 taking the
text of every page of it, the least any reader must do; target under 1 s.

Real documents (shared/data/real-documents, when present), timed in a process of their own as
`juesuan audit` meets them (not after the package build above, whose leftover objects every
garbage collection would sweep again): each PDF read, then audited, with the time per page of
each step, beside poppler's `pdftotext` on the same file (a whole process: the
floor of any reader) and, with --old-reader, pdfplumber taking every page's text lines and tables
as the earlier reader did. Second headline: read + audit of the real document of 30 pages or more
that takes longest, against pypdfium2 taking its text; target under 0.5 s.

Mutation corpus: our generated document with the example's human-written texts corrected
(tests/audit_fixtures/example_fixes.json) must give zero findings; each mutant injects one
error of a known kind into the read document, and is detected when a finding points at the
changed place. Prints recall per kind and overall.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from summary import skipped_line, summary_line

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "luzhou-2020"
FIXES = ROOT / "tests" / "audit_fixtures" / "example_fixes.json"
TEMPLATE = (
    ROOT.parent / "shared" / "data" / "real-documents" / "shanghai-2024-final-accounts-template.pdf"
)
REAL_DOCUMENTS = ROOT.parent / "shared" / "data" / "real-documents"
TARGET_SECONDS = 1.0  # read + audit of one disclosure PDF
TARGET_REAL_SECONDS = 0.5  # read + audit of a real 30-page PDF, on one core


def build_package(out: Path, folder: Path = EXAMPLE) -> Path:
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare, write_package

    dataset, _ = load(folder)
    write_package(prepare(dataset), out)
    return next(out.glob("*部门决算.pdf"))


def clean_copy(folder: Path) -> Path:
    shutil.copytree(EXAMPLE, folder)
    for name, published, corrected in json.loads(FIXES.read_text("utf-8"))["fixes"]:
        path = folder / name
        path.write_text(path.read_text("utf-8").replace(published, corrected), "utf-8")
    return folder


def as_text(document) -> str:
    """A read document back as plain text: lines, and grids as tab-separated rows."""
    from juesuan.audit.read import Grid

    out = []
    for block in document.blocks:
        if isinstance(block, Grid):
            out.append("\n".join("\t".join(c or "" for c in row) for row in block.rows))
        else:
            out.append(block.text)
    return "\n\n".join(out) + "\n"


def timed(label: str, function, *args):
    start = time.perf_counter()
    result = function(*args)
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def best_of(runs: int, function, *args) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best


def page_texts(pdf: Path) -> list[str]:
    """Every page's text by pypdfium2, nothing else: the floor of reading a PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    return [page.get_textpage().get_text_range() for page in document]


def timings(pdf: Path, work: Path, runs: int) -> None:
    import pypdfium2

    from juesuan.audit import audit
    from juesuan.audit.read import read

    pages = len(pypdfium2.PdfDocument(str(pdf)))
    timed(f"read only, our PDF ({pages} pages)", read, pdf)
    report = timed(f"read + audit, our PDF ({pages} pages)", audit, pdf)
    print(f"  findings {len(report.findings)}, checks {report.document['checks_run']}")
    source = pypdfium2.PdfDocument(str(pdf))
    sliced = pypdfium2.PdfDocument.new()
    sliced.import_pages(source, list(range(min(30, pages))))
    slice_path = work / "slice30.pdf"
    sliced.save(str(slice_path))
    timed("read + audit, 30-page slice", audit, slice_path)
    if TEMPLATE.exists():
        timed("read + audit, Shanghai template (23 pages)", audit, TEMPLATE)
    figure = best_of(runs, audit, pdf)
    floor = best_of(runs, page_texts, pdf)
    print(
        f"read + audit, our PDF, best of {runs}: {figure:.2f} s; "
        f"floor, pypdfium2 text: {floor:.3f} s"
    )
    print(
        summary_line(
            "audit",
            figure,
            "s",
            floor,
            TARGET_SECONDS,
            what=f"juesuan audit of our {pages}-page disclosure PDF, best of {runs}",
            floor_what="pypdfium2 takes the text of every page of the same PDF",
        )
    )


def pdftotext_seconds(pdf: Path) -> float | None:
    """poppler's pdftotext on the file, a whole process (None when poppler is not installed)."""
    import subprocess

    if not shutil.which("pdftotext"):
        return None
    start = time.perf_counter()
    subprocess.run(["pdftotext", "-q", str(pdf), "-"], capture_output=True, check=False)
    return time.perf_counter() - start


def pdfplumber_seconds(pdf: Path) -> float | None:
    """pdfplumber taking every page's text lines and ruled tables, as the earlier reader did
    (None when pdfplumber is not installed: it is no longer a dependency)."""
    try:
        import pdfplumber
    except ImportError:
        return None
    start = time.perf_counter()
    with pdfplumber.open(str(pdf)) as document:
        for page in document.pages:
            page.extract_text_lines()
            page.find_tables()
            page.close()
    return time.perf_counter() - start


def _ms(seconds: float | None, pages: int) -> str:
    return "     -" if seconds is None else f"{1000 * seconds / pages:6.1f}"


def real_documents(runs: int, old_reader: bool) -> None:
    import pypdfium2

    from juesuan.audit import audit_document
    from juesuan.audit.read import read

    paths = sorted(REAL_DOCUMENTS.glob("*.pdf"))
    if not paths:
        print(skipped_line("audit (real PDF, 30 pages)", f"no PDF in {REAL_DOCUMENTS}"))
        return
    print("real documents, ms per page: read | audit | pdftotext | pdfplumber (old reader)")
    slowest = (0.0, None, 0)
    for path in paths:
        pages = len(pypdfium2.PdfDocument(str(path)))
        document = read(path)
        read_s = best_of(runs, read, path)
        audit_s = best_of(runs, audit_document, document)
        floor = pdftotext_seconds(path)
        old = pdfplumber_seconds(path) if old_reader else None
        print(
            f"  {path.name:58} {pages:3d} p  {_ms(read_s, pages)} | {_ms(audit_s, pages)} | "
            f"{_ms(floor, pages)} | {_ms(old, pages)}   read + audit {read_s + audit_s:.2f} s"
        )
        if pages >= 30 and read_s + audit_s > slowest[0]:
            slowest = (read_s + audit_s, path, pages)
    figure, path, pages = slowest
    if path is None:
        print(skipped_line("audit (real PDF, 30 pages)", "no real PDF of 30 pages or more"))
        return
    print(
        summary_line(
            "audit (real PDF, 30 pages)",
            figure,
            "s",
            best_of(runs, page_texts, path),
            TARGET_REAL_SECONDS,
            what=f"juesuan read + audit of {path.name} ({pages} pages), the slowest of 30+ pages",
            floor_what="pypdfium2 takes the text of every page of the same PDF",
        )
    )


def batch(pdf: Path, work: Path, count: int, pdf_count: int, workers: int) -> None:
    from juesuan.audit import audit_many
    from juesuan.audit.read import read

    text = as_text(read(pdf))
    folder = work / "batch"
    folder.mkdir()
    paths = []
    for i in range(count):
        path = folder / f"doc{i:04d}.txt"
        path.write_text(text, "utf-8")
        paths.append(path)
    start = time.perf_counter()
    reports, _summary = audit_many(paths, workers=workers)
    elapsed = time.perf_counter() - start
    print(
        f"batch: {count} text documents on {workers} processes: {elapsed:.1f} s, "
        f"{count / elapsed:.1f} docs/s (findings per document {len(reports[0].findings)})"
    )
    if pdf_count:
        pdfs = []
        for i in range(pdf_count):
            path = folder / f"doc{i:04d}.pdf"
            shutil.copyfile(pdf, path)
            pdfs.append(path)
        start = time.perf_counter()
        audit_many(pdfs, workers=workers)
        elapsed = time.perf_counter() - start
        rate = pdf_count / elapsed
        print(
            f"batch: {pdf_count} PDF copies ({pdf.stat().st_size // 1024} KB each) on {workers} "
            f"processes: {elapsed:.1f} s, {rate:.2f} docs/s (1,000 PDFs ≈ {1000 / rate / 60:.0f} min)"
        )


# ---- mutation corpus --------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+\.\d{2}")


def _bump(text: str, match: re.Match, delta: str) -> str:
    value = Decimal(match.group(0)) + Decimal(delta)
    return text[: match.start()] + f"{value:.2f}" + text[match.end() :]


def _candidates(document) -> dict[str, list[tuple[int, int]]]:
    """(page index, block index) of the places each kind of error can be injected."""
    from juesuan.audit.read import Grid

    kinds: dict[str, list[tuple[int, int]]] = {k: [] for k in KINDS}
    for p, page in enumerate(document.pages):
        for b, block in enumerate(page.blocks):
            if isinstance(block, Grid):
                if any(re.fullmatch(r"\d{3,7}", (row[0] or "")) for row in block.rows):
                    kinds["table-cell"].append((p, b))
                continue
            text = block.text
            if re.search(r"占\s*\d+\.\d{2}%", text):
                kinds["share"].append((p, b))
            if re.search(r"(?:同比)?(?:下降|增长)\s*\d+\.\d{2}%", text) and re.search(
                r"减少|增加", text
            ):
                kinds["yoy-rate"].append((p, b))
                kinds["yoy-direction"].append((p, b))
            if re.search(r"（项）：支出决算为\s*\d+\.\d{2}", text):
                kinds["item-amount"].append((p, b))
            if re.search(r"\d\s*万元[，。；]", text):
                kinds["stray-symbol"].append((p, b))
            if re.search(r"比\s*\d{4}\s*年(减少|增加)", text) or (
                "与 2019 年相比" in text and re.search(r"减少|增加", text)
            ):
                kinds["template-residue"].append((p, b))
            if re.match(r"\d{1,2}\. ", text):
                kinds["numbering"].append((p, b))
            if re.search(r"人均发放\s*\d+\.\d{2}", text):
                kinds["per-capita"].append((p, b))
            if re.search(r"本年(?:收入|支出)合计\s*\d", text):
                kinds["text-total"].append((p, b))
    return kinds


def _mutate(document, kind: str, where: tuple[int, int], rng: random.Random):
    from juesuan.audit.read import Document, Grid, Line

    p, b = where
    page = document.pages[p]
    block = page.blocks[b]
    if isinstance(block, Grid):
        rows = [list(r) for r in block.rows]
        cells = [
            (i, j)
            for i, row in enumerate(rows)
            if re.fullmatch(r"\d{3,7}", row[0] or "")
            for j, cell in enumerate(row)
            if j > 0 and cell and re.fullmatch(r"[\d,]+\.\d{2}", cell)
        ]
        i, j = rng.choice(cells)
        value = Decimal(rows[i][j].replace(",", "")) + Decimal(
            rng.choice(["1.00", "10.00", "0.50"])
        )
        rows[i][j] = f"{value:,.2f}"
        changed: Line | Grid = Grid(tuple(tuple(r) for r in rows), block.place, block.ruled)
    else:
        text = block.text
        if kind == "share":
            match = rng.choice(list(re.finditer(r"(?<=占)\s*(\d+\.\d{2})(?=%)", text)))
            text = (
                text[: match.start(1)]
                + f"{Decimal(match.group(1)) + Decimal('1.00'):.2f}"
                + text[match.end(1) :]
            )
        elif kind == "yoy-rate":
            match = re.search(r"(?<=下降|增长)\s*(\d+\.\d{2})(?=%)", text)
            text = (
                text[: match.start(1)]
                + f"{Decimal(match.group(1)) + Decimal('2.00'):.2f}"
                + text[match.end(1) :]
            )
        elif kind == "yoy-direction":
            text = (
                text.replace("下降", "增长", 1)
                if "下降" in text
                else text.replace("增长", "下降", 1)
            )
        elif kind == "item-amount":
            match = re.search(r"(?<=支出决算为)\s*(\d+\.\d{2})", text)
            text = (
                text[: match.start(1)]
                + f"{Decimal(match.group(1)) + Decimal('3.00'):.2f}"
                + text[match.end(1) :]
            )
        elif kind == "stray-symbol":
            match = rng.choice(list(re.finditer(r"\d\s*万元(?=[，。；])", text)))
            text = text[: match.end()] + "%" + text[match.end() :]
        elif kind == "template-residue":
            text = re.sub(
                r"(减少|增加)",
                lambda m: m.group(1) + ("（增加）" if m.group(1) == "减少" else "（减少）"),
                text,
                count=1,
            )
        elif kind == "numbering":
            match = re.match(r"(\d{1,2})\. ", text)
            text = f"{int(match.group(1)) + 2}. " + text[match.end() :]
        elif kind == "per-capita":
            match = re.search(r"(?<=人均发放)\s*(\d+\.\d{2})", text)
            text = (
                text[: match.start(1)]
                + f"{Decimal(match.group(1)) + Decimal('0.30'):.2f}"
                + text[match.end(1) :]
            )
        elif kind == "text-total":
            match = re.search(r"(?<=合计)\s*(\d+\.\d{2})", text)
            text = (
                text[: match.start(1)]
                + f"{Decimal(match.group(1)) + Decimal('5.00'):.2f}"
                + text[match.end(1) :]
            )
        changed = replace(block, text=text)
    blocks = list(page.blocks)
    blocks[b] = changed
    pages = list(document.pages)
    pages[p] = replace(page, blocks=tuple(blocks))
    target = (block.place, len(block.rows)) if isinstance(block, Grid) else block.place
    return Document(document.path, document.kind, tuple(pages)), target


KINDS = (
    "share",
    "yoy-rate",
    "yoy-direction",
    "item-amount",
    "table-cell",
    "stray-symbol",
    "template-residue",
    "numbering",
    "per-capita",
    "text-total",
)


def _near(found, changed) -> bool:
    """The finding points at the changed line, or into the changed table (a grid's rows)."""
    if isinstance(changed, tuple):
        place, rows = changed
        return found.page == place.page and place.line <= found.line < place.line + rows
    return found == changed


def _run_mutant(job):
    from juesuan.audit import audit_document

    document, kind, place = job
    report = audit_document(document)
    at_place = any(_near(e.place, place) for f in report.findings for e in f.evidence)
    return kind, bool(report.findings), at_place, [f.rule for f in report.findings]


def mutations(work: Path, count: int, workers: int, seed: int = 20201231) -> None:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from juesuan.audit import audit_document
    from juesuan.audit.read import read
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.docx import write_docx
    from juesuan.publish.package import prepare
    from juesuan.publish.pdf import write_pdf

    dataset, _ = load(clean_copy(work / "clean"))
    prepared = prepare(dataset)
    document, _ = assemble(dataset, prepared.statements, prepared.facts, [])
    originals = {}
    for suffix, writer in ((".docx", write_docx), (".pdf", write_pdf)):
        path = work / f"clean{suffix}"
        writer(document, path)
        originals[suffix] = read(path)
        report = audit_document(originals[suffix])
        print(f"original {suffix}: {len(report.findings)} findings (must be 0)")
    rng = random.Random(seed)
    jobs = []
    for i in range(count):
        base = originals[".docx" if i % 2 == 0 else ".pdf"]
        places = _candidates(base)
        kind = KINDS[i % len(KINDS)]
        if not places[kind]:
            continue
        mutant, place = _mutate(base, kind, rng.choice(places[kind]), rng)
        jobs.append((mutant, kind, place))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
        results = list(pool.map(_run_mutant, jobs, chunksize=4))
    elapsed = time.perf_counter() - start
    total, hits, any_hits = Counter(), Counter(), Counter()
    missed: dict[str, list[str]] = {}
    for kind, anything, at_place, found_rules in results:
        total[kind] += 1
        hits[kind] += at_place
        any_hits[kind] += anything
        if not at_place:
            missed.setdefault(kind, []).append(",".join(found_rules) or "(none)")
    print(f"mutants: {len(results)} in {elapsed:.1f} s on {workers} processes")
    for kind in KINDS:
        if total[kind]:
            print(
                f"  {kind:17s} {hits[kind]:3d}/{total[kind]:3d} = {hits[kind] / total[kind]:6.1%}"
                f"   (any finding {any_hits[kind]}/{total[kind]})"
            )
    overall = sum(hits.values()) / max(1, sum(total.values()))
    print(f"  overall recall (finding at the changed place): {overall:.1%}")
    for kind, rules in missed.items():
        print(f"  missed {kind}: {Counter(rules).most_common(3)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=1000, help="text documents in the batch (0: no batch)"
    )
    parser.add_argument("--pdf-count", type=int, default=40, help="PDF copies in the batch")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="timed audits of our PDF (best kept)")
    parser.add_argument("--mutations", type=int, default=0, help="mutants to generate (0: none)")
    parser.add_argument(
        "--old-reader", action="store_true", help="also time pdfplumber on the real documents"
    )
    parser.add_argument("--real-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.real_only:
        real_documents(max(1, args.runs), args.old_reader)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf = timed("build the example package", build_package, work / "pkg")
        timings(pdf, work, max(1, args.runs))
        real = [sys.executable, __file__, "--real-only", "--runs", str(args.runs)]
        sys.stdout.flush()  # the child's lines come after these
        subprocess.run(real + ["--old-reader"] * args.old_reader, check=True)
        if args.count:
            batch(pdf, work, args.count, args.pdf_count, args.workers)
        if args.mutations:
            mutations(work, args.mutations, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
