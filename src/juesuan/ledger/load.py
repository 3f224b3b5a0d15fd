"""Load a dataset from either form: a folder or an .xlsx workbook."""

from __future__ import annotations

from pathlib import Path

from juesuan.ledger.folder import read_folder
from juesuan.ledger.issues import ERROR, Issue, Source
from juesuan.ledger.model import Dataset
from juesuan.ledger.validate import validate


def load(path: str | Path) -> tuple[Dataset | None, list[Issue]]:
    """Read and validate a dataset. Returns (None, issues) when any ERROR was found."""
    target = Path(path)
    if target.is_dir():
        raw = read_folder(target)
    elif target.suffix.lower() == ".xlsx" and target.is_file():
        from juesuan.ledger.workbook import read_workbook

        raw = read_workbook(target)
    elif not target.exists():
        return None, [Issue(ERROR, Source(str(target)), "找不到这个文件或文件夹")]
    else:
        return None, [
            Issue(
                ERROR,
                Source(str(target)),
                "不是数据集：应为含 unit.toml 的文件夹，或 .xlsx 工作簿",
                accepted="数据集文件夹，或用 juesuan template 生成的 .xlsx 模板填好的工作簿",
            )
        ]
    return validate(raw)
