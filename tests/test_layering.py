"""Imports point one way, package by package, with no import circle; the evaluator does no I/O.

Every module of `src/ruleengine` has a rank, from its package (docs/architecture.md):

    0  errors, limits                 what every layer may use
    1  diagnostics                    Diagnostic, spans, codes, rendering
    2  expr                           the expression language
    3  rules                          rule files -> RuleSet
    4  engine                         RuleSet + snapshot + now -> decisions
    5  testing                        rule test files
    6  the edges: cli, api, schema_export, pytest_plugin, the package root and __main__,
       and the edge packages service, backtest and spark

A module may import only modules of its own rank or below. Imports are read with `ast`,
including those inside functions (lazy imports) and under `if TYPE_CHECKING:`: a lazy import
is still a dependency. Any exception is listed in `ALLOWED` with its reason. Separately, the
graph of imports between modules must have no cycle at all, within a package too.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "ruleengine"

EDGE = 6
RANKS: dict[str, int] = {
    "ruleengine.errors": 0,
    "ruleengine.limits": 0,
    "ruleengine.diagnostics": 1,
    "ruleengine.expr": 2,
    "ruleengine.rules": 3,
    "ruleengine.engine": 4,
    "ruleengine.testing": 5,
    "ruleengine.cli": EDGE,
    "ruleengine.api": EDGE,
    "ruleengine.schema_export": EDGE,
    "ruleengine.pytest_plugin": EDGE,
    "ruleengine.__main__": EDGE,
    "ruleengine.progress": EDGE,  # the progress line of the long-running commands
    "ruleengine": EDGE,  # the package root: the public API, lazily imported
    # Edge packages: each hooks into the CLI with one call; nothing below imports them.
    "ruleengine.service": EDGE,
    "ruleengine.backtest": EDGE,
    "ruleengine.spark": EDGE,
}

# (importing module, imported module) -> why the backward import is allowed. Empty: keep it so.
ALLOWED: dict[tuple[str, str], str] = {}

NO_IO = {
    "expr/compiler.py",
    "expr/closures.py",
    "expr/program.py",
    "expr/conditions.py",
    "expr/runtime.py",
    "expr/functions.py",
    "expr/checker.py",
    "engine/engine.py",
    "engine/earning.py",
    "engine/timeline.py",
    "engine/decisions.py",
}
NO_IO.update(f"engine/milestones/{p.name}" for p in (SRC / "engine" / "milestones").glob("*.py"))
IO_NAMES = {"open", "yaml", "pathlib", "os", "sys", "subprocess", "socket", "time", "random"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def rank_of(module: str) -> int:
    """The rank of the longest prefix of `module` in RANKS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in RANKS:
            return RANKS[prefix]
    raise AssertionError(f"{module} has no rank: add its package to RANKS")


@cache
def imports_of(path: Path) -> frozenset[str]:
    """Every module `path` imports, at any depth of the file: `from a.b import c` gives
    `a.b.c` when that is a module of ours, else `a.b`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
    return frozenset(names)


def ours(path: Path) -> set[str]:
    return {n for n in imports_of(path) if n == "ruleengine" or n.startswith("ruleengine.")}


def matches(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_every_module_has_a_rank() -> None:
    for module in MODULES:
        rank_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_ranks(module: str) -> None:
    rank = rank_of(module)
    bad = {
        target
        for target in ours(MODULES[module])
        if rank_of(target) > rank and (module, target) not in ALLOWED
    }
    assert bad == set(), f"{module} (rank {rank}) imports higher ranks: {sorted(bad)}"


def test_no_relative_imports() -> None:
    """Relative imports would slip past the checks above."""
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}: relative import"


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing
    itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    cycles.append(sorted(component))
    return cycles


def test_find_cycles_finds_them() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert sorted(find_cycles(graph)) == [["a", "b", "c"], ["e"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle() -> None:
    graph = {m: {t for t in ours(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    assert find_cycles(graph) == []


@pytest.mark.parametrize("path", sorted((SRC / "expr").glob("*.py")), ids=lambda p: p.name)
def test_expression_package_does_not_know_rule_files(path: Path) -> None:
    """Hosts can use the expression language on its own."""
    assert {n for n in ours(path) if rank_of(n) > RANKS["ruleengine.expr"]} == set()


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
    allowed = {"ruleengine.backtest.command"} if path == SRC / "cli" / "main.py" else set()
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


# The one module that compiles generated source: only from a fixed vocabulary and `repr()` of
# checked constants (docs/performance.md, "Generated code"; tests/property/test_codegen.py).
EXEC_ALLOWED = {SRC / "expr" / "codegen.py"}


def test_no_eval_or_exec_anywhere() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "eval", f"{path}: eval"
                assert node.func.id != "exec" or path in EXEC_ALLOWED, f"{path}: exec"


def test_only_the_cli_reads_the_clock() -> None:
    """`now` is passed in everywhere else: the engine is deterministic."""
    readers = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"now", "today", "utcnow"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"datetime", "date"}
            ):
                readers.add(module)
    assert {m for m in readers if rank_of(m) < EDGE} == set()


# -- the edge packages ------------------------------------------------------------------------
SERVICE = SRC / "service"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in SRC.rglob("*.py") if SERVICE not in p.parents),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_nothing_in_the_core_imports_the_service(path: Path) -> None:
    """Only the CLI reaches the service, and only its argparse hook (`service.command`)."""
    allowed = {"ruleengine.service.command"} if path == SRC / "cli" / "main.py" else set()
    bad = {n for n in imports_of(path) if matches(n, {"ruleengine.service"})} - allowed
    assert bad == set()


@pytest.mark.parametrize("path", sorted(SERVICE.glob("*.py")), ids=lambda p: p.name)
def test_the_service_never_imports_the_cli(path: Path) -> None:
    assert {n for n in imports_of(path) if matches(n, {"ruleengine.cli"})} == set()
