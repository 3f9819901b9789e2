"""The root of every error ruleengine raises on purpose.

`RuleEngineError` is the one base a host catches to handle any of them:

- `RuleSetError` (`diagnostics`): a rule file, or an expression, has errors; carries every
  `Diagnostic`.
- `SnapshotError` (`engine.snapshot`): a customer snapshot breaks the contract; carries every
  problem.
- `CoercionError` (`expr.coerce`): a value does not fit its declared type.
- `EvaluationError` (`expr.runtime`): an expression failed while running (division by zero).
- `UnknownRuleError` (here): `Engine.explain(rule=...)` was asked about a rule the ruleset
  does not have; also a `ValueError`, as it was before it had its own class.

Every one of them can be pickled (`__reduce__` rebuilds it from its fields), so errors travel
between worker processes as themselves. This module imports nothing of ruleengine, so any
layer can use it.
"""

from __future__ import annotations

import difflib


class RuleEngineError(Exception):
    """Base class of the errors ruleengine raises; catch it to handle any of them."""


class UnknownRuleError(RuleEngineError, ValueError):
    """`Engine.explain(rule=...)` named no rule of the ruleset: `rule` is what was asked for
    (anything a caller passed), `known` the ids it could be, and the message suggests the
    closest one."""

    def __init__(self, rule: object, known: tuple[str, ...]) -> None:
        self.rule = rule
        self.known = known
        ids = ", ".join(f"`{i}`" for i in known) or "none"
        close = difflib.get_close_matches(rule, known, n=1) if isinstance(rule, str) else []
        hint = f"did you mean `{close[0]}`? " if close else ""
        super().__init__(f"no rule {rule!r}; {hint}the rules are {ids}")

    def __reduce__(self) -> tuple[type[UnknownRuleError], tuple[object, tuple[str, ...]]]:
        return type(self), (self.rule, self.known)
