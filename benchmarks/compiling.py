"""Compile speed (issue #18): conditions compiled per second, each text distinct.

What `validate` and an editor re-checking on every keystroke pay. The workloads are the host
section's three conditions, each made into `count` distinct texts by varying its last
constant, so no text is compiled twice in a round (nothing caches compiled text anyway: the
generated tables' small memo of pass-through reductions depends on the grammar, not the
text). Timed side by side in one process:

* `compile_expression` as it is: the generated-table parser (`expr/lalr.py`), the checker,
  the closure compiler (the host's reader and generated code are built on first use);
* the parse as it was, for a same-run ratio: lark's parser and tree builder
  (`expression_parser().parse` + `build_ast`, tables already built), then the checker and
  closures as they are now and the reader built at once (so the checker's and compiler's own
  speed-ups are on both sides; against the previous code whole, compare two processes);
* parsing alone, both ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from benchmarks.harness import compare
from benchmarks.host import workloads
from ruleengine.api import compile_expression
from ruleengine.expr.build import build_ast
from ruleengine.expr.checker import check_expression
from ruleengine.expr.grammar import expression_parser
from ruleengine.expr.lalr import parse_fast
from ruleengine.expr.parser import MAX_DEPTH, ExpressionSource
from ruleengine.expr.program import compile_program
from ruleengine.expr.reader import compile_reader, reads_of
from ruleengine.expr.scope import Scope


@dataclass
class CompileRow:
    workload: str
    tokens: int
    rates: dict[str, float]  # what -> compiles (or parses) per second


def distinct(text: str, count: int) -> list[str]:
    """`count` versions of `text` with its last whole number replaced by 1..count."""
    found = list(re.finditer(r"\d+", text))[-1]
    return [f"{text[: found.start()]}{i}{text[found.end() :]}" for i in range(1, count + 1)]


def _as_before(scope: Scope) -> object:
    parser = expression_parser()

    def compile_before(text: str) -> object:
        src = ExpressionSource.standalone(text)
        expr = build_ast(parser.parse(text)).expr
        checked, _ = check_expression(expr, scope, src)
        assert checked is not None
        program = compile_program(checked)
        return program, compile_reader(scope.roots, reads_of([checked.root]))

    return compile_before


def run_compile(count: int, *, rounds: int) -> list[CompileRow]:
    parser = expression_parser()  # tables built before timing, as a warm process has them
    rows = []
    for workload in workloads(50):
        texts = distinct(workload.text, count)
        scope = workload.scope
        timings = compare(
            [
                ("compile_expression", lambda t, s=scope: compile_expression(t, s), texts),
                ("lark parse (as before), reader at once", _as_before(scope), texts),
                ("parse: generated tables", lambda t: parse_fast(t, MAX_DEPTH), texts),
                ("parse: lark + tree builder", lambda t: build_ast(parser.parse(t)), texts),
            ],
            rounds=rounds,
            target=0.05,
        )
        tokens = len(list(parser.lex(workload.text)))
        rows.append(CompileRow(workload.name, tokens, {t.name: t.rate for t in timings}))
    return rows
