"""The expression grammar: lark's parser for it, and the generated tables made from it.

Text that parses is parsed on `parse_tables`, lark's LALR(1) tables for this grammar written
out as Python literals by `generate_tables` (`python -m ruleengine.expr.grammar`), by the
small driver in `lalr.py`, with no lark at all. Lark itself (imported, and its tables built,
lazily, then cached for the process) parses only text the driver declines, to word the
diagnostic, and generates the tables.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

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
    from importlib import resources  # only lark reads the grammar: not on the common path

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


TABLES_MODULE = "src/ruleengine/expr/parse_tables.py"
"""Where `generate_tables` is written, relative to the repository root."""


def generate_tables() -> str:
    """The source of `ruleengine.expr.parse_tables`: lark's LALR(1) tables for the grammar.

    The tables are lark's own (the same analysis `expression_parser` runs), renumbered
    breadth-first from the start state with symbols in sorted order, so the text depends only
    on the grammar, not on the order lark happens to number its states in. Data only: terminal
    patterns, keywords, rules and states as literals, no pickle and no code from the grammar.
    """
    import json

    from lark.lexer import PatternStr

    def q(text: object) -> str:  # a double-quoted literal, as the rest of the code base writes
        return json.dumps(str(text))

    from lark.parsers.lalr_analysis import Shift

    parser = expression_parser()
    lexer: Any = parser.parser.lexer
    scanner = lexer.scanner  # built on first use; also sets `lexer.callback`
    keywords: dict[str, str] = {}
    for name, callback in sorted(lexer.callback.items()):
        assert name == "NAME", name  # only NAME has keywords embedded in it
        for terminal in callback.scanner.terminals:
            assert isinstance(terminal.pattern, PatternStr)
            keywords[terminal.pattern.value] = terminal.name
    table: Any = parser.parser.parser.parser.parse_table
    rules: list[Any] = list(parser.rules)
    start, end = table.start_states["start"], table.end_states["start"]
    order = [start]
    number = {start: 0}
    for state in order:  # breadth-first renumbering
        for _symbol, (action, arg) in sorted(table.states[state].items(), key=_by_symbol):
            if action is Shift and arg not in number:
                number[arg] = len(order)
                order.append(arg)
    lines = [
        '"""The expression grammar\'s LALR(1) tables, generated from grammar/expr.lark.',
        "",
        "Do not edit: regenerate with",
        "",
        f"    python -m ruleengine.expr.grammar > {TABLES_MODULE}",
        "",
        "tests/unit/expr/test_parse_tables.py fails when this file and the grammar disagree.",
        '"""',
        "",
        "# fmt: off",
        "",
        "# The lexer's terminals in lark's order of priority (the first that matches wins).",
        "TERMINALS: tuple[tuple[str, str], ...] = (",
    ]
    lines += [f"    ({q(t.name)}, {q(t.pattern.to_regexp())})," for t in scanner.terminals]
    lines += [
        ")",
        "# A NAME token that is exactly one of these is that keyword.",
        "KEYWORDS: dict[str, str] = {",
    ]
    lines += [f"    {q(k)}: {q(v)}," for k, v in sorted(keywords.items())]
    lines += [
        "}",
        f"IGNORED: frozenset[str] = frozenset({{{', '.join(map(q, sorted(lexer.ignore_types)))}}})",
        "START_STATE = 0",
        f"END_STATE = {number[end]}",
        "# Per rule: (nonterminal, symbols, alias or '' , kept positions, spliced positions).",
        "# Tokens named `_...` are dropped, rules named `_...` spliced into their parent, and a",
        "# `?` rule without alias that keeps one child passes it through (alias '').",
        "RULES: tuple[tuple[str, int, str, tuple[int, ...], tuple[int, ...]], ...] = (",
    ]
    for rule in rules:
        kept = tuple(
            i
            for i, symbol in enumerate(rule.expansion)
            if not (symbol.is_term and symbol.filter_out)
        )
        spliced = tuple(
            i
            for i, symbol in enumerate(rule.expansion)
            if not symbol.is_term and symbol.name.startswith("_")
        )
        alias = rule.alias or ("" if rule.options.expand1 and len(kept) == 1 else "_items")
        assert rule.alias or rule.options.expand1 or rule.origin.name.startswith("_"), rule
        size = len(rule.expansion)
        lines.append(f"    ({q(rule.origin.name)}, {size}, {q(alias)}, {kept!r}, {spliced!r}),")
    lines += [
        ")",
        "# Per state: symbol -> the next state (shift, goto) if >= 0, or ~rule (reduce) if < 0.",
        "STATES: tuple[dict[str, int], ...] = (",
    ]
    for state in order:
        entries = []
        for symbol, (action, arg) in sorted(table.states[state].items(), key=_by_symbol):
            code = number[arg] if action is Shift else ~rules.index(arg)
            entries.append(f"{q(symbol)}: {code}")
        lines.append(f"    # {number[state]}")
        line = "    {"
        for entry in entries:
            if len(line) + len(entry) + 2 > 96:
                lines.append(line.rstrip())
                line = "     "
            line += entry + ", "
        lines.append(line.rstrip().rstrip(",") + "},")
    lines += [")", "", "# fmt: on", ""]
    return "\n".join(lines)


def _by_symbol(entry: tuple[Any, Any]) -> str:
    return str(entry[0])


if __name__ == "__main__":
    print(generate_tables(), end="")
