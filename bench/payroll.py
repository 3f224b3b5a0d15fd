"""Benchmark: a month's 代发 for 2,000,000 beneficiaries through the web app's services.

What it measures, on PostgreSQL (a fresh database made for the run and dropped after it, on the
server of JUESUAN_BENCH_DATABASE_URL or postgresql:///test by default), with the same service
functions the pages, jobs and commands call:

1. set-up (not part of the targets): three schemes, 2,000,000 beneficiaries COPYed in and
   given their person keys, as a roster import gives them;
2. the monthly run: 经办 prepares (read the roster, `compute_month`, persist the payments with
   COPY), 复核 reviews, 审批 approves (payments SENT, bank files written through the
   generic-csv adapter) — target under 30 s and at most 5× the raw COPY below;
3. the bank's result file for the month with 20,000 failures among the 2,000,000 rows (made
   by the bank simulator `banks.write_results`, not timed), imported — target under 10 s and
   at most 1.2× a raw UPDATE of as many rows —
   with its phases as the import reports them, and where the time of its parts goes: the
   payments read with COPY, the one UPDATE marking the paid rows, and — in a thread at the
   same time — the file read and checked and the rows matched in polars; then the returned
   rows updated by id; and the import's CPU seconds: the Python process (all its threads), the
   PostgreSQL backend of its connection and that of the thread's (from /proc, when the server
   runs on this machine);
4. the floors: a raw COPY of the same payment rows into an unindexed scratch table, and one
   raw UPDATE of every row of it (with its backend's CPU); the ratios of the run and of the
   import to them. The import and the raw UPDATE each start right after a CHECKPOINT: neither
   then meets one under way (flushing what the run or the scratch COPY left), and both write
   the first change of each page whole into the WAL, as an import does days after its
   approval. Left to the server's own checkpoints, the raw UPDATE of 2,000,000 rows took
   4.8–5.0 s here (13.1–13.4 s in earlier runs); after a CHECKPOINT, 3.6–3.7 s. The monthly
   run and the raw COPY start right after one too, so that neither meets the one the work
   before it (the set-up's COPY, the import) set off;
5. the conservation check as the 资金守恒 page runs it (sums in the database, chains of
   re-issues through `transitions.balance`); `--python-balance` also runs the reference
   `transitions.balance` over every payment and compares;
6. peak memory of the process (resource.getrusage, maximum resident set size);
7. with `--fixed-txt`, the same answers as fixed-width result files (the `fixed-txt`
   adapter, GB18030 byte widths), read by the fast reader and by the careful one.

Figures are printed; nothing is asserted.

Run:
    python bench/payroll.py
    python bench/payroll.py --people 200000
    JUESUAN_BENCH_DATABASE_URL=postgresql://user@host/postgres python bench/payroll.py
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from summary import skipped_line, summary_line

SCHEMES = """\
schemes:
  - code: QYJS
    name: 企业教师生活补贴
    payment_day: 10
    standards:
      - {start: "2020-01", amount: "1100.00"}
  - code: LGB
    name: 建国初期老干部困难补贴
    payment_day: 10
    standards:
      - {tier: 一档, start: "2020-01", amount: "580.00"}
      - {tier: 二档, start: "2020-01", amount: "620.00"}
  - code: LXRY
    name: 市级破产改制企业离休人员生活补贴
    payment_day: 15
    standards:
      - {start: "2020-01", amount: "3100.00"}
