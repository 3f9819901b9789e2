"""Snapshot JSON text -> data, exactly: amounts as `Decimal`, integers bounded before Python's
own digit limit, and every text holding half of a surrogate pair found (RE610).

Shared by `ruleengine eval` (through `read_snapshot_text`) and the HTTP service, so both read
the same text the same way and word the same problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ruleengine.errors import RuleEngineError
from ruleengine.expr.coerce import JsonPath, format_path
from ruleengine.limits import AMOUNT_DIGITS


@dataclass(frozen=True, slots=True)
class SnapshotProblem:
    """One thing wrong with a snapshot, at a JSON path (`$` for the snapshot as a whole).

    `line` and `column` (1-based) are set when the problem is at a place in the snapshot's
    text rather than at a value: JSON that does not parse (RE611).
    """

    code: str
    path: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "message": self.message, "hint": self.hint}

    def to_json(self) -> dict[str, Any]:
        """The problem as JSON output gives it (`eval --snapshots`): `code`, `path` and
        `message`, then `hint`, `line` and `column` when there are any."""
        data: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message}
        if self.hint is not None:
            data["hint"] = self.hint
        if self.line is not None:
            data["line"] = self.line
            data["column"] = self.column
        return data


class SnapshotError(RuleEngineError, ValueError):
    """A snapshot that does not fit the contract; carries every problem found. It pickles
    (with its problems), so worker processes can return it."""

    def __init__(self, problems: Sequence[SnapshotProblem], name: str = "<snapshot>") -> None:
        self.problems = list(problems)
        self.name = name
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{name}: {first.path}: {first.code} {first.message}{more}")

    def __reduce__(self) -> tuple[type[SnapshotError], tuple[list[SnapshotProblem], str]]:
        return type(self), (self.problems, self.name)


class LongIntegerError(ValueError):
    """A JSON integer with more than `AMOUNT_DIGITS` digits, or a number with an exponent too
    large to hold (RE614); `digits` is its text."""

    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits

    def position(self, text: str, first_line: int = 1) -> tuple[int, int]:
        """The (line, column) of the number in `text`, whose first line is `first_line`."""
        offset = _token_offset(text, lambda token: token == self.digits)
        return first_line + text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset)


def loads_exact(text: str) -> Any:
    """`json.loads` with every number exact: raises `LongIntegerError` for an integer past
    `AMOUNT_DIGITS` digits (past 4,300, `int` itself would raise a bare `ValueError`) or a
    number whose exponent no `Decimal` holds (`1e9999999999999999999`), and
    `json.JSONDecodeError` or `RecursionError` as `json.loads` does; also
    `json.JSONDecodeError` for `NaN`, `Infinity` and `-Infinity`, which strict JSON (RFC 8259)
    does not have and `json.loads` alone would accept."""
    try:
        return json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_constant)
    except _ConstantError as error:
        name = error.name
    offset = _token_offset(text, lambda token: token == name)
    raise json.JSONDecodeError(
        f"`{name}` is not a JSON number (strict JSON has no NaN or Infinity)", text, offset
    ) from None


class _ConstantError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _constant(name: str) -> Any:
    raise _ConstantError(name)


# The tokens of JSON text that are not punctuation: a string (skipped whole, so nothing inside
# one is taken for a number), a number, or a name (`true`, `NaN`, `-Infinity`, ...).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|-?[A-Za-z]+')


def _token_offset(text: str, wanted: Callable[[str], bool]) -> int:
    """The offset of the first token of JSON `text` (outside strings) that is `wanted`."""
    for found in _TOKEN.finditer(text):
        if found.group()[:1] != '"' and wanted(found.group()):
            return found.start()
    return 0


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation: an exponent past the module's range
        raise LongIntegerError(text) from None


def _integer(text: str) -> int:
    if len(text) > AMOUNT_DIGITS and len(text.lstrip("-")) > AMOUNT_DIGITS:
        raise LongIntegerError(text)
    return int(text)


# Half of a surrogate pair can only come from a JSON escape (`"\uD800"`): UTF-8 has no bytes for
# one, and paired halves join up when JSON is read. Only text with such an escape is searched,
# so the common case costs one scan.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")


def undecodable_byte(line: str) -> tuple[int, int] | None:
    """(column, byte) of the first byte of `line` that is not UTF-8, read with
    `errors="surrogateescape"` (which keeps such a byte as U+DC80-U+DCFF); None for UTF-8.
    The JSON Lines readers (`eval --snapshots`, backtests) report such a line in its place."""
    found = _UNDECODED.search(line)
    return None if found is None else (found.start() + 1, ord(found.group()) - 0xDC00)


_UNDECODED = re.compile("[\udc80-\udcff]")


def may_hold_surrogates(text: str | bytes) -> bool:
    """Whether JSON `text` escapes half of a surrogate pair (then search its data)."""
    if isinstance(text, bytes):
        return _ESCAPED_SURROGATE_BYTES.search(text) is not None
    return _ESCAPED_SURROGATE.search(text) is not None


def surrogate_problems(data: Any) -> Iterator[SnapshotProblem]:
    """RE610 for every text (or key) holding half of a surrogate pair: no encoding can write
    it, so an id or a tag holding one would fail every output that names it."""
    stack: list[tuple[Any, JsonPath]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            found = SURROGATE.search(value)
            if found is not None:
                yield SnapshotProblem(
                    "RE610",
                    format_path(path),
                    f"`\\u{ord(found.group()):04X}` is half of a surrogate pair, not a character",
                    "write the character itself, or both halves of the pair",
                )
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                stack.append((key, path) if SURROGATE.search(key) else (item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in reversed(list(enumerate(value))))
