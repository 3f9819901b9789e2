"""The rule-file models' two readers compared on one document (`rules/structure_model`).

The fast reader (no pydantic) may decline a valid file, but must never accept a file pydantic
refuses, and when it accepts one it must give exactly pydantic's values: the same types, the
same defaults, the same keys set. Shared by the unit tests and the fuzzer of the readers.
"""

from __future__ import annotations

from typing import Any

import pydantic

from ruleengine.rules.models import RuleSetFile
from ruleengine.rules.structure_model import Model, from_pydantic, pydantic_model, validate_model


def typed(value: Any) -> Any:
    """A value with the type of every part spelt out (`Decimal(5) == 5`, `True == 1`)."""
    if isinstance(value, Model):
        fields = [
            (name, typed(item))
            for name, item in vars(value).items()
            if name != "model_fields_set"  # compared sorted
        ]
        return (type(value).__name__, sorted(value.model_fields_set), fields)
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    return (type(value).__name__, repr(value))


def agree(data: Any) -> bool:
    """Assert the two readers agree on `data`; whether the fast one accepted it."""
    fast = validate_model(RuleSetFile, data)
    try:
        reference = pydantic_model(RuleSetFile).model_validate(data)
    except pydantic.ValidationError:
        assert fast is None, "the fast reader accepted a file pydantic refuses"
        return False
    if fast is None:
        return False
    assert typed(fast) == typed(from_pydantic(RuleSetFile, reference))
    for mode in ("python", "json"):
        assert fast.model_dump(mode=mode, by_alias=True) == reference.model_dump(
            mode=mode, by_alias=True
        )
    return True
