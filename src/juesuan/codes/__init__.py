"""Government classification code tables (政府收支分类科目) as data + lookup.

支出功能分类 (function): 类/款/项 = 3/5/7 digits. 部门预算支出经济分类 (economic): 类/款 = 3/5 digits.
See docs.md for what the shipped tables contain, how years select them and the user's code store.
"""

from __future__ import annotations

from .load import (
    CodeFileError,
    class_names,
    economic_codes,
    function_codes,
    load_code_table,
    shipped_codes,
    summary_classes,
)
from .store import CodeStoreError, ImportReport, describe, import_table, stored_table
from .table import Code, CodeProblem, CodeTable, name_key, normalize_code

__all__ = [
    "Code",
    "CodeFileError",
    "CodeProblem",
    "CodeStoreError",
    "CodeTable",
    "ImportReport",
    "class_names",
    "describe",
    "economic_codes",
    "function_codes",
    "import_table",
    "load_code_table",
    "name_key",
    "normalize_code",
    "shipped_codes",
    "stored_table",
    "summary_classes",
]
