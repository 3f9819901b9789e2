"""YAML fuzzing: rule files built from the corners where YAML parsers part ways.

The pieces are the classes the YAML test suite found (`python -m tests.yaml_suite`): comments
glued to a value, flow and quoted lines at or left of their key's column, lines of spaces or
tabs above and below block text, lone `-` and `?x` in flow collections, anchors with
punctuation, the non-specific tag `!`, a last line with no line break, directives. For every
file: the libyaml and the pure-Python path give the same tree and the same diagnostics; every
error is located in the file; `validate` ends in diagnostics; `fmt` keeps what the file says
and formats its own output to itself. The budget is small in CI; `python -m tests.fuzz` runs it
for as long as it is given.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules import yaml_compose
from ruleengine.rules.formatter import format_source
from ruleengine.rules.ruleset import check_source
from ruleengine.rules.yaml_nodes import to_plain
from ruleengine.rules.yaml_source import read_document

EXAMPLES = max(20, int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300")) // 3)
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HEAD = "version: 1\nprogram: corners\ncurrency: EUR\n"
RULE = "earning:\n  - id: r\n    name: R\n    on: order\n    points: floor(order.subtotal)\n"

gaps = st.sampled_from(["", " ", "  ", "\t", "\n", "\n ", "\n\t", "\n  ", "\n    "])
words = st.sampled_from(
    [
        "vip",
        "gold",
        "-",
        "?x",
        "? x",
        "-x",
        "a:b",
        "#x",
        "'q'",
        '"d"',
        "!",
        "",
        "a\u2029b",
        "a?",
        "a?b",
    ]
)
# U+2028, U+2029 and U+0085 end a line in YAML 1.1 only: in a comment, a word or quotes (RE111)
comments = st.sampled_from(["", "#c", " #c", "\t#c", " #c\u2028  - id: b", " #c\x85x: 1"])


@st.composite
def flow_values(draw: Any) -> str:
    """A flow list or mapping whose items, commas and brackets sit anywhere on its lines."""
    items = draw(st.lists(words, max_size=4))
    if draw(st.booleans()):
        inner = ",".join(draw(gaps) + item + draw(gaps) for item in items)
        return "[" + inner + draw(gaps) + "]" + draw(comments)
    pairs = ",".join(f"{draw(gaps)}{item or 'k'}:{draw(gaps)}{draw(words)}" for item in items)
    return "{" + pairs + draw(gaps) + "}" + draw(comments)


@st.composite
def quoted_values(draw: Any) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    parts = draw(st.lists(st.sampled_from(["Spring", "sale", "", " ", "\t"]), max_size=3))
    return quote + "".join(p + draw(gaps) for p in parts) + quote + draw(comments)


@st.composite
def block_values(draw: Any) -> str:
    header = draw(st.sampled_from(["|", ">", "|-", ">+", "|2", ">1-"]))
    lines = draw(
        st.lists(st.sampled_from(["", " ", "   ", "\t", "  text", "   more", " #c"]), max_size=5)
    )
    return header + draw(comments) + "\n" + "\n".join(f"  {line}" if line else "" for line in lines)


@st.composite
def corner_files(draw: Any) -> str:
    value = draw(st.one_of(flow_values(), quoted_values(), block_values(), words))
    prop = draw(st.sampled_from(["", "&a ", "&a:b ", "&a, ", "! ", "*a "]))
    key = draw(st.sampled_from(["description:", "tags:", "? description\n    :"]))
    head = draw(
        st.sampled_from(
            ["", "%YAML 1.2\n---\n", "%YAML \t1.2\n---\n", "%YAML 1.1#x\n---\n", "---\n"]
        )
    )
    tail = draw(st.sampled_from(["\n", "", "\n# end\n", "\n   "]))
    return f"{head}{HEAD}{RULE}    {key} {prop}{value}{tail}"


def _read(text: str, fast: bool) -> tuple[Any, list[tuple[str, int, int]]]:
    saved = yaml_compose.FAST_PATH
    yaml_compose.FAST_PATH = fast
    try:
        root, diagnostics = read_document(SourceFile("t.yaml", text))
    finally:
        yaml_compose.FAST_PATH = saved
    return (None if root is None else to_plain(root)), [
        (d.code, d.line, d.column) for d in diagnostics
    ]


@fuzz_settings
@given(text=corner_files())
def test_yaml_corners_read_alike_on_both_paths_and_format_faithfully(text: str) -> None:
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    lines = text.count("\n") + 1
    for _, line, column in pure[1]:
        assert 1 <= line <= lines and column >= 1, (text, pure[1])
    check_source(SourceFile("t.yaml", text))  # diagnostics, never an exception
    result = format_source(SourceFile("t.yaml", text))
    if result.text is None:
        assert any(code.startswith("RE1") for code, _, _ in pure[1]) or result.error, text
        return
    assert _read(result.text, fast=False)[0] == pure[0], (text, result.text)
    again = format_source(SourceFile("t.yaml", result.text))
    assert again.text == result.text, (text, result.text)


@pytest.mark.parametrize(
    "text",
    [
        'description: "a"#b\n',
        "tags: [-]\n",
        "tags: {?x: 1}\n",
        "tags: a\u2029b\n",
        "tags: #c\x85x: 1\n",
    ],
)
def test_the_generator_reaches_the_corners(text: str) -> None:
    """Texts the strict scanner refuses; the generator above writes each of them."""
    assert _read(HEAD + RULE + "    " + text, fast=False)[0] is None


# Separation that YAML 1.2 lets a tab stand in for: after `:`, `-` and `,`, before a comment,
# at the end of a line, on a blank line, and after the spaces that indent a value.
separators = st.sampled_from([" ", "\t", " \t", "\t "])
line_ends = st.sampled_from(["", "\t", " \t", "\t# note", " # note"])
blank_lines = st.sampled_from(["", "\n", "\n\t", "\n \t", "\n\t# note"])


@st.composite
def tab_separated_files(draw: Any) -> tuple[str, str]:
    """(a rule file with tabs in separating places, the same file with single spaces)."""

    def sep() -> str:
        return str(draw(separators))

    def end() -> str:
        return str(draw(line_ends))

    pieces = [
        f"version:{sep()}1{end()}\n",
        f"program:{sep()}tabs{end()}{draw(blank_lines)}\n",
        f"currency:{sep()}EUR{end()}\n",
        "earning:\n",
        f"  - id:{sep()}r{end()}\n",  # a tab before `id:` would start a mapping: an error
        f"    name:{sep()}Spring sale{end()}\n",
        f"    on:\n     {sep()}order{end()}\n",
        f"    points:{sep()}floor(order.subtotal){end()}\n",
        f"    tags:{sep()}[vip,{sep()}gold]{end()}\n",
        f"    segments:\n      -{sep()}new{end()}\n      -{sep()}lapsed{end()}\n",
    ]
    tabbed = "".join(pieces)
    spaced = "".join(
        line.split("#")[0].replace("\t", " ").rstrip() + "\n"
        for line in tabbed.split("\n")[:-1]
        if line.split("#")[0].strip()
    )
    return tabbed, spaced


@fuzz_settings
@given(texts=tab_separated_files())
def test_tabs_that_separate_read_as_spaces_would(texts: tuple[str, str]) -> None:
    tabbed, spaced = texts
    pure = _read(tabbed, fast=False)
    if yaml.__with_libyaml__:
        assert _read(tabbed, fast=True) == pure, tabbed
    assert pure == _read(spaced, fast=False), (tabbed, spaced)
    assert pure[1] == [] and pure[0] is not None, tabbed
    result = format_source(SourceFile("t.yaml", tabbed))
    assert result.text is not None and _read(result.text, fast=False)[0] == pure[0], tabbed


@st.composite
def empty_key_files(draw: Any) -> tuple[str, tuple[int, int] | None, bool]:
    """(a rule file whose `limits` may have empty keys, where the first one's `:` is, whether
    the file is broken below it too)."""
    keys = draw(st.lists(st.sampled_from(["max", "min", ""]), min_size=1, max_size=3, unique=True))
    style = draw(st.sampled_from(["block", "flow mapping", "flow list"]))
    text = HEAD + RULE + "    limits:"
    colon = None  # the offset of the first empty key's `:`
    if style != "block":
        text += " {" if style == "flow mapping" else " ["
    for n, key in enumerate(keys):
        if style == "block":
            text += "\n      " + key
        else:
            text += (", " if n else "") + key + draw(st.sampled_from(["", " ", "\t"]))
        if not key and colon is None:
            colon = len(text)
        text += f": {n}"
    if style != "block":
        text += "}" if style == "flow mapping" else "]"
    broken = draw(st.booleans())
    text += "\n" + ("    tags: [vip\n" if broken else "")
    where = None
    if colon is not None:
        before = text[:colon]
        where = (before.count("\n") + 1, colon - before.rfind("\n"))
    return text, where, broken


@fuzz_settings
@given(case=empty_key_files())
def test_an_empty_key_is_re112_at_its_colon_unless_the_file_is_broken(
    case: tuple[str, tuple[int, int] | None, bool],
) -> None:
    text, where, broken = case
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    codes = [code for code, _, _ in pure[1]]
    if broken:
        assert "RE112" not in codes and codes and codes[0] == "RE101", (text, pure[1])
    elif where is not None:
        assert pure[0] is None and pure[1] == [("RE112", *where)], (text, pure[1])
    else:
        assert not any(code.startswith("RE1") for code in codes), (text, pure[1])


glued = st.sampled_from([":vip", "::vip", ":5", "a:b", "vip", "a::b", ":-"])


@fuzz_settings
@given(items=st.lists(glued, min_size=1, max_size=4), spaced=st.booleans())
def test_a_colon_glued_to_text_in_a_flow_list_is_text(items: list[str], spaced: bool) -> None:
    """`[:vip, a:b]` holds the texts `:vip` and `a:b` (YAML 1.2), on both paths and after fmt."""
    sep = ", " if spaced else ","
    text = HEAD + RULE + "    tags: [" + sep.join(items) + "]\n"
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    assert pure[1] == [] and pure[0]["earning"][0]["tags"] == items, (text, pure)
    result = format_source(SourceFile("t.yaml", text))
    assert result.text is not None and _read(result.text, fast=False)[0] == pure[0], text


@fuzz_settings
@given(
    prefix=st.lists(st.sampled_from(["...", "# note", "", "... # end"]), max_size=4),
    marker=st.booleans(),
)
def test_document_ends_before_the_first_document_are_skipped(
    prefix: list[str], marker: bool
) -> None:
    """`...` lines before the first `---` end no document: the file reads as it would
    without them, and a stream of nothing else has no document (RE105)."""
    lines = "".join(line + "\n" for line in prefix)
    body = HEAD + RULE
    text = lines + ("---\n" + body if marker else "")
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    if marker:
        assert pure == _read(body, fast=False), (text, pure)
    else:
        assert pure[0] is None and [code for code, _, _ in pure[1]] == ["RE105"], (text, pure)


@fuzz_settings
@given(
    keys=st.lists(st.sampled_from(["max", '"min"', "'cap'", "spring sale"]), unique=True),
    breaks=st.lists(
        st.sampled_from(["", " ", "\n      ", " # note\n      ", "\n\n      "]), min_size=6
    ),
)
def test_a_key_in_braces_reads_alike_over_lines(keys: list[str], breaks: list[str]) -> None:
    """`{key\\n  : value}` and `{spring\\n  sale: 1}` read as their one-line forms do."""
    entries, flat = [], []
    for n, key in enumerate(keys):
        gap = breaks[n % len(breaks)]
        shown = key.replace(" ", "\n      ") if "\n" in gap and " " in key else key
        entries.append(f"{shown}{gap}: {n}")
        flat.append(f"{key}: {n}")
    text = HEAD + RULE + "    limits: {" + ", ".join(entries) + "}\n"
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    one_line = _read(HEAD + RULE + "    limits: {" + ", ".join(flat) + "}\n", fast=False)
    assert pure[1] == [] and pure[0] == one_line[0], (text, pure)
    result = format_source(SourceFile("t.yaml", text))
    assert result.text is not None and _read(result.text, fast=False)[0] == pure[0], text


# Streams of documents: directives, `---`, `...` and comments around rule files, block text
# at the top (its lines in column 0), bare words and empty documents. YAML 1.2 lets any
# document follow `...` (a bare one too) and directives follow only `...`; the reader reads
# the one document of a rule file, refuses a second one with RE107 where it starts, and a
# directive that no `...` precedes with RE101 on its line.
DIRECTIVES = ["%YAML 1.2", "%TAG !e! tag:example.com,2000:app/"]
TEXT_LINES = ["line", "# not a comment", "%not a directive", "", "  indented", "- not a list"]


@st.composite
def document_streams(draw: Any) -> tuple[str, Any]:
    """(a stream of 1-3 documents, what the reader must say: ("read", tree), ("RE105",),
    ("RE107", line) or ("RE101", line))."""
    text, line = "", 1  # the stream so far, and the line the next piece starts on
    ended, absorbs = True, False  # after `...` (or at the start); the last content takes lines
    documents: list[int] = []  # the line each document starts on
    kinds: list[str] = []
    error: int | None = None
    for n in range(draw(st.integers(1, 3))):
        directives = draw(st.lists(st.sampled_from(DIRECTIVES), unique=True, max_size=2))
        kind = draw(st.sampled_from(["rules", "empty", "text", "words"]))
        start = bool(directives) or (n > 0 and not ended) or draw(st.booleans())
        begins = line
        if directives and not ended and not absorbs and error is None and len(documents) < 2:
            error = line  # a directive right after a document's last line (and read so far)
        text += "".join(d + "\n" for d in directives)
        line += len(directives)
        header = {"rules": "", "empty": "", "text": "|", "words": ""}[kind]
        if start:
            text += "---" + (" " + header if header else "") + "\n"
            line += 1
        elif header:
            text += header + "\n"
            line += 1
        if kind == "rules":
            body = HEAD + RULE
        elif kind == "text":
            rest = draw(st.lists(st.sampled_from(TEXT_LINES), max_size=3))
            body = "".join(f"{piece}\n" for piece in ["line", *rest])
        else:
            body = "bare\nwords\n" if kind == "words" else ""
        text += body
        line += body.count("\n")
        exists = bool(directives or start or header or body)
        if exists:
            if not (documents and not ended and absorbs and directives):
                documents.append(begins)
            else:  # the directives became lines of the text or words above
                documents.append(begins + len(directives))
            kinds.append(kind)
            absorbs = kind in ("text", "words")
        marked = draw(st.booleans())
        ended = marked or (ended and not exists)
        if marked:
            after = draw(st.sampled_from(["...\n", "... # end\n", "...\n# note\n", "...\n...\n"]))
            text += after
            line += after.count("\n")
    if error is not None:
        return text, ("RE101", error)
    if not documents:
        return text, ("RE105",)
    if len(documents) > 1:
        return text, ("RE107", documents[1])
    if kinds[0] == "rules":
        return text, ("read", _read(HEAD + RULE, fast=False)[0])
    return text, ("RE105",)


@fuzz_settings
@given(stream=document_streams())
def test_a_stream_is_read_as_one_document_or_refused_where_the_next_begins(
    stream: tuple[str, Any],
) -> None:
    text, expected = stream
    pure = _read(text, fast=False)
    if yaml.__with_libyaml__:
        assert _read(text, fast=True) == pure, text
    errors = [(code, line) for code, line, _ in pure[1]]
    if expected[0] == "read":
        assert pure == (expected[1], []), (text, pure)
    elif expected[0] == "RE105":
        assert pure[0] is None and [code for code, _ in errors] == ["RE105"], (text, pure)
    else:
        assert pure[0] is None and errors[:1] == [expected], (text, expected, pure)
    result = format_source(SourceFile("t.yaml", text))
    if expected[0] in ("RE101", "RE107"):
        assert result.text is None, text
        return
    assert result.text is not None, (text, result.error)
    assert _read(result.text, fast=False) == pure, (text, result.text)
    for comment in ("# end", "# note"):  # comments on and below `...` lines stay
        assert text.count(comment) <= result.text.count(comment), (text, result.text)
    assert format_source(SourceFile("t.yaml", result.text)).text == result.text, text


# A tag with no value, in every place a value or a key can be empty: YAML 1.2 ends a tag's
# name at a flow indicator, so `{a: !!str, b: 1}` holds an empty tagged value. Tags are RE104
# where they stand; the rest of the file reads as if each tagged value were "".
TAGS = ["!!str", "!", "!e", "!!int", "!<tag:yaml.org,2002:str>"]


@st.composite
def empty_tagged_files(draw: Any) -> tuple[str, str, list[tuple[int, int]]]:
    """(a rule file with empty tagged nodes, the same with each written as the empty value it
    reads as, where the tags are)."""
    tagged, plain = HEAD + RULE, HEAD + RULE
    where: list[tuple[int, int]] = []
    places = draw(
        st.lists(
            st.sampled_from(["flow value", "flow key", "flow item", "block value", "block item"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    for n, place in enumerate(places):
        tag = draw(st.sampled_from(TAGS))
        empty = '""' if place == "flow key" or tag != "!" else "null"  # `!` leaves it implicit
        lead, rest = {
            "flow value": (" {a: ", draw(st.sampled_from([", b: 1}", "}", " , b: 1}"]))),
            "flow key": (" {", " : 5}"),
            "flow item": (" [", draw(st.sampled_from([", vip]", "]", ",vip]"]))),
            "block value": (" ", draw(st.sampled_from(["", " ", "\t", " #c"]))),
            "block item": (
                "\n      - ",
                draw(st.sampled_from(["", "\t", " #c"])) + "\n      - vip",
            ),
        }[place]
        tagged += f"    x{n}:{lead}"
        where.append((tagged.count("\n") + 1, len(tagged) - tagged.rfind("\n")))
        tagged += f"{tag}{rest}\n"
        plain += f"    x{n}:{lead}{empty}{rest}\n"
    return tagged, plain, where


@fuzz_settings
@given(files=empty_tagged_files())
def test_an_empty_tagged_node_is_re104_at_its_tag_and_reads_as_an_empty_value(
    files: tuple[str, str, list[tuple[int, int]]],
) -> None:
    tagged, plain, where = files
    pure = _read(tagged, fast=False)
    if yaml.__with_libyaml__:
        assert _read(tagged, fast=True) == pure, tagged
    assert pure[1] == [("RE104", line, column) for line, column in where], (tagged, pure)
    untagged = _read(plain, fast=False)
    assert untagged[1] == [] and pure[0] == untagged[0], (tagged, plain, pure, untagged)
    assert format_source(SourceFile("t.yaml", tagged)).text is None, tagged
