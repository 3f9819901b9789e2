"""The rule files under test: each loaded and compiled once per run, its `when` conditions
instrumented to record their values when coverage is on."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ruleengine.diagnostics.diagnostic import Diagnostic, PathPart
from ruleengine.engine.engine import Engine
from ruleengine.expr.program import Env
from ruleengine.rules.ruleset import CompiledExpression, RuleSet, check_source, read_source


@dataclass
class LoadedRules:
    """A rule file as tests use it: its engine, or the diagnostics that stopped it loading.
    With coverage, the engine's `when` conditions report each value they compute to
    `conditions`."""

    path: Path
    display: str
    ruleset: RuleSet | None
    engine: Engine | None
    diagnostics: list[Diagnostic]
    unreadable: bool = False
    conditions: list[tuple[tuple[PathPart, ...], bool]] = field(default_factory=list)


class RulesCache:
    """Rule files by resolved path, so test files sharing a rule file load and compile it once
    per run (and, with coverage, share one record of what was exercised)."""

    def __init__(self, *, coverage: bool = False) -> None:
        self.coverage = coverage
        self._loaded: dict[Path, LoadedRules] = {}

    def get(self, path: Path, display: str) -> LoadedRules:
        key = path.resolve()
        loaded = self._loaded.get(key)
        if loaded is None:
            loaded = self._loaded[key] = self._load(path, display)
        return loaded

    def _load(self, path: Path, display: str) -> LoadedRules:
        source = read_source(path, display)
        if isinstance(source, Diagnostic):
            return LoadedRules(path, display, None, None, [source], source.code == "RE100")
        result = check_source(source)
        if result.ruleset is None:
            errors = [d for d in result.diagnostics if d.is_error]
            return LoadedRules(path, display, None, None, errors)
        loaded = LoadedRules(path, display, result.ruleset, None, [])
        ruleset = _instrumented(result.ruleset, loaded.conditions) if self.coverage else None
        loaded.engine = Engine(ruleset or result.ruleset)
        return loaded


def _instrumented(ruleset: RuleSet, record: list[tuple[tuple[PathPart, ...], bool]]) -> RuleSet:
    """The ruleset with each `when` condition wrapped to append (path, value) to `record`
    whenever the engine evaluates it. The wrapper changes no result: it returns what the
    compiled condition returned and lets its errors through."""
    expressions: dict[tuple[PathPart, ...], CompiledExpression] = dict(ruleset.expressions)
    for path, compiled in ruleset.expressions.items():
        if path[-1] != "when":
            continue
        inner = compiled.evaluate

        def recording(
            env: Env, inner: Callable[[Env], Any] = inner, path: tuple[PathPart, ...] = path
        ) -> Any:
            value = inner(env)
            record.append((path, bool(value)))
            return value

        expressions[path] = dataclasses.replace(compiled, evaluate=recording)
    return dataclasses.replace(ruleset, expressions=MappingProxyType(expressions))
