"""One error root: every error ruleengine raises on purpose is a `RuleEngineError`, and each
survives pickling whole (worker processes send them back as themselves)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ruleengine
from ruleengine import Engine, RuleEngineError, RuleSetError, SnapshotError, load_ruleset
from ruleengine.diagnostics.source import Span
from ruleengine.errors import UnknownRuleError
from ruleengine.expr.coerce import CoercionError, coerce
from ruleengine.expr.runtime import EvaluationError
from ruleengine.expr.types import INT
from ruleengine.testing import NoTestFilesError

ACME = Path(__file__).parent.parent.parent / "examples" / "rules" / "acme.yaml"


def _rule_set_error() -> RuleSetError:
    with pytest.raises(RuleSetError) as caught:
        ruleengine.compile_expression("order.subtotal >")
    return caught.value


def _snapshot_error() -> SnapshotError:
    engine = Engine(load_ruleset(ACME))
    with pytest.raises(SnapshotError) as caught:
        engine.evaluate({"customer": {}}, now=datetime(2026, 6, 1, tzinfo=UTC))
    return caught.value


def _coercion_error() -> CoercionError:
    with pytest.raises(CoercionError) as caught:
        coerce("seven", INT, ("order", "items"))
    return caught.value


def _unknown_rule_error() -> UnknownRuleError:
    engine = Engine(load_ruleset(ACME))
    with pytest.raises(UnknownRuleError) as caught:
        engine.explain({"customer": {"id": "c1"}}, now=datetime(2026, 6, 1, tzinfo=UTC), rule="x")
    return caught.value


ERRORS = {
    "RuleSetError": _rule_set_error,
    "SnapshotError": _snapshot_error,
    "CoercionError": _coercion_error,
    "EvaluationError": lambda: EvaluationError("RE601", "division by zero", Span(3, 8)),
    "NoTestFilesError": lambda: NoTestFilesError("no rule test files in `x`"),
    "UnknownRuleError": _unknown_rule_error,
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_error_has_the_root(name: str) -> None:
    assert isinstance(ERRORS[name](), RuleEngineError)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_error_pickles_whole(name: str) -> None:
    error = ERRORS[name]()
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_the_root_is_public() -> None:
    assert "RuleEngineError" in ruleengine.__all__
    assert ruleengine.RuleEngineError is RuleEngineError


def test_value_errors_stay_value_errors() -> None:
    """Hosts that caught `ValueError` before the root existed still catch these."""
    assert issubclass(SnapshotError, ValueError) and issubclass(CoercionError, ValueError)
    assert issubclass(UnknownRuleError, ValueError)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("signup-bonu", "no rule 'signup-bonu'; did you mean `signup-bonus`? the rules are "),
        ("nope", "no rule 'nope'; the rules are `signup-bonus`, "),
        ("", "no rule ''; the rules are "),
        (5, "no rule 5; the rules are "),
    ],
)
def test_explaining_an_unknown_rule_names_it_and_the_closest(rule: object, message: str) -> None:
    """README: every deliberate error derives from `RuleEngineError`; a bare `ValueError`
    (with no suggestion) was raised before, and a number was looked up as if it were an id."""
    engine = Engine(load_ruleset(ACME))
    with pytest.raises(RuleEngineError) as caught:
        engine.explain(
            {"customer": {"id": "c1"}},
            now=datetime(2026, 6, 1, tzinfo=UTC),
            rule=rule,  # type: ignore[arg-type]  # what a caller without types may pass
        )
    assert isinstance(caught.value, UnknownRuleError)
    assert str(caught.value).startswith(message)
    assert caught.value.rule == rule and "signup-bonus" in caught.value.known
