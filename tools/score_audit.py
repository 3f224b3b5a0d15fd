"""Recall and precision of `juesuan audit` on the real-document corpus against the hand-made
answer key (tests/answer_key/*.yaml, described in its README).

    .venv/bin/python tools/score_audit.py [--corpus DIR] [--json]

Each keyed document is audited (the same report `juesuan audit --json` prints). A finding matches
a key entry when one of its evidence pages is the entry's page and one of its printed figures is
one of the entry's figures; template residue and the like match `true_findings` by rule and page.
Recall: key errors found. Precision: findings that match an error or a true finding, over all
findings except 疑似 ones on a gap the key says a reading explains (疑似 is the right answer there).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
KEY = ROOT / "tests" / "answer_key"
CORPUS = ROOT.parent / "shared" / "data" / "real-documents"
CERTAIN = "确定"


def _pages(entry: dict) -> set[int] | None:
    pages = entry.get("page", entry.get("pages"))
    if pages == "all":
        return None
    return set(pages) if isinstance(pages, list) else {pages}


def _figure(text: str) -> str:
    return "".join(str(text).split()).replace(",", "")


def _matches(finding: dict, entry: dict) -> bool:
    pages = _pages(entry)
    found_pages = {e["place"].get("page") for e in finding["evidence"]}
    if pages is not None and not pages & found_pages:
        return False
    if "rule" in entry:
        return finding["rule"] == entry["rule"]
    values = {_figure(e["value"]) for e in finding["evidence"] if e["value"]}
    return bool(values & {_figure(f) for f in entry["figures"]})


def score(key: dict, report: dict) -> dict:
    errors = key.get("errors") or []
    true_findings = key.get("true_findings") or []
    not_errors = key.get("not_errors") or []
    found: set[str] = set()
    correct = wrong = certain_wrong = 0
    misses = []
    for finding in report["findings"]:
        hits = [e["id"] for e in errors if _matches(finding, e)]
        found.update(hits)
        if hits or any(_matches(finding, t) for t in true_findings):
            correct += 1
        elif finding["severity"] != CERTAIN and any(_matches(finding, n) for n in not_errors):
            continue  # 疑似 where a reading explains the gap: the right answer
        else:
            wrong += 1
            certain_wrong += finding["severity"] == CERTAIN
            misses.append(f"{finding['severity']} {finding['rule']}: {finding['message'][:90]}")
    certain = sum(1 for f in report["findings"] if f["severity"] == CERTAIN)
    unmatched = [
        f"{t['rule']} p{t.get('page', t.get('pages'))}"
        for t in true_findings
        if not any(_matches(f, t) for f in report["findings"])
    ]
    return {
        "errors": len(errors),
        "proven": sum(1 for e in errors if e.get("proven")),
        "found": len(found),
        "missed": [e["id"] for e in errors if e["id"] not in found],
        "findings": len(report["findings"]),
        "certain": certain,
        "correct": correct,
        "wrong": wrong,
        "certain_wrong": certain_wrong,
        "false_findings": misses,
        "true_findings_missed": unmatched,
    }


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    from juesuan.audit import audit

    rows = {}
    for path in sorted(KEY.glob("*.yaml")):
        key = yaml.safe_load(path.read_text(encoding="utf-8"))
        document = args.corpus / key["document"]
        if not document.exists():
            print(f"{document}：找不到文件", file=sys.stderr)
            return 2
        rows[path.stem] = score(key, audit(document).as_dict())
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'document':58} errors found recall findings(确定) correct precision 确定-wrong")
    for stem, r in rows.items():
        print(
            f"{stem:58} {r['errors']:6} {r['found']:5} {_ratio(r['found'], r['errors']):>6} "
            f"{r['findings']:8}({r['certain']:2}) {r['correct']:7} "
            f"{_ratio(r['correct'], r['correct'] + r['wrong']):>9} {r['certain_wrong']:10}"
        )
        for miss in r["false_findings"]:
            print(f"    not in key: {miss}")
        if r["missed"]:
            print(f"    missed: {', '.join(r['missed'])}")
        if r["true_findings_missed"]:
            print(f"    true findings missed: {', '.join(r['true_findings_missed'])}")
    total = {k: sum(r[k] for r in rows.values()) for k in ("errors", "found", "correct", "wrong")}
    print(
        f"{'all keyed documents':58} {total['errors']:6} {total['found']:5} "
        f"{_ratio(total['found'], total['errors']):>6} {'':12} {total['correct']:7} "
        f"{_ratio(total['correct'], total['correct'] + total['wrong']):>9}"
    )
    keyed = {r["document"] for r in (yaml.safe_load(p.read_text()) for p in KEY.glob("*.yaml"))}
    rest = sorted(p.name for p in args.corpus.glob("*.pdf") if p.name not in keyed)
    print(f"not keyed yet ({len(rest)}): {', '.join(rest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
