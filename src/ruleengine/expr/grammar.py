"""The compiled expression grammar, built once per process and only when first needed.

Building an LALR table takes a noticeable fraction of a second, and most commands (formatting a
snapshot, printing the error reference) never parse an expression, so `lark` is imported and the
table built lazily, then cached for the life of the process.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark

GRAMMAR_PACKAGE = "ruleengine"
GRAMMAR_RESOURCE = ("grammar", "expr.lark")


def grammar_text() -> str:
    """The grammar source, read as package data.

    `importlib.resources` is used rather than lark's `open_from_package` because the latter goes
    through `pkgutil.get_data`, which returns nothing for a namespace package; `ruleengine` may
    be one while the project is run from a source checkout.
    """
    resource = resources.files(GRAMMAR_PACKAGE)
    for part in GRAMMAR_RESOURCE:
        resource = resource.joinpath(part)
    return resource.read_text(encoding="utf-8")


@functools.cache
def expression_parser() -> Lark:
    """The shared LALR parser for expressions.

    The basic lexer (not the contextual one) is deliberate: a contextual lexer only knows the
    terminals of the current parser state, so after `.` it would lex the keyword `in` as a NAME
    and accept `order.in`. With the basic lexer keywords are never names, and a token that does
    not fit its place becomes an `UnexpectedToken`, which carries the set of acceptable
    terminals that error messages are made from. `maybe_placeholders=False` keeps optional
    parts (`f()`, `[]`) from leaving `None` children behind.
    """
    from lark import Lark

    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
        source_path="/".join(GRAMMAR_RESOURCE),
    )
