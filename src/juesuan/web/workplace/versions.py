"""Accepting a workbook as a new dataset version — or refusing it and storing nothing.

Every way a version comes to be (an upload, a texts edit, a consolidation, the demo) ends in
`accept_workbook`: the workbook is loaded by the core exactly as `juesuan check` loads it; any
ERROR, a workbook of another unit or year, or a format the core does not know rejects it, and
the database and MEDIA_ROOT keep the previous version untouched. An accepted workbook is moved to
MEDIA_ROOT/datasets/<unit>/<year>/<number>/ and recorded with its SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from juesuan.ledger.issues import ERROR, Issue, Source
from juesuan.ledger.load import load
from juesuan.ledger.model import Dataset
from juesuan.web.accounts.models import Unit, User
from juesuan.web.sql import Columns, rows
from juesuan.web.workplace.models import DatasetVersion

MAX_NAME = 120


@dataclass
class Outcome:
    """What became of a workbook: the version made (None when rejected) and every issue."""

    version: DatasetVersion | None
    issues: list[dict] = field(default_factory=list)
    file_name: str = ""
    sha256: str = ""
    year: int | None = None

    @property
    def accepted(self) -> bool:
        return self.version is not None

    @property
    def errors(self) -> list[dict]:
        return [i for i in self.issues if i["severity"] == ERROR]


def safe_name(name: str) -> str:
    """A file name that keeps the user's words (Chinese included) but no path or odd characters."""
    name = unicodedata.normalize("NFC", os.path.basename(name.replace("\\", "/"))).strip()
    name = re.sub(r"[\x00-\x1f<>:\"/\\|?*]", "_", name).lstrip(".")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:MAX_NAME] or "数据"
    return f"{stem}.{suffix.lower()}" if suffix else stem


# A workspace is in use for seconds (a texts edit, a download) or until its import job ends; one
# older than this was left by a process that died (a server restart, a killed worker).
STALE_WORKSPACE = timedelta(days=1)


def workspace() -> Path:
    """A fresh temporary folder on the same file system as MEDIA_ROOT (so a move is a rename)."""
    root = settings.MEDIA_ROOT / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))


def sweep_workspaces(older_than: timedelta = STALE_WORKSPACE) -> int:
    """Remove the temporary folders (and files) left under MEDIA_ROOT/tmp longer than
    `older_than`; how many were removed. Run when the server starts."""
    root = settings.MEDIA_ROOT / "tmp"
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for entry in root.iterdir():
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # removed meanwhile by its own process
            continue
        removed += 1
    return removed


def save_upload(uploaded, folder: Path) -> tuple[Path, str, int]:
    """Write an uploaded file into `folder` under its own (safe) name; its SHA-256 and size.
    When writing fails (the client went away, the disk is full) the folder is removed."""
    path = folder / safe_name(uploaded.name or "数据.xlsx")
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as handle:
            for chunk in uploaded.chunks():
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path, digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    from juesuan.publish.package import sha256

    return sha256(path)


def accept_workbook(
    unit: Unit,
    path: Path,
    *,
    kind: str,
    user=None,
    expected_year: int | None = None,
    note: str = "",
    original_name: str | None = None,
    base_number: int | None = None,
) -> Outcome:
    """Load `path` (a workbook in a temporary folder) and store it as the next version, or not.

    The temporary folder is removed either way. `base_number`, when given, is the version the
    change was made from: if another version was stored since, the change is refused.
    """
    folder = path.parent
    try:
        return _accept(unit, path, kind, user, expected_year, note, original_name, base_number)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _accept(unit, path, kind, user, expected_year, note, original_name, base_number) -> Outcome:
    from juesuan.web.workplace.analysis import summarize_dataset

    name = original_name or path.name
    digest = file_sha256(path) if path.is_file() else ""
    outcome = Outcome(None, file_name=name, sha256=digest)
    if path.suffix.lower() != ".xlsx":
        outcome.issues = [
            _issue(name, "只接受 .xlsx 工作簿", accepted="用“下载空白模板”得到的工作簿，填好后上传")
        ]
        return outcome
    dataset, issues = load(path)
    outcome.issues = [i.as_dict() for i in issues]
    if dataset is None:
        return outcome
    outcome.year = dataset.unit.year
    problems = _belongs(dataset, unit, expected_year, name)
    summary, problem = summarize_dataset(dataset)
    if problem:
        problems.append(problem)
    if problems:
        outcome.issues = [*[p.as_dict() for p in problems], *outcome.issues]
        return outcome
    outcome.version = _store(
        unit, dataset, path, digest, kind, user, note, name, outcome.issues, summary, base_number
    )
    return outcome


