"""The other rule and expression engines on PyPI, behind one small interface.

Each peer compiles a condition once (its fast path) and is then called on records converted
beforehand into what it takes, as ruleengine is (`compile_expression(...).bind(now=...)` on
converted data), so the benchmark compares evaluation, not parsing or conversion. A peer that
is not installed is skipped, and the report says so (`pip install -e '.[bench]'` installs all).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Compiled = Callable[[Any], Any]


@dataclass(frozen=True)
class Peer:
    name: str  # as shown in the report
    package: str  # the PyPI distribution
    module: str  # what it imports as
    syntax: str  # which spelling of the conditions it takes: "cel", "zen" or "rule-engine"

    @property
    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def compile(self, text: str) -> tuple[Compiled, Callable[[Any], Any]]:
        """The compiled condition and the converter its records go through once."""
        return _BUILDERS[self.package](text)


def _rule_engine(text: str) -> tuple[Compiled, Callable[[Any], Any]]:
    import rule_engine  # type: ignore[import-untyped]  # no type information shipped

    context = rule_engine.Context(resolver=rule_engine.resolve_item)
    return rule_engine.Rule(text, context=context).evaluate, _same


def _cel_python(text: str) -> tuple[Compiled, Callable[[Any], Any]]:
    import celpy
    from celpy.adapter import json_to_cel

    environment = celpy.Environment()
    program = environment.program(environment.compile(text))
    return program.evaluate, json_to_cel


def _common_expression_language(text: str) -> tuple[Compiled, Callable[[Any], Any]]:
    import cel

    return cel.compile(text).execute, _same


def _zen(text: str) -> tuple[Compiled, Callable[[Any], Any]]:
    import zen

    return zen.compile_expression(text).evaluate, _same


def _same(record: Any) -> Any:
    return record


_BUILDERS: dict[str, Callable[[str], tuple[Compiled, Callable[[Any], Any]]]] = {
    "rule-engine": _rule_engine,
    "cel-python": _cel_python,
    "common-expression-language": _common_expression_language,
    "zen-engine": _zen,
}

PEERS = (
    Peer("zen-engine (Rust)", "zen-engine", "zen", "zen"),
    Peer("common-expression-language (Rust CEL)", "common-expression-language", "cel", "cel"),
    Peer("rule-engine", "rule-engine", "rule_engine", "rule-engine"),
    Peer("cel-python", "cel-python", "celpy", "cel"),
)


def spell(text: str, syntax: str) -> str:
    """A condition of the benchmark in a peer's syntax. The conditions use only what the
    languages share (comparisons, `in`, field access, `and`/`or`/`not`), so a spelling change
    is enough: CEL writes `&&`, `||` and `!`."""
    if syntax == "cel":
        return text.replace(" and ", " && ").replace(" or ", " || ").replace("not (", "!(")
    return text


def zen_batch(text: str, names: tuple[str, ...]) -> str:
    """`text` over a list of records in one zen call: `map(rows, <text with #.name>)`."""
    for name in names:
        text = text.replace(f"{name}.", f"#.{name}.")
    return f"map(rows, {text})"


def truthy(value: Any) -> Any:
    """A peer's result as a Python value to compare (celpy returns its own boolean type)."""
    if isinstance(value, list):
        return [truthy(item) for item in value]
    if type(value).__name__ == "BoolType":
        return bool(value)
    return value
