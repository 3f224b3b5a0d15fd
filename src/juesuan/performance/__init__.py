"""Budget performance management (预算绩效): indicators, scoring rule sets, self-evaluation.

`evaluate_performance(dataset, ruleset="national-2020") -> PerformanceResult` scores every project
that has indicators (预算执行率 + 绩效指标), the department as a whole (a points tree), and checks
that what the tables state agrees with what the ledger and the 绩效数据 compute. See docs.md.
"""

from __future__ import annotations

from juesuan.ledger.model import Checkpoint, DepartmentScore, Indicator, Measure, ProjectGoal
from juesuan.performance.department import (
    DepartmentResult,
    NodeScore,
    Tree,
    evaluate_department,
    load_department_tree,
)
from juesuan.performance.evaluate import (
    DEFAULT_DEPARTMENT_TREE,
    DEFAULT_RULESET,
    PerformanceResult,
    ProjectPerformance,
    evaluate_performance,
)
from juesuan.performance.measures import (
    ExternalMeasures,
    Funds,
    Measured,
    Measures,
    Unavailable,
)
from juesuan.performance.ruleset import RuleSet, RuleSetError, load_ruleset
from juesuan.performance.scoring import Score, execution_score, weights_for
from juesuan.performance.values import Quantity, Words, parse_value

__all__ = [
    "DEFAULT_DEPARTMENT_TREE",
    "DEFAULT_RULESET",
    "Checkpoint",
    "DepartmentResult",
    "DepartmentScore",
    "ExternalMeasures",
    "Funds",
    "Indicator",
    "Measure",
    "Measured",
    "Measures",
    "NodeScore",
    "PerformanceResult",
    "ProjectGoal",
    "ProjectPerformance",
    "Quantity",
    "RuleSet",
    "RuleSetError",
    "Score",
    "Tree",
    "Unavailable",
    "Words",
    "evaluate_department",
    "evaluate_performance",
    "execution_score",
    "load_department_tree",
    "load_ruleset",
    "parse_value",
    "weights_for",
]
