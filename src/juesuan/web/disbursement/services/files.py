"""The payments' files — bank batch files written on approval, the bank's result files kept on
import — as safe as their rows.

A file is written into the `.pending` folder beside its place, flushed to disk (fsync) and hashed
as it lies there; its record names the final place, and the file moves there only when that
record commits (`transaction.on_commit`). So a file at its place always has a committed record
and is complete. A crash before the commit leaves a pending file that no record names (with the
writer's partial and scratch files); a crash between the commit and the move leaves one whose
record does. `sweep` finds both: it moves the second kind into place and removes the rest, under
the locks of the steps that write there, so a file being written now is never touched. The
approval and the result import sweep their unit before they start; `disburse_check_files` sweeps
and also compares every recorded file with its SHA-256.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.web.accounts.models import Unit
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import BankFile, ResultImport, Run
from juesuan.web.disbursement.services import common
from juesuan.web.disbursement.services.common import sha256_file

PENDING = ".pending"  # the folder of files not yet in place, inside the folder of their place
RESULTS = "results"
QUARANTINE = "quarantine"


def unit_folder(unit: Unit) -> Path:
    """Where a unit's payment files live, relative to MEDIA_ROOT."""
    return Path("disbursement") / str(unit.pk)


def run_folder(run: Run) -> Path:
    return unit_folder(run.unit) / run.month / f"run-{run.number}"


def results_folder(unit: Unit) -> Path:
    return unit_folder(unit) / RESULTS


def pending_path(final: Path) -> Path:
    """Where the file that will be `final` is written."""
    return final.parent / PENDING / final.name


