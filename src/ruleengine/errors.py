"""The root of every error ruleengine raises on purpose.

`RuleEngineError` is the one base a host catches to handle any of them:

- `RuleSetError` (`diagnostics`): a rule file, or an expression, has errors; carries every
  `Diagnostic`.
- `SnapshotError` (`engine.snapshot`): a customer snapshot breaks the contract; carries every
  problem.
- `CoercionError` (`expr.coerce`): a value does not fit its declared type.
- `EvaluationError` (`expr.runtime`): an expression failed while running (division by zero).

Every one of them can be pickled (`__reduce__` rebuilds it from its fields), so errors travel
between worker processes as themselves. This module imports nothing, so any layer can use it.
"""

from __future__ import annotations


class RuleEngineError(Exception):
    """Base class of the errors ruleengine raises; catch it to handle any of them."""
