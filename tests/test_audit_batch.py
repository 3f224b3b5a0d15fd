"""`juesuan audit-batch`: the real documents and our own outputs audited in two processes, one
result per document, a kill in the middle and a resume that does only the rest, and the same
batch on two Celery workers through Redis and RabbitMQ."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest

from juesuan.audit.batch import (
    AUDITED,
    FAILED,
    UNREADABLE,
    Item,
    audit_item,
    file_sha256,
    load_result,
    result_name,
)
from juesuan.cli import main
from shared_material import REAL_DOCUMENTS

ROOT = Path(__file__).resolve().parents[1]
REAL = sorted(REAL_DOCUMENTS.glob("*.pdf")) if REAL_DOCUMENTS.is_dir() else []
needs_real = pytest.mark.skipif(not REAL, reason=f"the real documents are not at {REAL_DOCUMENTS}")


def _own_outputs(folder: Path) -> list[Path]:
    """The 泸州 example written as DOCX, PDF and HTML, as `juesuan build` writes them."""
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.docx import write_docx
    from juesuan.publish.html import write_html
    from juesuan.publish.package import prepare
    from juesuan.publish.pdf import write_pdf

    dataset, _ = load(ROOT / "examples" / "luzhou-2020")
    prepared = prepare(dataset, "national-9")
    document, _ = assemble(
        dataset, prepared.statements, prepared.facts, [], performance=prepared.performance
    )
    folder.mkdir(parents=True)
    paths = []
    for suffix, writer in (("docx", write_docx), ("pdf", write_pdf), ("html", write_html)):
        paths.append(folder / f"泸州社保局决算.{suffix}")
        writer(document, paths[-1])
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The real PDFs under 真实/, our own outputs under 自有/, a damaged PDF and a spreadsheet
    (not a document)."""
    if not REAL:
        pytest.skip(f"the real documents are not at {REAL_DOCUMENTS}")
    root = tmp_path_factory.mktemp("batch") / "公开文本"
    (root / "真实").mkdir(parents=True)
    for path in REAL:
        shutil.copyfile(path, root / "真实" / path.name)
    _own_outputs(root / "自有")
    (root / "损坏.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf")
    (root / "明细.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    return root


def _sheet(workbook: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(workbook, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@needs_real
def test_a_batch_in_two_processes_writes_every_result_and_the_summary(corpus, tmp_path, capsys):
    out = tmp_path / "结果"
    status = main(["audit-batch", str(corpus), "-o", str(out), "--workers", "2"])
    assert status == 2  # the damaged PDF could not be read
    err = capsys.readouterr().err
    assert "1 个文件不是" in err and "明细.xls" in err  # reported, not silently left out
    assert f"已完成 {len(REAL) + 4}/{len(REAL) + 4}" in err

    documents = sorted(p for p in corpus.rglob("*") if p.suffix in (".pdf", ".docx", ".html"))
    for path in documents:
        source = path.relative_to(corpus).as_posix()
        result = load_result(out / result_name(source))
        assert result is not None, source
        assert result["source"] == source and result["sha256"] == file_sha256(path)
        if result["status"] == AUDITED:  # the counts are those of the report it carries
            findings = result["report"]["findings"]
            assert result["rules"] == dict(Counter(f["rule"] for f in findings))
            assert result["certain"] == sum(1 for f in findings if f["severity"] == "确定")
    assert not [p for p in out.iterdir() if p.suffix == ".json" and load_result(p) is None]

    rows = {row["文件"]: row for row in _sheet(out / "审核汇总.xlsx", "审核汇总")}
    assert len(rows) == len(documents)
    social = rows["真实/shanghai-putuo-2024-final-accounts-social-work-dept.pdf"]
    assert (social["单位"], social["年度"], social["类别"]) == (
        "中共上海市普陀区委社会工作部",
        2024,
        "决算",
    )
    budget = rows["真实/shanghai-putuo-2025-budget-district-office.pdf"]
    assert (budget["单位"], budget["年度"], budget["类别"]) == (
        "上海市普陀区人民政府办公室",
        2025,
        "预算",
    )
    court = rows["真实/jiangsu-2018-budget-high-court.pdf"]
    assert (court["单位"], court["年度"]) == ("江苏省高级人民法院", 2018)
    template = rows["真实/shanghai-2024-final-accounts-template.pdf"]
    assert template["确定"] > 0 and template["text-template-residue"] > 0
    for suffix in ("docx", "pdf", "html"):  # our own outputs: no findings, cover read
        own = rows[f"自有/泸州社保局决算.{suffix}"]
        assert (own["状态"], own["确定"], own["疑似"]) == (AUDITED, 0, 0), suffix
        assert (own["单位"], own["年度"], own["类别"]) == ("泸州市社会保险事业管理局", 2020, "决算")
    assert rows["损坏.pdf"]["状态"] == UNREADABLE

    failures = _sheet(out / "审核汇总.xlsx", "未能审核")
    assert [(f["文件"], f["状态"]) for f in failures] == [("损坏.pdf", UNREADABLE)]
    assert "损坏.pdf" in failures[0]["原因"]


@needs_real
def test_a_document_over_the_time_limit_is_recorded_and_not_retried_as_done(tmp_path):
    path = REAL[0]
    item = Item(str(path), path.name, result_name(path.name), file_sha256(path))
    row = audit_item(item, tmp_path, timeout=0.001)
    assert row["status"] == FAILED and "超过 0.001 秒" in row["reason"]
    assert load_result(tmp_path / item.name)["reason"] == row["reason"]
    changed = Item(item.path, item.source, item.name, "0" * 64)  # as if the file changed since
    row = audit_item(changed, tmp_path)
    assert row["status"] == FAILED and "被改动" in row["reason"]


# ---- killed and resumed ---------------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from juesuan.cli import main; sys.exit(main())",
        *args,
    ]


@needs_real
def test_a_killed_batch_resumes_with_only_the_rest(tmp_path):
    source = tmp_path / "公开文本"
    for copy in range(3):  # 57 documents: long enough to be killed in the middle
        (source / f"第{copy + 1}批").mkdir(parents=True)
        for path in REAL:
            shutil.copyfile(path, source / f"第{copy + 1}批" / path.name)
    total = 3 * len(REAL)
    out = tmp_path / "结果"
    run = subprocess.Popen(
        _command("audit-batch", str(source), "-o", str(out), "--workers", "2"),
        stderr=subprocess.PIPE,
        start_new_session=True,  # its pool's processes in its group, killed with it
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.json"))) < 8:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 8 <= len(kept) < total, "the batch was not killed in the middle"
    assert all(load_result(out / name) is not None for name in kept)  # none half-written
    assert not (out / "审核汇总.xlsx").exists()

    changed = source / "第1批" / REAL[0].name  # changed meanwhile: audited again
    shutil.copyfile(REAL[1], changed)
    finished = subprocess.run(
        _command("audit-batch", str(source), "-o", str(out), "--workers", "2"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode in (0, 1), finished.stderr
    redone = kept.keys() & {result_name(f"第1批/{REAL[0].name}")}
    assert (
        f"已有结果 {len(kept) - len(redone)} 份，本次审核 {total - len(kept) + len(redone)} 份"
        in (finished.stderr)
    )
    for name, modified in kept.items():
        if name not in redone:
            assert (out / name).stat().st_mtime_ns == modified, f"{name} was audited again"
    results = [load_result(p) for p in out.glob("*.json")]
    assert len(results) == total and all(r["status"] == AUDITED for r in results)
    again = load_result(out / result_name(f"第1批/{REAL[0].name}"))
    assert again["sha256"] == file_sha256(REAL[1])
    assert len(_sheet(out / "审核汇总.xlsx", "审核汇总")) == total


# ---- Celery ---------------------------------------------------------------------------------------

BROKERS = {
    "redis": os.environ.get("JUESUAN_TEST_BROKER_URL", "redis://127.0.0.1:6379/15"),
    "rabbitmq": os.environ.get("JUESUAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def _unreachable(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"redis": 6379, "amqp": 5672}[parts.scheme]
    try:
        socket.create_connection((parts.hostname, port), timeout=2).close()
    except OSError as exc:
        package = "redis-server" if parts.scheme == "redis" else "rabbitmq-server"
        return f"broker {parts.scheme}://{parts.hostname}:{port} is not reachable ({exc}); Debian's {package} would run this test"
    return ""


@needs_real
@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_batch_on_two_celery_workers(broker, corpus, tmp_path):
    url = BROKERS[broker]
    problem = _unreachable(url)
    if problem:
        pytest.skip(problem)
    queue = f"juesuan-test-batch-{uuid.uuid4().hex[:12]}"  # no other run's worker takes these
    out = tmp_path / "结果"
    workers, logs = [], []
    try:
        for number in (1, 2):
            logs.append(tmp_path / f"worker{number}.log")
            command = [
                *(sys.executable, "-m", "celery", "-A", "juesuan.audit.batch_worker", "-b", url),
                *("worker", "--pool=solo", "-Q", queue, "--hostname", f"w{number}-{queue}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
            ]
            with logs[-1].open("wb") as log:
                workers.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        finished = subprocess.run(
            _command("audit-batch", str(corpus), "-o", str(out), "--celery", url, "--queue", queue),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert finished.returncode == 2, finished.stderr  # the damaged PDF
    done = [log.read_text(errors="replace").count("succeeded in") for log in logs]
    assert sum(done) == len(REAL) + 4 and all(done), done  # both workers took documents
    rows = {row["文件"]: row for row in _sheet(out / "审核汇总.xlsx", "审核汇总")}
    assert len(rows) == len(REAL) + 4
    assert rows["损坏.pdf"]["状态"] == UNREADABLE
    assert rows["自有/泸州社保局决算.pdf"]["确定"] == 0
    local = json.loads((out / result_name("真实/" + REAL[0].name)).read_text(encoding="utf-8"))
    assert local["status"] == AUDITED and local["sha256"] == file_sha256(REAL[0])
