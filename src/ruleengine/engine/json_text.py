"""Results as JSON text, fast: the exact text of `json.dumps(value, indent=2,
ensure_ascii=False)` (`dumps_indented`) and of `json.dumps(value, ensure_ascii=False)`
(`dumps_line`, one line).

With `indent`, the standard library gives up its C encoder and walks the value with nested
Python generators; for an evaluation result that walk cost as much as the evaluation itself
(docs/performance.md, "Results"). This writer walks the tree once with plain loops and uses
the C string encoder for every text. It handles what results hold (dicts with text keys,
lists, text, whole numbers, booleans, null); anything else (a float, a non-text key) is
handed to `json.dumps`, so the text is always the standard library's.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from json.encoder import encode_basestring  # the C implementation when available
from typing import Any

__all__ = ["dumps_indented", "dumps_line"]


def _line_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False)` as one function made once.

    `json.dumps` makes a `JSONEncoder` per call, and `JSONEncoder.encode` makes the C encoder
    (`c_make_encoder`) per call too; this makes it once, with the arguments `JSONEncoder`
    gives it for these options (no cycle check: results are trees). About 1 µs less per
    call, which counts for the small values a batch line encodes. Without the C encoder, the
    standard library's own `encode`.
    """
    encoder = json.JSONEncoder(ensure_ascii=False, check_circular=False)
    # Not in the type stubs: the C encoder `JSONEncoder.iterencode` makes, or None without C.
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return encoder.encode
    walk = c_make_encoder(
        None,  # markers: no cycle check
        encoder.default,
        encode_basestring,
        None,  # indent
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(walk(value, 0))

    return encode


dumps_line: Callable[[Any], str] = _line_encoder()


class _LeftToStdlibError(Exception):
    """A value this writer leaves to `json.dumps`."""


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte."""
    out: list[str] = []
    try:
        _write(value, "\n", out)
    except _LeftToStdlibError:
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(out)


def _write(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _LeftToStdlibError
            out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            _write(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _write(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    else:  # floats (nan, inf), subclasses, anything a `default` would have to handle
        raise _LeftToStdlibError
