"""What every disbursement step shares: the outcome it reports, crash points, small helpers."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from juesuan.money import fmt_fen
from juesuan.web.accounts.models import User

CRASH_POINTS = (
    "prepare.persisted",
    "prepare.committed",
    "review.committed",
    "approve.sent",
    "approve.writing",
    "approve.file_written",
    "approve.moving",
    "approve.committed",
    "results.applied",
    "results.moving",
    "results.committed",
    "supplementary.persisted",
    "supplementary.committed",
)
CRASH_ENV = "JUESUAN_DISBURSE_CRASH_AT"

Progress = Callable[[int, str], None]


def no_progress(_percent: int, _message: str) -> None:
    return None


def crash_point(name: str) -> None:
    """End the process abruptly here when JUESUAN_DISBURSE_CRASH_AT names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(75)


@dataclass
class Outcome:
    """What a step did, for a page, a job or a command: `ok` False means refused or rejected
    (the message says why); `changed` False means it was already done (the message says so)."""

    ok: bool
    message: str
    changed: bool = False
    data: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)  # import errors, row by row

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "message": self.message,
            "changed": self.changed,
            "data": self.data,
            "problems": self.problems[:500],
        }


def refused(text: str, **data) -> Outcome:
    return Outcome(False, text, data=data)


yuan = fmt_fen  # 1234567 → '12,345.67': the pages, messages and the audit log print 元 so


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def who(user: User | None) -> str:
    return user.username if user is not None else ""


def issue_dict(issue) -> dict:
    if hasattr(issue, "as_dict"):
        return issue.as_dict()
    return {  # banks.Problem
        "severity": "错误",
        "file": getattr(issue, "file", ""),
        "sheet": getattr(issue, "sheet", "") or None,
        "row": getattr(issue, "line", None),
        "column": getattr(issue, "column", "") or None,
        "value": getattr(issue, "snippet", "") or None,
        "message": getattr(issue, "message", str(issue)),
        "accepted": None,
    }


def copy_out(sql: str) -> bytes:
    """What a `COPY … TO STDOUT` sends."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


# A statement grouping millions of rows into a few hundred texts (`string_agg … GROUP BY
# id / 16384`) holds them all while grouping: about 64 MB for 2,000,000 person keys, twice
# that for the payments a result file answers. At PostgreSQL's default work_mem (4 MB) they
# go to temporary files (hundreds of MB written and read back), or the planner sorts them in
# parallel workers instead.
BULK_WORK_MEM = "256MB"


@contextlib.contextmanager
def bulk_work_mem() -> Iterator[None]:
    """Run the statements inside with PostgreSQL's work_mem at BULK_WORK_MEM, then put it
    back. In a transaction (a savepoint if one is open): if a statement fails, rolling it back
    restores the setting too."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
            [BULK_WORK_MEM],
        )
        previous = cursor.fetchone()[0]
        yield
        cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])