def _issue(file: str, message: str, *, sheet=None, column=None, value=None, accepted=None):
    return Issue(ERROR, Source(file, sheet, None, column), message, value, accepted).as_dict()


def _belongs(dataset: Dataset, unit: Unit, expected_year: int | None, name: str) -> list[Issue]:
    problems = []
    if dataset.unit.name != unit.name:
        problems.append(
            Issue(
                ERROR,
                Source(name, "单位信息", None, "单位名称"),
                f"工作簿是另一个单位的数据，不能导入到“{unit.name}”",
                value=dataset.unit.name,
                accepted=unit.name,
            )
        )
    if expected_year is not None and dataset.unit.year != expected_year:
        problems.append(
            Issue(
                ERROR,
                Source(name, "单位信息", None, "年度"),
                f"工作簿是 {dataset.unit.year} 年度的数据，这里是 {expected_year} 年度",
                value=str(dataset.unit.year),
                accepted=str(expected_year),
            )
        )
    return problems


class StaleVersion(Exception):
    def __init__(self, current: int):
        super().__init__(current)
        self.current = current


# The current version of a unit-year (the import warnings, `issues`, possibly long, are read only
# by the page that lists them), with its author for the dashboard: precomposed (web/sql.py), as
# every year page asks it.
VERSION, AUTHOR = Columns(DatasetVersion, "v", defer=("issues",)), Columns(User, "a")
CURRENT = (
    "FROM workplace_datasetversion v{join} WHERE v.unit_id = %s AND v.year = %s"
    " ORDER BY v.number DESC LIMIT 1"
)
CURRENT_VERSION = f"SELECT {VERSION.sql} " + CURRENT.format(join="")
CURRENT_VERSION_WITH_AUTHOR = f"SELECT {VERSION.sql}, {AUTHOR.sql} " + CURRENT.format(
    join=" LEFT JOIN accounts_user a ON a.id = v.created_by_id"
)


def current_version(unit: Unit, year: int, *, with_author: bool = False) -> DatasetVersion | None:
    found = rows(CURRENT_VERSION_WITH_AUTHOR if with_author else CURRENT_VERSION, [unit.pk, year])
    if not found:
        return None
    version = VERSION.take(found[0])
    DatasetVersion.unit.field.set_cached_value(version, unit)
    if with_author:
        DatasetVersion.created_by.field.set_cached_value(
            version, AUTHOR.take(found[0], VERSION.width)
        )
    return version


def latest_versions(unit_ids) -> list[DatasetVersion]:
    """The current version of every year of these units, without their import warnings."""
    if not unit_ids:
        return []
    listed = ", ".join(["%s"] * len(unit_ids))
    return [
        VERSION.take(row)
        for row in rows(
            f"SELECT {VERSION.sql} FROM workplace_datasetversion v WHERE v.unit_id IN ({listed})"
            " AND v.number = (SELECT MAX(w.number) FROM workplace_datasetversion w"
            " WHERE w.unit_id = v.unit_id AND w.year = v.year)",
            list(unit_ids),
        )
    ]


def _store(
    unit, dataset, path, digest, kind, user, note, name, issues, summary, base_number
) -> DatasetVersion:
    year = dataset.unit.year
    for _attempt in range(5):
        try:
            with transaction.atomic():
                latest = (
                    DatasetVersion.objects.filter(unit=unit, year=year).aggregate(Max("number"))[
                        "number__max"
                    ]
                    or 0
                )
                if base_number is not None and latest != base_number:
                    raise StaleVersion(latest)
                number = latest + 1
                relative = Path("datasets") / str(unit.pk) / str(year) / str(number) / name
                target = settings.MEDIA_ROOT / relative
                version = DatasetVersion.objects.create(
                    unit=unit,
                    year=year,
                    number=number,
                    kind=kind,
                    file=str(relative),
                    original_name=name,
                    sha256=digest,
                    size=path.stat().st_size,
                    note=note,
                    issues=issues,
                    summary=summary,
                    created_by=user,
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                return version
        except IntegrityError:  # another version took the number: take the next one
            continue
    raise RuntimeError("无法分配版本号，请重试")
