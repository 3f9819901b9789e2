"""PyYAML's parser where YAML 1.2 reads a stream differently (the scanner is `yaml_scanner`).

* An empty key (`: value`, `[ : value ]`) is read as 1.2 reads it, and noted: the loader
  refuses it by name (RE112) if nothing else in the file is wrong.
* A stream is 1.2's: `...` before any document ends none; after `...` any document may
  follow, a bare one (no `---`) too, and directives may follow only `...` (or start the
  file). A second document is then the composer's to refuse (RE107), as after `---`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yaml.error import MarkedYAMLError
from yaml.events import MappingStartEvent
from yaml.parser import Parser, ParserError
from yaml.tokens import (
    DirectiveToken,
    DocumentEndToken,
    DocumentStartToken,
    FlowEntryToken,
    StreamEndToken,
    ValueToken,
)

from ruleengine.rules.yaml_scanner import BLANK, FLOW_INDICATORS


class UnusedYamlError(MarkedYAMLError):
    """Valid YAML 1.2 that a rule file cannot hold (RE112): said only of a file that is
    otherwise well formed."""


_EMPTY_KEY = (
    "YAML 1.2 allows an empty key here (a `:` with no key before it), but rule files cannot "
    "have one: give the key a name, as in `name: value`"
)


_DIRECTIVE_AFTER_DOCUMENT = (
    "a `%` directive may only start a file or follow `...`, the line that ends the document "
    "above it"
)

_AFTER_DOCUMENT_END = (
    "only a comment may follow `...` on its line: `...` ends the document above it"
)


class StrictParser(Parser):
    """`yaml.parser.Parser` that reads an empty key (`: value`, `[ : value ]`) as YAML 1.2
    does, and notes it: the loader refuses it with RE112 if nothing else is wrong."""

    if TYPE_CHECKING:

        def check_token(self, *choices: Any) -> bool: ...
        def peek_token(self) -> Any: ...
        def get_token(self) -> Any: ...
        def process_empty_scalar(self, mark: Any) -> Any: ...

        buffer: str
        state: Any

    def __init__(self) -> None:
        super().__init__()
        self.unused: list[UnusedYamlError] = []
        self.ended = True  # whether the document above ended with `...` (or none is above)
        self.end_line = -1  # the line of the last `...`

    def _empty_key(self, flow: bool) -> bool:
        """Whether the next token is a `:` where a key is due, itself a value indicator (a
        blank, or in `[...]`/`{...}` a `,` or bracket, after it: `:x` is other YAML)."""
        if not self.check_token(ValueToken):
            return False
        token = self.peek_token()
        after = self.buffer[token.end_mark.index : token.end_mark.index + 1] or "\0"
        if after not in BLANK + (FLOW_INDICATORS if flow else ""):
            return False
        if not self.unused:
            self.unused.append(UnusedYamlError(None, None, _EMPTY_KEY, token.start_mark))
        return True

    def parse_implicit_document_start(self) -> Any:
        if self.check_token(DocumentEndToken):  # `...` before any document: no document
            return self.parse_document_start()
        return super().parse_implicit_document_start()  # type: ignore[no-untyped-call]

    def parse_document_end(self) -> Any:
        event = super().parse_document_end()
        self.ended = bool(event.explicit)
        if event.explicit and event.end_mark is not None:
            self.end_line = event.end_mark.line
        return event

    def parse_document_start(self) -> Any:
        """PyYAML's, with YAML 1.2's stream: after `...` (or at the start) any document may
        follow, a bare one too (`...` then `key: value`), where PyYAML wanted `---`; and
        directives may follow only there, not right after a document's last line."""
        while self.check_token(DocumentEndToken):
            self.end_line = self.get_token().end_mark.line
            self.ended = True
        token = self.peek_token()
        if not self.check_token(StreamEndToken) and token.start_mark.line == self.end_line:
            raise ParserError(None, None, _AFTER_DOCUMENT_END, token.start_mark)
        if self.check_token(DirectiveToken) and not self.ended:
            raise ParserError(None, None, _DIRECTIVE_AFTER_DOCUMENT, self.peek_token().start_mark)
        if self.ended and not self.check_token(DirectiveToken, DocumentStartToken, StreamEndToken):
            return super().parse_implicit_document_start()  # type: ignore[no-untyped-call]
        return super().parse_document_start()  # type: ignore[no-untyped-call]

    def parse_block_mapping_key(self) -> Any:
        if self._empty_key(flow=False):
            self.state = self.parse_block_mapping_value
            return self.process_empty_scalar(self.peek_token().start_mark)
        return super().parse_block_mapping_key()  # type: ignore[no-untyped-call]  # PyYAML

    def parse_flow_mapping_key(self, first: bool = False) -> Any:
        if not first and self.check_token(FlowEntryToken):
            self.get_token()
            first = True
        if first and self._empty_key(flow=True):
            self.state = self.parse_flow_mapping_value
            return self.process_empty_scalar(self.peek_token().start_mark)
        return super().parse_flow_mapping_key(first)

    def parse_flow_sequence_entry(self, first: bool = False) -> Any:
        if not first and self.check_token(FlowEntryToken):
            self.get_token()
            first = True
        if first and self._empty_key(flow=True):
            token = self.peek_token()
            self.state = self._parse_flow_pair_empty_key
            return MappingStartEvent(
                None, None, True, token.start_mark, token.start_mark, flow_style=True
            )
        return super().parse_flow_sequence_entry(first)

    def _parse_flow_pair_empty_key(self) -> Any:
        self.state = self.parse_flow_sequence_entry_mapping_value
        return self.process_empty_scalar(self.peek_token().start_mark)