"""
TARGET_RUN_S = 30.0
TARGET_RUN_RATIO = 5.0
TARGET_IMPORT_S = 10.0
TARGET_IMPORT_RATIO = 1.2


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def backend_cpu() -> float | None:
    """CPU seconds (user + system) so far of the PostgreSQL backend serving this thread's
    connection, from /proc; None when the server is not on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkpoint() -> str:
    """CHECKPOINT before a timed UPDATE (see 4. above); a note for the figure when the server
    does not allow it (superuser or pg_checkpoint only)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:
        return f" (no CHECKPOINT before it: {type(exc).__name__})"
    return ""


def cpu_delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def cpu_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def fresh_postgres(server_url: str) -> tuple[str | None, str]:
    """(URL of a new empty database, its name); (None, reason) when the server does not answer."""
    import psycopg

    name = f"juesuan_payroll_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        return None, f"PostgreSQL at {server_url} unreachable ({type(exc).__name__}: {exc})"
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, "")), name


def drop_postgres(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def roster(people: int):
    """A synthetic roster: valid 公民身份号码 (check digit computed column-wise), 19-digit
    accounts, two- or three-character names; 80 % QYJS, 15 % LGB (two tiers), 5 % LXRY."""
    import polars as pl

    n = pl.int_range(0, people, eager=True, dtype=pl.Int64)
    frame = pl.DataFrame({"n": n})
    body = (
        pl.lit("5105")
        + (pl.col("n") % 89 + 10).cast(pl.String)
        + (1930 + pl.col("n") % 25).cast(pl.String)
        + (1 + pl.col("n") % 12).cast(pl.String).str.zfill(2)
        + (1 + pl.col("n") % 28).cast(pl.String).str.zfill(2)
        + (pl.col("n") // 2500 % 1000).cast(pl.String).str.zfill(3)
    )
    frame = frame.with_columns(body.alias("body"))
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(pl.col("body").str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(weights))
    check = (total % 11).replace_strict(dict(enumerate("10X98765432")), return_dtype=pl.String)
    surnames = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    given = list("秀英建国淑芬志强桂兰德明玉珍永福华平")
    scheme = (
        pl.when(pl.col("n") % 20 < 16)
        .then(pl.lit("QYJS"))
        .when(pl.col("n") % 20 < 19)
        .then(pl.lit("LGB"))
        .otherwise(pl.lit("LXRY"))
    )
    return frame.select(
        (pl.col("body") + check).alias("person_id"),
        (
            pl.col("n").mod(len(surnames)).replace_strict(dict(enumerate(surnames)))
            + pl.col("n").floordiv(20).mod(len(given)).replace_strict(dict(enumerate(given)))
            + pl.when(pl.col("n") % 3 == 0)
            .then(pl.col("n").floordiv(7).mod(len(given)).replace_strict(dict(enumerate(given))))
            .otherwise(pl.lit(""))
        ).alias("name"),
        scheme.alias("scheme"),
        pl.when(scheme == "LGB")
        .then(pl.when(pl.col("n") % 2 == 0).then(pl.lit("一档")).otherwise(pl.lit("二档")))
        .otherwise(pl.lit(""))
        .alias("tier"),
        pl.lit("2020-01").alias("start"),
        pl.lit("中国工商银行泸州分行").alias("bank"),
        ("6222" + pl.col("n").cast(pl.String).str.zfill(15)).alias("account"),
    ).with_columns(pl.col("name").alias("account_name"))


def read_fixed(paths: list[Path], show) -> None:
    """The fixed-width result files read by the fast reader, then by the careful one."""
    from juesuan.disbursement.banks import get_adapter, read_results, textfiles

    adapter = get_adapter("fixed-txt")
    fast = textfiles._read_fixed_fast
    for label, reader in (("fast", fast), ("careful", lambda *args: None)):
        textfiles._read_fixed_fast = reader
        started = time.perf_counter()
        rows = 0
        for path in paths:
            result = read_results(adapter, path)
            assert result.ok, result.problems[:3]
            rows += len(result.rows)
        show(
            f"fixed-txt result files, {label} reader",
            f"{time.perf_counter() - started:.1f} s ({rows:,} rows)",
        )
    textfiles._read_fixed_fast = fast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--failures", type=int, default=20_000)
    parser.add_argument(
        "--fixed-txt",
        action="store_true",
        help="also write the answers as fixed-txt files and time the fast and careful readers",
    )
    parser.add_argument(
        "--python-balance",
        action="store_true",
        help="also run the reference transitions.balance over every payment, and compare",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("JUESUAN_BENCH_DATABASE_URL", "postgresql:///test"),
        help="a PostgreSQL server URL (a fresh database is made there and dropped after)",
    )
    parser.add_argument(
        "--skip-without-postgres",
        action="store_true",
        help="say so and exit 0 when no PostgreSQL server answers (as `make bench` does)",
    )
    args = parser.parse_args(argv)

    url, name = fresh_postgres(args.postgres)
    if url is None:
        if args.skip_without_postgres:
            print(f"payroll: skipped, it needs PostgreSQL: {name}")
            print(skipped_line("payroll", f"no PostgreSQL answers ({name})"))
            return 0
        print(f"payroll benchmark needs PostgreSQL: {name}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="juesuan-payroll-"))
    os.environ.update(
        {
            "JUESUAN_DATABASE_URL": url,
            "JUESUAN_DATA_DIR": str(work / "data"),
            "JUESUAN_MEDIA_ROOT": str(work / "media"),
            "JUESUAN_JOBS_MODE": "sync",
        }
    )
    try:
        return run(args, work)
    finally:
        from django.db import connections

        connections.close_all()
        drop_postgres(args.postgres, name)
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    from juesuan.web.commands import setup

    setup(migrate=True)
    import polars as pl
    from django.db import connection, transaction

    from juesuan.disbursement import compute
    from juesuan.disbursement.banks import (
        PAID,
        RETURNED,
        BatchHeader,
        Outcome,
        get_adapter,
        write_results,
    )
    from juesuan.disbursement.model import Month, PaymentKey
    from juesuan.web.accounts.models import APPROVER, CLERK, REVIEWER, UNIT, Grant, Unit, User
    from juesuan.web.disbursement import services
    from juesuan.web.disbursement.models import Beneficiary, Payment, PersonKey, Run, Scheme
    from juesuan.web.disbursement.services import runs
    from juesuan.web.disbursement.services.people import ensure_keys, keys_frame

    figures: list[tuple[str, str]] = []

    def show(label: str, value: str) -> None:
        figures.append((label, value))
        print(f"{label:<44} {value}", flush=True)

    print(f"代发 benchmark: {args.people:,} beneficiaries, PostgreSQL {connection.pg_version}")
    unit = Unit.objects.create(name="压测单位", code="BENCH", kind=UNIT)
    users = {}
    for role in (CLERK, REVIEWER, APPROVER):
        users[role] = User.objects.create_user(f"bench_{role}", password=secrets.token_hex(8))
        Grant.objects.create(user=users[role], unit=unit, role=role)
    schemes_path = work / "schemes.yaml"
    schemes_path.write_text(SCHEMES, encoding="utf-8")
    assert services.import_schemes(unit, users[CLERK], schemes_path).ok
    for code in Scheme.objects.filter(unit=unit).values_list("code", flat=True):
        payer = {"account": "51050163010000000123", "bank": "中国建设银行泸州分行"}
        assert services.set_payer(unit, users[CLERK], code, name=unit.name, **payer).changed

    started = time.perf_counter()
    people = roster(args.people)
    ids = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    rows = people.with_columns(
        pl.col("scheme").replace_strict(ids, return_dtype=pl.Int64).alias("scheme_id"),
        pl.lit(unit.pk, dtype=pl.Int64).alias("unit_id"),
        pl.lit("2020-01-01 00:00:00+00").alias("updated_at"),
    ).drop("scheme")
    table = Beneficiary._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {table} ({', '.join(rows.columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            for offset in range(0, rows.height, 250_000):
                copy.write(rows.slice(offset, 250_000).write_csv(include_header=False))
    # Their person keys, as the roster import gives them (one INSERT … SELECT).
    ensure_keys(unit, Beneficiary.objects.filter(unit=unit).values_list("person_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {PersonKey._meta.db_table}")
    del rows, people
    show(
        f"set-up: {args.people:,} beneficiaries COPYed in", f"{time.perf_counter() - started:.1f} s"
    )

    # ---- the monthly run ----------------------------------------------------------------
    month = Month(2020, 3)
    phases: dict[str, float] = {}
    original_compute = compute.compute_month

    def timed_compute(*a, **k):
        t = time.perf_counter()
        result = original_compute(*a, **k)
        phases["compute"] = time.perf_counter() - t
        return result

    original_roster = runs.roster_frame

    def timed_roster(*a, **k):
        t = time.perf_counter()
        result = original_roster(*a, **k)
        phases["roster"] = time.perf_counter() - t
        return result

    original_files = runs._write_bank_files

    def timed_files(*a, **k):
        t = time.perf_counter()
        result = original_files(*a, **k)
        phases["files"] = time.perf_counter() - t
        return result

    compute.compute_month = timed_compute
    runs.roster_frame = timed_roster
    runs._write_bank_files = timed_files
    run_note = checkpoint()
    t0 = time.perf_counter()
    prepared = services.prepare_run(unit, users[CLERK], month)
    t_prepare = time.perf_counter() - t0
    assert prepared.ok and prepared.changed, prepared.message
    run = Run.objects.get(pk=prepared.data["run"])
    t1 = time.perf_counter()
    assert services.review_run(unit, users[REVIEWER], run.pk).changed
    t_review = time.perf_counter() - t1
    t2 = time.perf_counter()
    approved = services.approve_run(unit, users[APPROVER], run.pk)
    t_approve = time.perf_counter() - t2
    assert approved.ok and approved.changed, approved.message
    total_run = t_prepare + t_review + t_approve
    persist = t_prepare - phases.get("compute", 0) - phases.get("roster", 0)
    show("payments", f"{run.count:,} ({services.yuan(run.total)} 元)")
    show("  read roster (COPY → polars)", f"{phases.get('roster', 0):.1f} s")
    show("  compute_month", f"{phases.get('compute', 0):.1f} s")
    show("  persist payments (COPY) + totals + log", f"{persist:.1f} s")
    show("  review", f"{t_review:.2f} s")
    show("  approve (SENT + bank files, generic-csv)", f"{t_approve:.1f} s")
    show("    of which bank files after the UPDATE", f"{phases.get('files', 0):.1f} s")
    verdict = "met" if total_run < TARGET_RUN_S else "NOT met"
    show(
        "monthly run total",
        f"{total_run:.1f} s (target < {TARGET_RUN_S:.0f} s: {verdict}){run_note}",
    )
    show("peak memory so far", f"{peak_mb():,.0f} MB")

    # ---- the bank's answer: 20,000 failures ---------------------------------------------
    adapter = get_adapter("generic-csv")
    result_paths: list[Path] = []
    fixed_paths: list[Path] = []
    failures_left = args.failures
    codes = {v: k for k, v in ids.items()}
    files = list(run.bank_files.all())
    reasons = ("AC01", "AC04", "AC06", "BE01")
    # Payment numbers carry each person's key, given when the roster came in (or at approval).
    keys = dict(keys_frame(unit).iter_rows())
    for index, bank_file in enumerate(files):
        scheme_id = ids[bank_file.scheme]
        sql = (
            f"COPY (SELECT person_id, sequence, amount FROM {Payment._meta.db_table} "
            f"WHERE run_id = {run.pk} AND scheme_id = {scheme_id} ORDER BY person_id) "
            "TO STDOUT WITH (FORMAT csv)"
        )
        frame = pl.read_csv(
            services.copy_out(sql),
            has_header=False,
            new_columns=["person_id", "sequence", "amount"],
            schema_overrides={"person_id": pl.String},
        )
        last = index == len(files) - 1
        share = failures_left if last else round(args.failures * frame.height / run.count)
        failures_left -= share
        step = max(1, frame.height // max(1, share))

        def answers(frame=frame, step=step, share=share, scheme_id=scheme_id):
            return (
                Outcome(
                    PaymentKey(codes[scheme_id], pid, month, seq).reference(keys[pid]),
                    amount,
                    RETURNED if (i % step == 0 and i // step < share) else PAID,
                    reasons[i % 4] if (i % step == 0 and i // step < share) else "",
                )
                for i, (pid, seq, amount) in enumerate(frame.iter_rows())
            )

        header = BatchHeader(
            "压测单位",
            "1",
            "银行",
            "BENCH",
            f"R{run.number}",
            bank_file.scheme,
            month,
            month.first_day(),
        )
        path = work / f"result-{bank_file.scheme}.csv"
        written = write_results(adapter, header, answers(), path)
        assert written.ok, written.problems[:3]
        result_paths.append(path)
        if args.fixed_txt:
            fixed = work / f"result-{bank_file.scheme}.ret"
            assert write_results(get_adapter("fixed-txt"), header, answers(), fixed).ok
            fixed_paths.append(fixed)
    import juesuan.disbursement.banks as banks
    from juesuan.web.disbursement.services import results

    parts: dict[str, float] = {}

    def timed(owner, name: str, label: str):
        original = getattr(owner, name)
        parts.setdefault(label, 0.0)  # printed in the order declared here

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                parts[label] = parts.get(label, 0) + time.perf_counter() - t

        setattr(owner, name, wrapper)

    timed(banks, "read_results", "file read and checked (thread)")
    keys_backend = [0.0]
    keys_frame = results.people.keys_frame

    def keys_with_cpu(unit):  # on the thread's own connection: its backend's CPU counted apart
        before = backend_cpu()
        try:
            return keys_frame(unit)
        finally:
            after = backend_cpu()
            if before is None or after is None:
                keys_backend[0] = None
            elif keys_backend[0] is not None:
                keys_backend[0] += after - before

    results.people.keys_frame = keys_with_cpu
    timed(results.people, "keys_frame", "person keys read (COPY; thread)")
    timed(results, "_located", "rows given their payment keys (thread)")
    timed(results, "_mark_paid", "paid rows marked (one UPDATE … RETURNING)")
    timed(results, "_check", "rows matched and decided")
    timed(results, "_payments_frame", "payments read (only when the full check runs)")
    timed(results, "_update_ids", "returned rows updated by id")
    import_note = checkpoint()
    cpu_python, cpu_backend = time.process_time(), backend_cpu()
    t3 = time.perf_counter()
    paid = returned = 0
    steps: dict[str, float] = {}
    mark = [time.perf_counter(), "start"]

    def progress(_percent: int, message: str) -> None:
        now = time.perf_counter()
        steps[mark[1]] = steps.get(mark[1], 0) + now - mark[0]
        mark[0], mark[1] = now, re.sub(r"\d+", "N", message)

    for path in result_paths:
        mark[0], mark[1] = time.perf_counter(), "打开文件、核对是否导入过"
        outcome = services.import_results(
            unit, users[CLERK], path, adapter_id="generic-csv", progress=progress
        )
        progress(100, "")
        assert outcome.ok, (outcome.message, outcome.problems[:3])
        paid += outcome.data["paid"]
        returned += outcome.data["returned"]
    t_import = time.perf_counter() - t3
    cpu_python = time.process_time() - cpu_python
    cpu_backend = cpu_delta(cpu_backend, backend_cpu())
    verdict = "met" if t_import < TARGET_IMPORT_S else "NOT met"
    show("result import", f"paid {paid:,}, returned {returned:,}")
    show(
        "result import time",
        f"{t_import:.1f} s (target < {TARGET_IMPORT_S:.0f} s: {verdict}){import_note}",
    )
    for step, seconds in steps.items():
        if step:
            show(f"  {step}", f"{seconds:.1f} s")
    for part, seconds in parts.items():
        show(f"    {part}", f"{seconds:.1f} s")
    show(
        "result import CPU",
        f"Python {cpu_python:.1f} s (all threads), PostgreSQL backend {cpu_text(cpu_backend)}, "
        f"the thread's backend (person keys) {cpu_text(keys_backend[0])}",
    )
    t4 = time.perf_counter()
    again = services.import_results(unit, users[CLERK], result_paths[0], adapter_id="generic-csv")
    show("the same file again (unchanged)", f"{time.perf_counter() - t4:.2f} s — {again.message}")

    # ---- the floor: a raw COPY of the same rows -----------------------------------------
    frame = pl.read_csv(
        services.copy_out(
            f"COPY (SELECT {', '.join(services.PAYMENT_COLUMNS)} FROM "
            f"{Payment._meta.db_table} WHERE run_id = {run.pk}) TO STDOUT WITH (FORMAT csv)"
        ),
        has_header=False,
        new_columns=list(services.PAYMENT_COLUMNS),
        infer_schema=False,
    ).with_columns(pl.exclude("components").fill_null(""))
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE payroll_floor (LIKE {Payment._meta.db_table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
    copy_note = checkpoint()
    t5 = time.perf_counter()
    with transaction.atomic():
        services.copy_payments(frame, table="payroll_floor")
    t_floor = time.perf_counter() - t5
    show("raw COPY of the same rows (no index)", f"{t_floor:.1f} s{copy_note}")
    floor_note = checkpoint()
    t7, cpu_floor = time.perf_counter(), backend_cpu()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE payroll_floor SET status = 'sent'")
    t_update_floor = time.perf_counter() - t7
    cpu_floor = cpu_delta(cpu_floor, backend_cpu())
    show(
        "raw UPDATE of every scratch row (no index)",
        f"{t_update_floor:.1f} s (PostgreSQL backend CPU {cpu_text(cpu_floor)}){floor_note}",
    )
    show("persist ÷ raw COPY", f"{persist / t_floor:.1f}×" if t_floor else "—")
    show("monthly run ÷ raw COPY", f"{total_run / t_floor:.1f}×" if t_floor else "—")
    show("result import ÷ raw COPY", f"{t_import / t_floor:.1f}×" if t_floor else "—")
    show(
        "result import ÷ raw UPDATE",
        f"{t_import / t_update_floor:.1f}×" if t_update_floor else "—",
    )
    if cpu_floor and cpu_backend is not None and keys_backend[0] is not None:
        every = cpu_python + cpu_backend + keys_backend[0]
        show(
            "result import CPU ÷ raw UPDATE backend CPU",
            f"backend {cpu_backend / cpu_floor:.1f}×, Python + both backends "
            f"{every / cpu_floor:.1f}×",
        )
    print(
        summary_line(
            "payroll month",
            total_run,
            "s",
            t_floor,
            TARGET_RUN_S,
            TARGET_RUN_RATIO,
            what=f"a month for {args.people:,} beneficiaries: prepare, review, approve",
            floor_what="a raw COPY of the same payment rows",
        )
    )
    print(
        summary_line(
            "payroll result import",
            t_import,
            "s",
            t_update_floor,
            TARGET_IMPORT_S,
            TARGET_IMPORT_RATIO,
            what=f"the bank's result file, {args.failures:,} returns, imported",
            floor_what="one raw UPDATE of as many rows",
        )
    )
    show("peak memory before the conservation check", f"{peak_mb():,.0f} MB")
    if fixed_paths:
        read_fixed(fixed_paths, show)

    # ---- conservation: in the database (what the 资金守恒 page and verify_disbursement use) ----
    t6 = time.perf_counter()
    stored = services.stored_balance(unit)
    show("  balance in the database (stored_balance)", f"{time.perf_counter() - t6:.1f} s")
    t6 = time.perf_counter()
    balance = services.conservation(unit)
    show(
        "conservation check (balance + runs + bank files)",
        f"{time.perf_counter() - t6:.1f} s — ok={balance.ok}, paid {services.yuan(stored.paid)} 元",
    )
    show("peak memory (max RSS)", f"{peak_mb():,.0f} MB")
    if args.python_balance:  # the reference over every payment: slow and memory-hungry
        from juesuan.disbursement import transitions

        t6 = time.perf_counter()
        reference = transitions.balance(services.stored_payments(unit))
        show(
            "  reference transitions.balance in Python",
            f"{time.perf_counter() - t6:.1f} s — equal={reference == stored}",
        )
        show("peak memory with the reference (max RSS)", f"{peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
