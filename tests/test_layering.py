"""Imports point one way along the pipeline, and the evaluator does no I/O.

text -> yaml_source -> validate/models -> semantics -> expr (parser, checker, compiler) ->
ruleset -> cli. A module may import only from stages before it. The expression package never
imports the rule file layers, so hosts can use it on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "ruleengine"

# Modules each stage must never import (directly).
FORBIDDEN: dict[str, set[str]] = {
    "source": {"ruleengine.diagnostics", "ruleengine.yaml_source", "ruleengine.models"},
    "codes": {"ruleengine.diagnostics"},
    "yaml_source": {
        "ruleengine.models",
        "ruleengine.validate",
        "ruleengine.ruleset",
        "ruleengine.expr",
    },
    "models": {
        "ruleengine.validate",
        "ruleengine.ruleset",
        "ruleengine.semantics",
        "ruleengine.cli",
    },
    "validate": {"ruleengine.ruleset", "ruleengine.semantics", "ruleengine.cli"},
    "semantics": {"ruleengine.ruleset", "ruleengine.cli"},
    "ruleset": {"ruleengine.cli", "ruleengine.render"},
}
RULE_FILE_LAYERS = {
    "ruleengine.yaml_source",
    "ruleengine.models",
    "ruleengine.validate",
    "ruleengine.semantics",
    "ruleengine.ruleset",
    "ruleengine.cli",
    "ruleengine.vocabulary",
}
NO_IO = {"expr/compiler.py", "expr/runtime.py", "expr/functions.py", "expr/checker.py"}
IO_NAMES = {"open", "yaml", "pathlib", "os", "sys", "subprocess", "socket", "time", "random"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def matches(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_no_backward_imports(module: str) -> None:
    bad = {name for name in imports_of(SRC / f"{module}.py") if matches(name, FORBIDDEN[module])}
    assert bad == set()


@pytest.mark.parametrize("path", sorted((SRC / "expr").glob("*.py")), ids=lambda p: p.name)
def test_expression_package_does_not_know_rule_files(path: Path) -> None:
    bad = {name for name in imports_of(path) if matches(name, RULE_FILE_LAYERS)}
    assert bad == set()


@pytest.mark.parametrize("relative", sorted(NO_IO))
def test_evaluator_does_no_io(relative: str) -> None:
    path = SRC / relative
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = {n for n in imports_of(path) if n.split(".")[0] in IO_NAMES}
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"open", "eval", "exec", "compile", "__import__"}
    }
    assert bad == set() and calls == set()


EDGE_PACKAGES = {"ruleengine.backtest", "ruleengine.spark"}
HEAVY_MODULES = {"duckdb", "pyarrow", "pyspark", "pandas"}


def _core_modules() -> list[Path]:
    return [
        path
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] not in ("backtest", "spark.py", "spark")
    ]


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_does_not_import_the_edge_packages(path: Path) -> None:
    """Backtests and Spark are edge layers: only the CLI hooks `backtest` in, through the
    argparse-only `ruleengine.backtest.command`, and nothing in the core needs DuckDB,
    pyarrow or Spark."""
    names = imports_of(path)
    allowed = {"ruleengine.backtest.command"} if path.name == "cli.py" else set()
    bad = {n for n in names if matches(n, EDGE_PACKAGES) and n not in allowed}
    heavy = {n for n in names if n.split(".")[0] in HEAVY_MODULES}
    assert (bad, heavy) == (set(), set())


def test_edge_packages_do_not_import_the_cli() -> None:
    for path in [*(SRC / "backtest").glob("*.py"), *SRC.glob("spark*.py")]:
        assert not {n for n in imports_of(path) if matches(n, {"ruleengine.cli"})}, path


def test_importing_ruleengine_loads_no_heavy_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ruleengine, ruleengine.cli, ruleengine.backtest.command; "
        "ruleengine.cli.build_parser(); "
        f"print(sorted(m for m in {sorted(HEAVY_MODULES)!r} if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (shown.returncode, shown.stdout.strip()) == (0, "[]")


def test_no_eval_or_exec_anywhere() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec"}, f"{path}: {node.func.id}"
