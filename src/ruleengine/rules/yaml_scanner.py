"""PyYAML's scanner where YAML 1.2 (and the YAML test suite) says it reads wrongly.

PyYAML scans YAML 1.1 and is lenient where 1.2 is strict. Each change here makes the reader
either read what 1.2 says or refuse with a located diagnostic, never read something else:

* a comment needs white space before its `#` (`"value"# note`, `[a]#note`, `%YAML 1.1#x`);
* the lines of a flow collection (other than its closing bracket) and the continuation lines
  of a quoted scalar are indented more than the block they sit in;
* lines of spaces above a block scalar's first line are no longer than that line is indented;
* `-` followed by `,`, `]` or `}` in a flow collection is not a value (`[-]`);
* an anchor ends at white space or a flow indicator (`&an:chor value` is the anchor `an:chor`);
* a `?` inside a plain scalar in a flow collection is text (`{x: decimal?}`);
* `?` directly followed by text in a flow collection (`{?foo: bar}`) is the text `?foo` in
  1.2 and the key `foo` in 1.1: refused with RE111, which asks for a space or quotes.
* a tab separates where 1.2 lets it (inside a line, on a blank line, after a line's
  indentation) and is never indentation: not before a list or mapping that starts on its line;
* a tag's name ends at a blank, a tab or a flow indicator, so `{a: !!str, b: 1}` holds an
  empty tagged value (PyYAML read the tag `str,`);
* the text of a block scalar at the top of a document may start in column 0, and ends at
  `---` or `...` there.

Its parser, `yaml_parser.StrictParser`, reads empty keys and streams of documents as 1.2 does.

The fast path (libyaml) has the same leniencies; `yaml_compose.compose_fast` declines the
texts where they could matter, so the pure path, with these changes, decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yaml.scanner import Scanner, ScannerError
from yaml.tokens import FlowMappingStartToken, ScalarToken, TagToken

BLANK = "\0 \t\r\n\x85\u2028\u2029"  # what ends a word (`yaml_parser` reads them too)
_BREAKS = "\0\r\n\x85\u2028\u2029"
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
FLOW_INDICATORS = ",[]{}"
_TAG_CHARS = frozenset(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-;/?:@&=+$_.~*'()%"
)


class UnsupportedYamlError(ScannerError):
    """Valid YAML that YAML 1.1 and 1.2 read differently: refused (RE111), not guessed."""


class StrictScanner(Scanner):
    """`yaml.scanner.Scanner` with the YAML 1.2 rules above."""

    # The Reader's state and methods the Scanner uses (a `Reader` comes first in the loader's
    # bases); typed here for mypy.
    buffer: str
    pointer: int
    index: int
    column: int
    line: int
    indent: int
    flow_level: int
    allow_simple_key: bool

    if TYPE_CHECKING:

        def peek(self, index: int = 0) -> str: ...
        def prefix(self, length: int = 1) -> str: ...
        def forward(self, length: int = 1) -> None: ...
        def get_mark(self) -> Any: ...
        def scan_line_break(self) -> str: ...

    def __init__(self) -> None:
        super().__init__()
        self.late: list[ScannerError] = []  # problems to report if the file parses otherwise
        self.after_tab: set[int] = set()  # where a token follows a separating tab on its line
        self.block_text_above = False  # a block text (`|`, `>`) ended just above
        self.json_key = False  # the last token was a quoted scalar or a closing bracket
        self.flow_mappings: list[bool] = []  # for each open `[` or `{`: whether it is `{`
        self.json_key_before = False  # ... the one before the token being fetched

    def _after_blank(self) -> bool:
        return self.pointer == 0 or self.buffer[self.pointer - 1] in BLANK + "\ufeff"

    def _comment_needs_space(self) -> None:
        if self.peek() == "#" and not self._after_blank():
            mark = self.get_mark()
            raise ScannerError(
                None, None, "a comment needs a space before its `#`; write ` #`", mark
            )

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        crossed = False
        while True:
            while self.peek() == " ":
                self.forward()
            spaces_end = self.column  # tabs are never indentation
            tabbed = self.peek() == "\t" and self._skip_separating_tabs()
            ch = self.peek()
            if ch == "#":
                self._comment_needs_space()
                while self.peek() not in _BREAKS:
                    self.forward()
            if self.scan_line_break():
                crossed = True
                if not self.flow_level:
                    self.allow_simple_key = True
                continue
            if crossed and self.flow_level and spaces_end <= self.indent:
                ahead = 0
                while self.peek(ahead) in " \t":
                    ahead += 1
                if self.peek(ahead) not in _BREAKS + "]}#":
                    self._too_little_indented("a line inside `[...]` or `{...}`")
            if tabbed:
                self.after_tab.add(self.index)
            self.block_text_above = False
            return

    def _skip_separating_tabs(self) -> bool:
        """Skip the blanks ahead when YAML 1.2 reads their tabs as separation, not indentation.

        That is: after text on the same line (`key:\tvalue`, `- a\t# note`), on a line of
        nothing but blanks or a comment, and after the spaces that indent a line enough
        (` \tvalue` below `key:`). A tab where indentation is still due stays PyYAML's error.
        """
        ahead = 0
        while self.peek(ahead) in " \t":
            ahead += 1
        at = self.pointer - 1
        while at >= 0 and self.buffer[at] == " ":
            at -= 1
        after_text = at >= 0 and self.buffer[at] not in _BREAKS + "\ufeff"
        # Below a block text, a line of blanks with a tab is neither the text's nor empty.
        blank_line = self.peek(ahead) in _BREAKS + "#" and not self.block_text_above
        if after_text or blank_line or self.column > self.indent:
            self.forward(ahead)
            return True
        return False

    def _no_collection_after_tab(self, index: int, column: int, mark: Any) -> None:
        """A list or mapping cannot start after a tab on its line: YAML 1.2 indents it with
        spaces only (`-\t- a`, `?\tkey: a`), so a tab there is an error, as in 1.2."""
        if not self.flow_level and index in self.after_tab and self.indent < column:
            raise ScannerError(
                None,
                None,
                "a tab before a nested list or mapping on the same line; YAML does not allow "
                "it: start the list or mapping on the next line, indented with spaces",
                mark,
            )

    def fetch_block_entry(self) -> None:
        self._no_collection_after_tab(self.index, self.column, self.get_mark())
        super().fetch_block_entry()

    def fetch_key(self) -> None:
        self._no_collection_after_tab(self.index, self.column, self.get_mark())
        super().fetch_key()

    def fetch_value(self) -> None:
        key = self.possible_simple_keys.get(self.flow_level)
        if key is not None:
            self._no_collection_after_tab(key.index, key.column, key.mark)
        else:  # an empty key
            self._no_collection_after_tab(self.index, self.column, self.get_mark())
        super().fetch_value()

    def scan_plain_spaces(self, indent: int, start_mark: Any) -> list[str] | None:
        """PyYAML's, with tabs read as YAML 1.2 reads them: inside a line and after the
        spaces that indent a continuation line enough (`key: a\tb`), never as indentation."""
        chunks: list[str] = []
        length = 0
        while self.peek(length) in " \t":
            length += 1
        whitespaces = self.prefix(length)
        self.forward(length)
        if self.peek() not in _LINE_BREAKS:
            if whitespaces:
                chunks.append(whitespaces)
            return chunks
        line_break = self.scan_line_break()
        self.allow_simple_key = True
        breaks: list[str] = []
        while True:
            if self._document_marker():
                return None
            while self.peek() == " ":
                self.forward()
            if self.peek() == "\t":
                ahead = 0
                while self.peek(ahead) in " \t":
                    ahead += 1
                if self.column >= indent:
                    self.forward(ahead)
            if self.peek() not in _LINE_BREAKS:
                break
            breaks.append(self.scan_line_break())
        if line_break != "\n":
            chunks.append(line_break)
        elif not breaks:
            chunks.append(" ")
        chunks.extend(breaks)
        return chunks

    def scan_plain(self) -> Any:
        """PyYAML's, except that a `?` inside `[...]` or `{...}` is text that goes on, as
        YAML 1.2 reads it (`{x: decimal?}`); 1.1 ended the text there."""
        chunks: list[str] = []
        start_mark = self.get_mark()
        end_mark = start_mark
        indent = self.indent + 1
        spaces: list[str] | None = []
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if (
                    ch in BLANK
                    or (
                        ch == ":"
                        and self.peek(length + 1)
                        in BLANK + (FLOW_INDICATORS if self.flow_level else "")
                    )
                    or (self.flow_level and ch in FLOW_INDICATORS)
                ):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces or [])
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark)
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return ScalarToken("".join(chunks), True, start_mark, end_mark)

    def _document_marker(self) -> bool:
        return self.prefix(3) in ("---", "...") and self.peek(3) in BLANK

    def _too_little_indented(self, what: str) -> None:
        raise self._indent_error(what)

    def _indent_error(self, what: str) -> ScannerError:
        message = f"{what} must be indented more than the key it belongs to"
        return ScannerError(None, None, message, self.get_mark())

    def scan_yaml_directive_value(self, start_mark: Any) -> Any:
        while self.peek() in " \t":  # `%YAML \t1.2`: a tab separates here too
            self.forward()
        return super().scan_yaml_directive_value(start_mark)

    def scan_directive_ignored_line(self, start_mark: Any) -> None:
        while self.peek() in " \t":
            self.forward()
        self._comment_needs_space()
        super().scan_directive_ignored_line(start_mark)

    def scan_flow_scalar_breaks(self, double: bool, start_mark: Any) -> list[str]:
        chunks: list[str] = []
        while True:
            prefix = self.prefix(3)
            if prefix in ("---", "...") and self.peek(3) in BLANK:
                raise ScannerError(
                    "while scanning a quoted scalar",
                    start_mark,
                    "found unexpected document separator",
                    self.get_mark(),
                )
            while self.peek() == " ":
                self.forward()
            ahead = 0  # tabs are no indentation: look past them for the line's text
            while self.peek(ahead) in " \t":
                ahead += 1
            if self.peek(ahead) not in _BREAKS and self.column <= self.indent and not self.late:
                # Reported only if the file parses otherwise: an unclosed quote, the usual
                # cause, has its own, better diagnostic (`yaml_wording`).
                self.late.append(self._indent_error("a line of quoted text"))
            while self.peek() in " \t":
                self.forward()
            if self.peek() in "\r\n\x85\u2028\u2029":
                chunks.append(self.scan_line_break())
            else:
                return chunks

    def scan_block_scalar(self, style: str) -> Any:
        """PyYAML's, except that the text of a block scalar at the top of a document may start
        in column 0 (`--- |` then `text`), as YAML 1.2 says (the indentation of the top node
        is -1), and then ends at the next `---` or `...`. PyYAML wants column 1 there."""
        folded = style == ">"
        chunks: list[str] = []
        start_mark = self.get_mark()
        self.forward()
        chomping, increment = self.scan_block_scalar_indicators(start_mark)
        self.scan_block_scalar_ignored_line(start_mark)
        min_indent = self.indent + 1  # 0 at the top of a document, where PyYAML says 1
        breaks: list[str]
        if increment is None:
            breaks, max_indent, end_mark = self.scan_block_scalar_indentation()
            indent = max(min_indent, max_indent)
        else:
            indent = min_indent + increment - 1
            breaks, end_mark = self.scan_block_scalar_breaks(indent)
        line_break = ""
        while self._in_block_text(indent):
            chunks.extend(breaks)
            leading_non_space = self.peek() not in " \t"
            length = 0
            while self.peek(length) not in _BREAKS:
                length += 1
            chunks.append(self.prefix(length))
            self.forward(length)
            line_break = self.scan_line_break()
            breaks, end_mark = self.scan_block_scalar_breaks(indent)
            if not self._in_block_text(indent):
                break
            if folded and line_break == "\n" and leading_non_space and self.peek() not in " \t":
                if not breaks:
                    chunks.append(" ")
            else:
                chunks.append(line_break)
        if chomping is not False:
            chunks.append(line_break)
        if chomping is True:
            chunks.extend(breaks)
        self.block_text_above = True
        return ScalarToken("".join(chunks), False, start_mark, end_mark, style)

    def _in_block_text(self, indent: int) -> bool:
        """Whether the line ahead (its indentation skipped) is one more line of block text."""
        if self.column != indent or self.peek() == "\0":
            return False
        return indent > 0 or not self._document_marker()

    def scan_block_scalar_indentation(self) -> tuple[list[str], int, Any]:
        chunks, max_indent, end_mark = super().scan_block_scalar_indentation()
        first = self.column  # the first line with text, or the end
        if first == 0 and self._document_marker():
            return chunks, max_indent, end_mark  # no text: the document ends here
        if self.peek() not in _BREAKS and self.indent + 1 <= first < max_indent:
            raise ScannerError(
                None,
                None,
                "a line of spaces above the first line of this block text is longer than "
                "that line's indentation; remove the spaces",
                self.get_mark(),
            )
        return chunks, max_indent, end_mark

    def check_key(self) -> bool:
        after = self.peek(1)
        if self.flow_level and after not in BLANK and after not in FLOW_INDICATORS:
            raise UnsupportedYamlError(
                None,
                None,
                "`?` followed by text inside `[...]` or `{...}` is text in YAML 1.2 and a key "
                "in YAML 1.1; write `? key` for a key, or quote the text",
                self.get_mark(),
            )
        return bool(super().check_key())

    def check_plain(self) -> bool:
        ch, after = self.peek(), self.peek(1)
        if self.flow_level and ch == "-" and after in FLOW_INDICATORS:
            return False  # `[-]`: a lone `-` is no value
        if self.flow_level and ch == ":" and after not in BLANK + FLOW_INDICATORS:
            return True  # `[:x]`: text, as `check_value` says
        return bool(super().check_plain())

    def fetch_more_tokens(self) -> None:
        self.json_key_before, self.json_key = self.json_key, False
        super().fetch_more_tokens()

    def fetch_flow_scalar(self, style: str) -> None:
        super().fetch_flow_scalar(style)
        self.json_key = True

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803  # PyYAML's
        super().fetch_flow_collection_start(TokenClass)
        self.flow_mappings.append(TokenClass is FlowMappingStartToken)

    def fetch_flow_collection_end(self, TokenClass: Any) -> None:  # noqa: N803  # PyYAML's
        super().fetch_flow_collection_end(TokenClass)
        if self.flow_mappings:
            self.flow_mappings.pop()
        self.json_key = True

    def stale_possible_simple_keys(self) -> None:
        """PyYAML's, except that a key directly inside `{...}` may span lines and have its
        `:` on a later line (`{"a"\n: b}`), as YAML 1.2 allows there (not in `[...]`)."""
        for level, key in list(self.possible_simple_keys.items()):
            in_mapping = 0 < level <= len(self.flow_mappings) and self.flow_mappings[level - 1]
            if (key.line != self.line and not in_mapping) or self.index - key.index > 1024:
                if key.required:
                    raise ScannerError(
                        "while scanning a simple key",
                        key.mark,
                        "could not find expected ':'",
                        self.get_mark(),
                    )
                del self.possible_simple_keys[level]

    def check_value(self) -> bool:
        """In `[...]` and `{...}`, a `:` glued to the text after it is a value indicator only
        after a quoted key or a bracket (`{"a":b}`); elsewhere it starts text (`{x: :x}`)."""
        if self.flow_level and self.peek(1) not in BLANK + FLOW_INDICATORS:
            return self.json_key_before
        return bool(super().check_value())

    def scan_tag(self) -> Any:
        """PyYAML's, with a tag's name ending where YAML 1.2 ends it (`ns-tag-char`): at a
        blank, a tab, a flow indicator or a `!`. So in `[...]` and `{...}` a tag may stand
        with no value before `,`, `]` or `}` (`{a: !!str, b: 1}`; PyYAML read the tag
        `str,`), and `!a,b` in a block is a tag and an error, not the tag `a,b`."""
        start_mark = self.get_mark()
        after = BLANK + ("],}" if self.flow_level else "")  # what may follow a tag
        ch = self.peek(1)
        handle: str | None
        if ch == "<":  # verbatim: `!<tag:example.com,2000:x>` keeps every URI character
            handle = None
            self.forward(2)
            suffix = self.scan_tag_uri("tag", start_mark)
            if self.peek() != ">":
                raise ScannerError(
                    "while parsing a tag",
                    start_mark,
                    f"expected '>', but found {self.peek()!r}",
                    self.get_mark(),
                )
            self.forward()
        elif ch in after:  # `!` alone: the non-specific tag
            handle, suffix = None, "!"
            self.forward()
        else:
            length = 1
            while ch not in BLANK + FLOW_INDICATORS + "!":
                length += 1
                ch = self.peek(length)
            if ch == "!":
                handle = self.scan_tag_handle("tag", start_mark)  # type: ignore[no-untyped-call]
            else:
                handle = "!"
                self.forward()
            suffix = self._scan_tag_suffix(start_mark)
        if self.peek() not in after:
            raise ScannerError(
                "while scanning a tag",
                start_mark,
                f"expected a space after the tag, but found `{self.peek()}`",
                self.get_mark(),
            )
        return TagToken((handle, suffix), start_mark, self.get_mark())

    def _scan_tag_suffix(self, start_mark: Any) -> str:
        """`scan_tag_uri` without the characters YAML 1.2 keeps out of a tag's name: `!`,
        `,`, `[` and `]`."""
        chunks: list[str] = []
        length = 0
        ch = self.peek()
        while ch in _TAG_CHARS:
            if ch == "%":
                chunks.append(self.prefix(length))
                self.forward(length)
                length = 0
                chunks.append(self.scan_uri_escapes("tag", start_mark))
            else:
                length += 1
            ch = self.peek(length)
        if length:
            chunks.append(self.prefix(length))
            self.forward(length)
        if not chunks:
            raise ScannerError(
                "while parsing a tag",
                start_mark,
                f"expected URI, but found {ch!r}",
                self.get_mark(),
            )
        return "".join(chunks)

    def scan_anchor(self, TokenClass: Any) -> Any:  # noqa: N803  # PyYAML's name
        start_mark = self.get_mark()
        name = "alias" if self.peek() == "*" else "anchor"
        self.forward()
        length = 0
        while self.peek(length) not in BLANK + FLOW_INDICATORS:
            length += 1
        if not length:
            raise ScannerError(
                f"while scanning an {name}",
                start_mark,
                f"expected a name, but found {self.peek()!r}",
                self.get_mark(),
            )
        value = self.prefix(length)
        self.forward(length)
        return TokenClass(value, start_mark, self.get_mark())
