"""Generated code for the host's path: one Python function per expression (or condition set)
that reads the values it needs straight from the host's data, converts them, and computes
the result in one frame, as a hand-written function would.

Closures (`compiler`) pay a Python call per node; on a two-field condition that is most of the
time. This module writes the checked expression out as Python source and compiles it once, the
way Jinja2 compiles templates. It covers the shapes conditions take (field loads, comparisons,
`and`/`or`/`not`, `in` a constant list or a list field, arithmetic on whole numbers and exact
decimals, `floor`/`ceil`/`len`, `if`, `now()`/`today()` once bound); anything else (a
quantifier, an index, dates against timestamps, durations) makes `generate` return None and
the closures run, as before.

The work is split three ways. This module assembles the function around the writer's lines
(the template, the guard on `data`, the `_UNREAD` markers), compiles it, and holds the fixed
vocabulary: `_HELPERS` (every name the source may call, and the object behind it) and
`VOCABULARY`; it is the one module allowed `exec`. `codegen_expressions.ExpressionWriter`
writes each checked node, and `codegen_reads.SourceWriter`, which it extends, the loads,
checks and conversions of the host's values (and `convert_amount` and `convert_field`,
which the source calls as `_amount` and `_field`).

**Nothing the host's rule text says can become code.** The source is assembled only from:

* a fixed template and a fixed vocabulary of operators (`and or not == != < <= > >= in + -`)
  and helper names (`_HELPERS`), chosen by the *node kind and static type* of the checked
  AST, never by the text of a node;
* local names the generator numbers itself (`_r0`, `_v1`, `_k2`);
* `repr()` of checked constants whose type is exactly `str`, `int` or `bool` (or `None`), and
  of field and root names (strings): `repr` of a `str` is always one string literal token,
  whatever it holds (quotes, backslashes, newlines), and of an `int` one number token. Every
  other constant (`Decimal`, durations, days, the frozen sets of `in`) is passed in the
  function's namespace under a numbered name, never as text.

`tests/property/test_codegen.py` checks this on corpus and fuzzed expressions.

**Reading on the path taken.** A path is read, checked and converted where evaluation first
reaches it: the right side of `and`/`or` and the branches of `if` are statements under an
`if`; a path loaded on a branch is loaded again elsewhere behind `if local is _UNREAD:`, into
the same local (once per call). A malformed value where evaluation does not go is never read.

**Declining.** Values are checked by class (`v.__class__ is str`: the class `isinstance`, and
so `coerce`, believes; amounts from `int`, `str`, `float` or finite `Decimal`, within
`AMOUNT_DIGITS`). The host's variables and records are read only when they are a `dict`
exactly: a subclass or another mapping may supply a default for a missing key (`defaultdict`
inserts it into the host's data), so it goes to the slow path. Anything unexpected (a missing
field, a wrong type, division by zero) raises inside the function, and the slow path
(`reader.view_reader` and the closures, reading the same way) runs on the same data: the value,
or the error of the first bad value on the path taken. Expressions are pure: evaluating twice
changes only time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.codegen_expressions import ExpressionWriter
from ruleengine.expr.codegen_reads import (
    NO_LIST,
    UNREAD,
    DeclineError,
    UnsupportedError,
    convert_amount,
    convert_field,
)
from ruleengine.expr.coerce import coerce
from ruleengine.expr.runtime import ARITHMETIC, DIVISION, EvalContext
from ruleengine.expr.types import Type
from ruleengine.limits import AMOUNT_DIGITS, is_bounded_decimal

_HELPERS: dict[str, Any] = {
    "_D": Decimal,
    "_Decimal": Decimal,
    "_str": str,
    "_int": int,
    "_bool": bool,
    "_dict": dict,
    "_list": list,
    "_DeclineError": DeclineError,
    "_amount": convert_amount,
    "_bounded": is_bounded_decimal,
    "_BOUND": 10**AMOUNT_DIGITS,
    "_join": "".join,
    "_field": convert_field,
    "_NO_LIST": NO_LIST,
    "_UNREAD": UNREAD,
    "_floor": math.floor,
    "_ceil": math.ceil,
    "_add": ARITHMETIC.add,
    "_sub": ARITHMETIC.subtract,
    "_mul": ARITHMETIC.multiply,
    "_div": DIVISION.divide,
    "_neg": Decimal.copy_negate,
    "_rem": ARITHMETIC.remainder,
}

VOCABULARY = frozenset(
    {
        *_HELPERS,
        "def",
        "data",
        "try",
        "except",
        "Exception",
        "return",
        "if",
        "elif",
        "else",
        "is",
        "not",
        "and",
        "or",
        "in",
        "None",
        "True",
        "False",
        "raise",
        "type",
        "str",
        "int",
        "bool",
        "len",
        "get",
        "is_finite",
        "adjusted",
        "isascii",
        "__class__",
        "list",
        "dict",
        "_evaluate",
        "_slow",
        "_coerce",
    }
)
"""Every identifier generated source may contain, besides its numbered locals and constants
(`_r0`, `_v1`, `_k2`); checked by the tests."""


Generated = Callable[[Mapping[str, Any]], Any]


def generate(
    checked: Sequence[CheckedExpr],
    roots: Mapping[str, Type],
    ctx: EvalContext | None,
    slow: Callable[[Mapping[str, Any]], Any],
    *,
    together: bool = False,
) -> tuple[Generated, str] | None:
    """The generated function (and its source) computing `checked[0]` (or, `together`, the
    list of every value) from the host's data, falling back to `slow` on anything unusual;
    None when an expression has a node the generator does not write out. `ctx` is folded in
    (`now()`); without one, an expression that reads the context is not generated."""
    writer = ExpressionWriter(roots, ctx)
    try:
        values = [writer.write(c, alone=not together) for c in checked]
    except UnsupportedError:
        return None
    result = f"[{', '.join(values)}]" if together else values[0]
    unread = [f"{variable} = _UNREAD" for variable in sorted(writer.unread)]
    guard = ["if data.__class__ is not _dict: raise _DeclineError"] if writer.reads_data else []
    body = [*guard, *unread, *writer.lines, f"return {result}"]
    source = "\n".join(
        [
            "def _evaluate(data):",
            "    try:",
            *(f"        {line}" for line in body),
            "    except Exception:",
            "        return _slow(data)",
        ]
    )
    namespace: dict[str, Any] = {
        **_HELPERS,
        "_coerce": coerce,
        **writer.names,
        "_slow": slow,
    }
    code = compile(source, "<ruleengine generated>", "exec")
    exec(code, namespace)  # the source made only of the vocabulary above; see docstring
    function: Generated = namespace["_evaluate"]
    return function, source
