"""Text -> located YAML tree: every node keeps its span, so later phases can point at it.

The entry points (`decode_source`, `read_document`) of four modules: `yaml_nodes` (the tree),
`yaml_compose` (the composers), `yaml_wording` (YAML errors in words) and this one.

The loader is PyYAML's pure-Python composer with two changes that matter for rule files:

* scalars resolve by the YAML 1.2 core schema, so `on`, `off`, `yes` and `no` stay text (YAML
  1.1 reads `on: signup` as `{True: "signup"}`), dates stay text until the models parse them,
  and decimals become `Decimal` from their own text, never through a float;
* aliases, explicit tags, duplicate keys and extra documents are diagnostics, not behaviour;
  so are U+0085, U+2028 and U+2029, line breaks to YAML 1.1 and text to 1.2 (RE111).
  Aliases are never expanded, so an alias bomb costs nothing;
* lists and mappings nested deeper than `Limits.max_nesting_depth` are refused (RE109) where
  the limit is crossed: composing recurses once per level, so without the limit a kilobyte of
  `[[[[...` would exhaust Python's stack.
"""

from __future__ import annotations

import codecs

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink
from ruleengine.diagnostics.source import SourceFile
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules import yaml_compose
from ruleengine.rules.yaml_compose import compose_fast, compose_pure, finish_compose
from ruleengine.rules.yaml_nodes import LocatedMapping

# Line breaks in YAML 1.1 and ordinary characters in 1.2 (NEL, LINE and PARAGRAPH SEPARATOR).
# PyYAML, libyaml and ruamel (in comments) break lines there, so a file with one is refused
# (RE111) rather than read one way here and another by `fmt` or any other YAML tool.
VERSION_BREAKS = "\x85\u2028\u2029"


def decode_source(name: str, data: bytes) -> SourceFile | Diagnostic:
    """Decode a rule file's bytes as UTF-8 (a UTF-8 byte-order mark is allowed)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        from ruleengine.rules.yaml_wording import encoding_error  # only for a problem

        return encoding_error(name, "", 0, "the file is UTF-16 encoded; rule files are UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        from ruleengine.rules.yaml_wording import encoding_error

        good = data[: error.start].decode("utf-8-sig", errors="replace")
        return encoding_error(
            name,
            good + "\ufffd",
            len(good),
            f"invalid UTF-8 byte 0x{data[error.start]:02x}; rule files are UTF-8",
        )
    return SourceFile(name, text.replace("\r\n", "\n"))


def read_document(
    source: SourceFile, limits: Limits = DEFAULT_LIMITS
) -> tuple[LocatedMapping | None, list[Diagnostic]]:
    """Compose `source` into a located tree; the root must be a mapping.

    Returns the tree (None when the text is not usable YAML) and every diagnostic found.
    """
    sink = DiagnosticSink(source, limit=limits.max_diagnostics)
    if any(ch in source.text for ch in VERSION_BREAKS):
        from ruleengine.rules.yaml_wording import report_version_breaks  # only for a problem

        report_version_breaks(sink)
        return None, sink.finished()
    max_depth = limits.max_nesting_depth
    composed = compose_fast(source.text, max_depth) if yaml_compose.FAST_PATH else None
    if composed is None:
        composed = compose_pure(source, sink, max_depth)
        if composed is None:
            return None, sink.finished()
    root, _ = finish_compose(composed, source, sink)
    return root, sink.finished()
