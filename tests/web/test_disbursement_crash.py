"""Crash injection: the batch commands are killed at every step boundary, then run again.

Each step runs as `python -m juesuan.web disburse_…` in a subprocess against the test database;
JUESUAN_DISBURSE_CRASH_AT names the point where the service ends the process at once
(`os._exit`: no cleanup, no commit, as a killed process). After every crash the money still
balances and no payment key is taken twice; after the restarts everyone is paid exactly once,
and the bank files hold exactly the approved payments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from juesuan.disbursement import model as core
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import (
    BankFile,
    Beneficiary,
    Correction,
    Payment,
    ResultImport,
    Run,
)
from juesuan.web.disbursement.services.common import sha256_file
from web.test_disbursement_support import (
    bank_answers,
    bank_file_rows,
    person_id,
    set_up_unit,
)

pytestmark = pytest.mark.django_db(transaction=True)
CRASHED = 75  # services.crash_point's exit status


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    user = quote(db.get("USER") or "")
    password = ":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{quote(db['NAME'])}"


def _command(*args: str, crash: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["JUESUAN_DATABASE_URL"] = _database_url()
    env["JUESUAN_MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env.pop(services.CRASH_ENV, None)
    if crash:
        env[services.CRASH_ENV] = crash
    return subprocess.run(
        [sys.executable, "-m", "juesuan.web", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _invariants(unit) -> None:
    """What must hold after any crash: the balance, one live payment per key, and the files of
    every approved run holding exactly its payments."""
    result = services.conservation(unit)
    assert result.ok, result.problems
    duplicated = (
        Payment.objects.filter(unit=unit)
        .exclude(status=core.WITHDRAWN)
        .values("scheme_id", "person_id", "month", "sequence")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicated.exists(), list(duplicated)
    for run in Run.objects.filter(unit=unit, step=core.APPROVED):
        files = list(BankFile.objects.filter(run=run))
        assert sum(f.count for f in files) == run.count == run.payments.count()
        assert sum(bank_file_rows(f) for f in files) == run.count
    for run in Run.objects.filter(unit=unit).exclude(step=core.APPROVED):
        assert not BankFile.objects.filter(run=run).exists()


def _step(unit, args: list[str], points: list[str], *, done: str) -> None:
    """Crash at each point in turn (checking the invariants after each), then run to the end:
    the last run either does the step or finds it done (`done` in its output)."""
    for point in points:
        crashed = _command(*args, crash=point)
        assert crashed.returncode == CRASHED, (point, crashed.stdout, crashed.stderr)
        _invariants(unit)
    final = _command(*args)
    assert final.returncode == 0, (args, final.stdout, final.stderr)
    if done:  # the last crash came after the commit: the step was done and says so
        assert done in final.stdout, final.stdout
    _invariants(unit)


def test_killed_at_every_step_boundary_everyone_is_paid_exactly_once(world, tmp_path):
    unit = world.unit
    set_up_unit(unit, world.users["clerk"], tmp_path, people=6)
    u = ["--unit", str(unit.pk)]

    # 经办 prepares: killed before commit (nothing stored), after commit (stored), then again:
    # the month is already prepared and nothing changes.
    _step(
        unit,
        ["disburse_prepare", "2020-03", *u, "--user", "clerk"],
        ["prepare.persisted", "prepare.committed"],
        done="已经生成过",
    )
    assert Run.objects.filter(unit=unit).count() == 1
    run = Run.objects.get(unit=unit)
    assert run.number == 1 and run.count == 6

    _step(
        unit,
        ["disburse_review", "1", *u, "--user", "reviewer"],
        ["review.committed"],
        done="无变化",
    )
    _step(
        unit,
        ["disburse_approve", "1", *u, "--user", "approver"],
        ["approve.sent", "approve.file_written", "approve.committed"],
        done="无变化",
    )
    run.refresh_from_db()
    assert run.step == core.APPROVED

    # the bank returns one payment; its result files are imported, killed on the way
    returned = person_id(0)
    for path in bank_answers(run, tmp_path, {returned: "AC01"}):
        _step(
            unit,
            ["disburse_results", str(path), *u, "--user", "clerk"],
            ["results.applied", "results.committed"],
            done="导入过",
        )
    original = Payment.objects.get(run=run, person_id=returned)
    assert original.status == core.RETURNED

    # corrected and checked on the pages (no batch step), re-issued by the command
    clerk, reviewer = world.users["clerk"], world.users["reviewer"]
    assert services.enter_correction(
        unit,
        clerk,
        original.pk,
        name=original.name,
        bank="中国银行",
        account="6216610200016587010",
        account_name=original.name,
    ).changed
    correction = Correction.objects.get(payment=original)
    assert services.check_correction(unit, reviewer, correction.pk).changed
    _step(
        unit,
        ["disburse_supplementary", *u, "--user", "clerk"],
        ["supplementary.persisted", "supplementary.committed"],
        done="无变化",
    )
    assert Run.objects.filter(unit=unit, kind=core.SUPPLEMENTARY).count() == 1
    _step(unit, ["disburse_review", "2", *u, "--user", "reviewer"], [], done="")
    _step(
        unit, ["disburse_approve", "2", *u, "--user", "approver"], ["approve.file_written"], done=""
    )
    supplementary = Run.objects.get(unit=unit, number=2)
    for path in bank_answers(supplementary, tmp_path, {}):
        _step(
            unit,
            ["disburse_results", str(path), *u, "--user", "clerk"],
            ["results.applied"],
            done="",
        )

    # everyone paid exactly once for March, the money balances, the command agrees
    paid = Payment.objects.filter(unit=unit, month="2020-03", status=core.PAID)
    assert sorted(paid.values_list("person_id", flat=True)) == sorted(
        Beneficiary.objects.filter(unit=unit).values_list("person_id", flat=True)
    )
    balance = services.conservation(unit).balance
    assert balance.paid == balance.approved == run.total
    check = _command("verify_disbursement", *u)
    assert check.returncode == 0 and "资金守恒" in check.stdout, check.stderr

    # and the check does fail when the money does not balance: a payment's amount altered
    Payment.objects.filter(pk=paid.first().pk).update(amount=1)
    broken = _command("verify_disbursement", *u)
    assert broken.returncode == 1 and "不守恒" in broken.stderr


def _unit_files(unit) -> dict[str, Path]:
    """Every file under the unit's folder but its quarantine, by path relative to MEDIA_ROOT."""
    root = settings.MEDIA_ROOT / "disbursement" / str(unit.pk)
    return {
        str(p.relative_to(settings.MEDIA_ROOT)): p
        for p in root.rglob("*")
        if p.is_file() and "quarantine" not in p.parts
    }