def make_durable(path: Path) -> str:
    """Flush `path` and its folder to disk; the SHA-256 of what is there now."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    _sync_folder(path.parent)
    return sha256_file(path)


def place_on_commit(final: Path, step: str) -> None:
    """Move the pending file of `final` into place once the transaction under way commits."""

    def move() -> None:
        common.crash_point(f"{step}.moving")
        try:
            _move(pending_path(final), final)
        except FileNotFoundError:
            if not final.is_file():  # else a sweep moved it between the commit and now
                raise

    transaction.on_commit(move)


def in_place(final: Path, sha256: str) -> Path | None:
    """The recorded file `final`, or None when it is missing. A pending copy whose record has
    committed (a crash came between the commit and the move) is moved in first, when it is the
    one recorded."""
    if final.is_file():
        return final
    pending = pending_path(final)
    try:
        if sha256_file(pending) == sha256:
            _move(pending, final)
    except FileNotFoundError:  # none, or moved at this moment by the step that committed
        pass
    return final if final.is_file() else None


def keep_copy(source: Path, final: Path, sha256: str) -> bool:
    """Copy `source` to the pending place of `final` and flush it; False when what lies on
    disk is not `sha256` (the source changed under us). The caller moves it into place."""
    pending = pending_path(final)
    pending.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, pending)
    if make_durable(pending) != sha256:
        pending.unlink(missing_ok=True)
        return False
    return True


def sweep(unit: Unit, *, by=None) -> list[str]:
    """Put right what crashed steps left in the unit's folders: a pending file whose record
    committed is moved into place; any other file no record names — pending, partial, scratch,
    or a copy at a place no record names — is removed. A run's folder is looked at only under
    that run's row lock, the results folder only under the locks of every approved run (which
    a result import takes); what another step holds now is left for the next sweep. Returns a
    line per file, also written to the audit log."""
    root = settings.MEDIA_ROOT / unit_folder(unit)
    if not root.is_dir():
        return []
    found: list[str] = []
    with transaction.atomic():
        folders = {}
        for folder in root.glob("*/run-*"):
            number = folder.name.removeprefix("run-")
            if folder.is_dir() and number.isdigit():
                folders[folder] = int(number)
        runs = Run.objects.filter(unit=unit, number__in=set(folders.values()))
        existing = set(runs.values_list("number", flat=True))
        free = set(runs.select_for_update(skip_locked=True).values_list("number", flat=True))
        busy = existing - free  # being approved or changed right now
        recorded = dict(
            BankFile.objects.filter(run__unit=unit, run__number__in=free).values_list(
                "path", "sha256"
            )
        )
        for folder, number in sorted(folders.items()):
            if number not in busy:
                found += _sweep_folder(folder, recorded)
        approved = Run.objects.filter(unit=unit, step=core.APPROVED)
        holding = approved.select_for_update(skip_locked=True).values_list("pk", flat=True)
        if len(list(holding)) == approved.count():  # no result import under way
            kept = dict(ResultImport.objects.filter(unit=unit).values_list("file_path", "sha256"))
            folder = root / RESULTS
            if folder.is_dir():
                found += _sweep_folder(folder, kept)
        if found:
            record(
                "pay_files_swept",
                user=by,
                unit=unit,
                target=str(unit_folder(unit)),
                summary="整理代发文件：" + "；".join(found[:20]),
                after={"found": found[:500]},
            )
    return found


def check(unit: Unit, *, by=None) -> tuple[list[str], list[str]]:
    """`sweep`, then every recorded file compared with its SHA-256: (what was put right,
    problems left). A kept result file that differs is moved to the quarantine folder: the
    same bank file imported again keeps a good copy."""
    done = sweep(unit, by=by)
    problems: list[str] = []
    for run, name, path, sha in BankFile.objects.filter(run__unit=unit).values_list(
        "run__number", "name", "path", "sha256"
    ):
        placed = in_place(settings.MEDIA_ROOT / path, sha)
        if placed is None:
            problems.append(f"第 {run} 批的银行文件 {name} 不在了（{path}）。")
        elif sha256_file(placed) != sha:
            problems.append(
                f"第 {run} 批的银行文件 {name} 与审批时记录的 SHA-256 不一致（已被改动）。"
            )
    for name, path, sha in ResultImport.objects.filter(unit=unit).values_list(
        "file_name", "file_path", "sha256"
    ):
        placed = in_place(settings.MEDIA_ROOT / path, sha) if path else None
        if placed is None:
            problems.append(f"回盘“{name}”的留存副本不在了；重新导入同一回盘文件即可补存。")
        elif sha256_file(placed) != sha:
            moved = _quarantine(unit, placed)
            problems.append(
                f"回盘“{name}”的留存副本与导入时记录的 SHA-256 不一致（可能不完整），已移至 "
                f"{moved}；重新导入同一回盘文件即可补存。"
            )
    return done, problems


# ---- helpers ------------------------------------------------------------------------------------


def _sweep_folder(folder: Path, recorded: dict[str, str]) -> list[str]:
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name == PENDING:
            continue
        relative = _relative(entry)
        if entry.is_file() and relative in recorded:
            continue
        _remove(entry)
        found.append(f"删除没有记录的文件 {relative}")
    pending = folder / PENDING
    if not pending.is_dir():
        return found
    for entry in sorted(pending.iterdir()):
        final = folder / entry.name
        relative = _relative(final)
        if relative in recorded and entry.is_file() and not final.exists():
            if in_place(final, recorded[relative]) is not None:
                found.append(f"已提交而未就位的文件 {relative} 已移入")
                continue
        _remove(entry)
        found.append(f"删除未完成或未提交的文件 {_relative(entry)}")
    if not any(pending.iterdir()):
        pending.rmdir()
    return found


def _quarantine(unit: Unit, path: Path) -> Path:
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    target = settings.MEDIA_ROOT / unit_folder(unit) / QUARANTINE / f"{stamp}-{path.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _move(path, target)
    return target.relative_to(settings.MEDIA_ROOT)


def _relative(path: Path) -> str:
    return str(path.relative_to(settings.MEDIA_ROOT))


def _remove(path: Path) -> None:
    remove: Callable[[Path], None] = shutil.rmtree if path.is_dir() else Path.unlink
    remove(path)


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (where the system allows it)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its renames are durable on their own
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
