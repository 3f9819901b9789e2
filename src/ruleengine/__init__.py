"""ruleengine: a typed rule language and engine for loyalty earning and milestone rules.

The public API is exactly `__all__`; everything else is internal and may change.

    >>> from ruleengine import load_ruleset
    >>> ruleset = load_ruleset("examples/rules/acme.yaml")   # raises RuleSetError on problems
    >>> ruleset.program
    'acme-rewards'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "CoercionError",
    "CompiledExpression",
    "Decision",
    "Diagnostic",
    "Engine",
    "EvaluationResult",
    "Explanation",
    "Limits",
    "PointsHistory",
    "Progress",
    "RewardGrant",
    "RuleEngineError",
    "RuleSet",
    "RuleSetError",
    "RuntimeProblem",
    "Severity",
    "Snapshot",
    "SnapshotError",
    "SnapshotProblem",
    "UnknownRuleError",
    "__version__",
    "check_ruleset",
    "compile_expression",
    "declare_scope",
    "load_ruleset",
]

if TYPE_CHECKING:
    from ruleengine.api import compile_expression, declare_scope
    from ruleengine.diagnostics.diagnostic import Diagnostic, RuleSetError, Severity
    from ruleengine.engine.decisions import (
        Decision,
        EvaluationResult,
        Explanation,
        Progress,
        RewardGrant,
        RuntimeProblem,
    )
    from ruleengine.engine.engine import Engine
    from ruleengine.engine.points_history import PointsHistory
    from ruleengine.engine.snapshot import Snapshot, SnapshotError, SnapshotProblem
    from ruleengine.errors import RuleEngineError, UnknownRuleError
    from ruleengine.expr.coerce import CoercionError
    from ruleengine.limits import Limits
    from ruleengine.rules.ruleset import (
        CheckResult,
        CompiledExpression,
        RuleSet,
        check_ruleset,
        load_ruleset,
    )

# Imports are lazy so that `import ruleengine` (and the CLI's start-up) stays cheap: pydantic,
# lark and yaml load only when a ruleset is first read.
_LAZY = {
    "CheckResult": "ruleengine.rules.ruleset",
    "CompiledExpression": "ruleengine.rules.ruleset",
    "RuleSet": "ruleengine.rules.ruleset",
    "check_ruleset": "ruleengine.rules.ruleset",
    "load_ruleset": "ruleengine.rules.ruleset",
    "Diagnostic": "ruleengine.diagnostics.diagnostic",
    "RuleSetError": "ruleengine.diagnostics.diagnostic",
    "Severity": "ruleengine.diagnostics.diagnostic",
    "compile_expression": "ruleengine.api",
    "declare_scope": "ruleengine.api",
    "Engine": "ruleengine.engine.engine",
    "Limits": "ruleengine.limits",
    "RuleEngineError": "ruleengine.errors",
    "UnknownRuleError": "ruleengine.errors",
    "Decision": "ruleengine.engine.decisions",
    "EvaluationResult": "ruleengine.engine.decisions",
    "Explanation": "ruleengine.engine.decisions",
    "Progress": "ruleengine.engine.decisions",
    "RewardGrant": "ruleengine.engine.decisions",
    "RuntimeProblem": "ruleengine.engine.decisions",
    "PointsHistory": "ruleengine.engine.points_history",
    "Snapshot": "ruleengine.engine.snapshot",
    "SnapshotError": "ruleengine.engine.snapshot",
    "SnapshotProblem": "ruleengine.engine.snapshot",
    "CoercionError": "ruleengine.expr.coerce",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ruleengine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