def _only_recorded_files(unit) -> None:
    """On disk exactly the recorded files, each as recorded: nothing pending, partial,
    scratch or orphaned, no copy that differs from its SHA-256."""
    recorded = dict(BankFile.objects.filter(run__unit=unit).values_list("path", "sha256"))
    recorded |= dict(ResultImport.objects.filter(unit=unit).values_list("file_path", "sha256"))
    found = _unit_files(unit)
    assert set(found) == set(recorded), (sorted(found), sorted(recorded))
    for path, sha in recorded.items():
        assert sha256_file(found[path]) == sha, path


def _check_files(unit, *, ok: bool = True) -> str:
    checked = _command("disburse_check_files", "--unit", str(unit.pk))
    assert checked.returncode == (0 if ok else 1), (checked.stdout, checked.stderr)
    return checked.stdout + checked.stderr


def test_files_left_by_a_crash_are_put_right_by_the_next_run_and_by_the_check(world, tmp_path):
    unit = world.unit
    set_up_unit(unit, world.users["clerk"], tmp_path, people=6)
    accounts = list(Beneficiary.objects.filter(unit=unit).values_list("account", flat=True))
    u = ["--unit", str(unit.pk)]
    approve_1 = ["disburse_approve", "1", *u, "--user", "approver"]
    assert _command("disburse_prepare", "2020-03", *u, "--user", "clerk").returncode == 0
    assert _command("disburse_review", "1", *u, "--user", "reviewer").returncode == 0
    run_1 = settings.MEDIA_ROOT / "disbursement" / str(unit.pk) / "2020-03" / "run-1"

    # killed while writing a bank file: only scratch is left, and no account in the clear
    assert _command(*approve_1, crash="approve.writing").returncode == CRASHED
    left = _unit_files(unit)
    assert left and all(".pending" in path for path in left), left
    for path in left.values():
        data = path.read_bytes()
        assert not any(a.encode() in data for a in accounts), path
    # killed after the files were written, before the approval committed: complete bank files
    # that no record names wait under .pending; the check removes them and says so
    assert _command(*approve_1, crash="approve.file_written").returncode == CRASHED
    assert not [p for p in run_1.iterdir() if p.is_file()]  # nothing at a bank file's place
    assert len(list((run_1 / ".pending").glob("*.csv"))) == 2
    assert "删除未完成或未提交的文件" in _check_files(unit)
    _only_recorded_files(unit)

    # again, then the run is sent back and the month prepared anew: approving the new run
    # removes the first run's never-approved files (the same payment references)
    assert _command(*approve_1, crash="approve.file_written").returncode == CRASHED
    assert _command("disburse_send_back", "1", *u, "--user", "reviewer").returncode == 0
    assert _command("disburse_prepare", "2020-03", *u, "--user", "clerk").returncode == 0
    assert _command("disburse_review", "2", *u, "--user", "reviewer").returncode == 0
    approve_2 = ["disburse_approve", "2", *u, "--user", "approver"]
    # killed after the commit, before the files moved into place: the next approval (which
    # finds the run approved) moves them
    assert _command(*approve_2, crash="approve.moving").returncode == CRASHED
    run = Run.objects.get(unit=unit, number=2)
    assert run.step == core.APPROVED
    assert not [p for p in (run_1.parent / "run-2").iterdir() if p.is_file()]
    again = _command(*approve_2)
    assert again.returncode == 0 and "无变化" in again.stdout, again.stdout
    assert not run_1.exists() or not any(run_1.rglob("*"))
    _only_recorded_files(unit)
    _invariants(unit)

    # a result import killed after keeping its copy, before committing: the next import of the
    # same file keeps its own complete copy, and nothing else is left
    qyjs, lxry = sorted(bank_answers(run, tmp_path, {}), key=lambda p: "LXRY" in p.name)
    results = ["disburse_results", str(qyjs), *u, "--user", "clerk"]
    assert _command(*results, crash="results.applied").returncode == CRASHED
    assert ResultImport.objects.filter(unit=unit).count() == 0
    assert _command(*results).returncode == 0
    _only_recorded_files(unit)
    # killed after the commit, before the copy moved into place: the check moves it
    results = ["disburse_results", str(lxry), *u, "--user", "clerk"]
    assert _command(*results, crash="results.moving").returncode == CRASHED
    assert "已提交而未就位的文件" in _check_files(unit)
    _only_recorded_files(unit)
    _invariants(unit)

    # a kept copy that does not match its SHA-256 (cut short by a crash of an older version)
    # is found, quarantined and reported; importing the same file again keeps a good copy
    kept = ResultImport.objects.get(unit=unit, file_name=lxry.name)
    damaged = settings.MEDIA_ROOT / kept.file_path
    damaged.write_bytes(damaged.read_bytes()[:40])
    assert "不一致" in _check_files(unit, ok=False)
    assert "不在了" in _check_files(unit, ok=False)
    restored = _command(*results)
    assert restored.returncode == 0 and "已补存" in restored.stdout, restored.stdout
    assert "核对无误" in _check_files(unit)
    _only_recorded_files(unit)
