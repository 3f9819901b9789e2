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
    # The batch runs below the command line: problems go up to it as data, never by calling
    # into it (it once captured what `cli._parse_snapshot` printed).
    "batch": {"ruleengine.cli"},
    "snapshot": {"ruleengine.cli", "ruleengine.batch", "ruleengine.render"},
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


def test_no_eval_or_exec_anywhere() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec"}, f"{path}: {node.func.id}"


# -- the service is an edge layer ------------------------------------------------------------
SERVICE = SRC / "service"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in SRC.rglob("*.py") if SERVICE not in p.parents),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_nothing_in_the_core_imports_the_service(path: Path) -> None:
    """Only the CLI reaches the service, and only its argparse hook (`service.command`)."""
    allowed = {"ruleengine.service.command"} if path == SRC / "cli.py" else set()
    bad = {n for n in imports_of(path) if matches(n, {"ruleengine.service"})} - allowed
    assert bad == set()


@pytest.mark.parametrize("path", sorted(SERVICE.glob("*.py")), ids=lambda p: p.name)
def test_the_service_never_imports_the_cli(path: Path) -> None:
    assert {n for n in imports_of(path) if matches(n, {"ruleengine.cli"})} == set()


def test_command_module_imports_no_web_stack_at_module_level() -> None:
    tree = ast.parse((SERVICE / "command.py").read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module.split(".")[0])
    assert top & {"fastapi", "starlette", "uvicorn", "jinja2", "ruleengine"} == set()
