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


ERRORS = {
    "RuleSetError": _rule_set_error,
    "SnapshotError": _snapshot_error,
    "CoercionError": _coercion_error,
    "EvaluationError": lambda: EvaluationError("RE601", "division by zero", Span(3, 8)),
    "NoTestFilesError": lambda: NoTestFilesError("no rule test files in `x`"),
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
