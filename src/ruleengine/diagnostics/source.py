"""Source text and spans: offsets in, 1-based line and column out.

Every phase reports problems as a `Span` (half-open character offsets into a `SourceFile`). Only
when a diagnostic is built do offsets become line and column numbers, so the mapping lives here,
in small pure functions with their own tests.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, ClassVar

import msgspec


class Span(msgspec.Struct, frozen=True, gc=False):
    """A half-open range of character offsets `[start, end)` in some text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span {self.start}..{self.end}")


class Location(msgspec.Struct, frozen=True, gc=False):
    """A 1-based line and column (columns count characters, not bytes)."""

    line: int
    column: int


class SourceFile(msgspec.Struct, frozen=True, dict=True):
    """A named text, with a table of line starts for offset -> line/column lookups.

    Equal, hashed and shown by `name` and `text` alone: the table is derived from the text, so
    it lives in the instance's `__dict__` (`dict=True`), outside the struct's fields.
    """

    name: str
    text: str

    if TYPE_CHECKING:
        _line_starts: ClassVar[tuple[int, ...]]  # set per instance, in `__dict__`

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        self.__dict__["_line_starts"] = tuple(starts)

    def location(self, offset: int) -> Location:
        """The line and column of a character offset (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return Location(index + 1, offset - self._line_starts[index] + 1)

    def line_is_cut(self, line: int) -> bool:
        """Whether `snippet_window` cuts this 1-based line to a window (it is that long)."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return end - start > SNIPPET_LINE_CHARS

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def snippet(self, span: Span) -> str:
        """The whole source lines that `span` touches, undecorated."""
        first = self.location(span.start).line
        last = self.location(max(span.start, span.end - 1)).line
        return "\n".join(self.line_text(n) for n in range(first, last + 1))

    def snippet_window(self, span: Span) -> tuple[str, int]:
        """The snippet of a diagnostic at `span`, and the column of its first character.

        As `snippet`, except that at most `SNIPPET_LINES` lines are kept and a line longer
        than `SNIPPET_LINE_CHARS` is cut to a window around the span's start (marked `...`),
        so a diagnostic never holds a copy of a whole long line: 20,000 problems on one
        80 KB line once took gigabytes. Lines of ordinary length come out whole, column 1.
        """
        start = self.location(span.start)
        last = min(
            self.location(max(span.start, span.end - 1)).line, start.line + SNIPPET_LINES - 1
        )
        lines: list[str] = []
        column = 1
        for number in range(start.line, last + 1):
            begin = self._line_starts[number - 1]
            end = (
                self._line_starts[number] - 1 if number < len(self._line_starts) else len(self.text)
            )
            if end - begin <= SNIPPET_LINE_CHARS:
                lines.append(self.text[begin:end].rstrip("\r"))
                continue
            low = max(0, start.column - 1 - SNIPPET_CONTEXT) if number == start.line else 0
            high = min(end - begin, low + 2 * SNIPPET_CONTEXT)
            text = self.text[begin + low : begin + high].rstrip("\r")
            if low:
                text = "..." + text
                if number == start.line:
                    column = low + 1 - len("...")
            lines.append(text + ("..." if high < end - begin else ""))
        return "\n".join(lines), column


# A diagnostic's snippet: lines longer than this are cut to a window of twice the context
# around the span; spans over more lines keep the first lines (the text frame shows three).
SNIPPET_LINE_CHARS = 1_000
SNIPPET_CONTEXT = 120
SNIPPET_LINES = 40


