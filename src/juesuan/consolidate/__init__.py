"""部门汇总: merge units' datasets into their department's dataset, eliminating internal flows."""

from __future__ import annotations

from juesuan.consolidate.merge import consolidate
from juesuan.consolidate.report import ConsolidationReport, Elimination

__all__ = ["ConsolidationReport", "Elimination", "consolidate"]