class OffsetMap(msgspec.Struct, frozen=True, gc=False):
    """Maps character offsets in a scalar's *value* to offsets in the file it came from.

    A YAML scalar's value is not always a slice of the file: block scalars drop indentation,
    folded and multi-line plain scalars turn line breaks into spaces, quoted scalars drop
    quotes and decode escapes. `offsets[i]` is the file offset of value character `i`, and one
    extra entry holds the offset just past the value. `ends[i]`, when given, is the file offset
    just past the text that value character `i` came from (past the whole escape sequence
    `\\u00e9`); without it every character is one file character wide. When the value cannot
    be aligned with the file text, `exact` is False and every offset maps to the whole scalar.
    """

    offsets: tuple[int, ...]
    whole: Span
    exact: bool
    ends: tuple[int, ...] | None = None

    def to_file(self, span: Span) -> Span:
        """Translate a span in value offsets to a span in file offsets."""
        if not self.exact:
            return self.whole
        last = len(self.offsets) - 1
        start = self.offsets[min(span.start, last)]
        if span.end <= span.start:
            return Span(start, start)
        index = min(span.end - 1, last)
        end = self.ends[index] if self.ends is not None else self.offsets[index] + 1
        return Span(start, max(start, end))

    @classmethod
    def identity(cls, length: int, base: int = 0) -> OffsetMap:
        return cls(tuple(range(base, base + length + 1)), Span(base, base + length), True)


def align_value(value: str, raw: str, base: int) -> OffsetMap:
    """Align a scalar's decoded value with its raw text in the file.

    `raw` is the file text of the scalar (from its first to its last character, quotes and
    block indicators included) and `base` its offset in the file. Each value character is
    matched greedily against the raw text; a space or line break in the value may stand for a
    folded line break in the file, and in a double-quoted scalar an escape sequence (`\\"`,
    `\\n`, `\\u00e9`, ...) stands for the character it decodes to. When a character cannot be
    found, the map falls back to the whole scalar.
    """
    whole = Span(base, base + len(raw))
    block = raw[:1] in ("|", ">")
    if block and not value:
        # An empty block scalar: point at its indicator, not past the indicator's line.
        return OffsetMap((base,), whole, True)
    escapes = raw[:1] == '"'
    offsets: list[int] = []
    ends: list[int] = []
    pos = raw.find("\n") + 1 if block else 0
    for ch in value:
        found, width = _find_char(raw, pos, ch, escapes=escapes)
        if found < 0:
            if ch.isspace():  # trailing line break added by chomping, past the raw text
                found, width = max(0, len(raw) - 1), 1
            else:
                return OffsetMap((), whole, False)
        offsets.append(base + found)
        ends.append(base + found + width)
        pos = found + width
    offsets.append(base + min(pos, len(raw)))
    exact_widths = all(end == start + 1 for start, end in zip(offsets, ends, strict=False))
    return OffsetMap(tuple(offsets), whole, True, None if exact_widths else tuple(ends))


def _find_char(raw: str, pos: int, ch: str, *, escapes: bool = False) -> tuple[int, int]:
    """Where (index, width) the raw text stands for value character `ch`, or (-1, 0).

    Raw characters that have no counterpart in the value (quotes, indentation, the line breaks
    that folding removed, escaped line breaks) are skipped. With `escapes` (a double-quoted
    scalar) a backslash starts an escape sequence, which matches the character it decodes to.
    Any other mismatch means alignment gives up.
    """
    while pos < len(raw):
        here = raw[pos]
        if escapes and here == "\\":
            if raw[pos + 1 : pos + 2] in ("\n", "\r"):  # an escaped line break: no character
                pos += 2
                continue
            decoded, width = _decode_escape(raw, pos)
            return (pos, width) if decoded == ch else (-1, 0)
        if here == ch or (ch in " \n" and here == "\n"):
            return pos, 1
        if here in " \t\r\n\"'":
            pos += 1
            continue
        return -1, 0
    return -1, 0


# YAML's one-character escapes in double-quoted scalars (YAML 1.2, section 5.7).
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _decode_escape(raw: str, pos: int) -> tuple[str | None, int]:
    """The character the escape sequence at `raw[pos]` (a backslash) stands for, and the
    sequence's width; None when it is not a valid escape."""
    code = raw[pos + 1 : pos + 2]
    if code in _ESCAPES:
        return _ESCAPES[code], 2
    digits = _HEX_ESCAPES.get(code)
    if digits is not None:
        text = raw[pos + 2 : pos + 2 + digits]
        if len(text) == digits and all(c in "0123456789abcdefABCDEF" for c in text):
            number = int(text, 16)
            if number <= 0x10FFFF:
                return chr(number), 2 + digits
    return None, 1
