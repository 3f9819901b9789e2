"""Located YAML tree -> validated `RuleSetFile`, with pydantic errors turned into diagnostics.

Pydantic reports every structural problem at once, each with a `loc` path through the data.
This module maps each error to a stable code, a message in the file's own terms ("expected a
whole number, got text"), a hint ("did you mean `points`?") and the span of the offending key
or value in the file.

The same mapping serves rule test files (`ruleengine.testing`): `structure_diagnostics` takes a
`FileFormat`, which says what differs between the two formats, so a mistake the formats share
(an unknown key, a wrong type) is reported the same way in both and fixed in one place.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from ruleengine.diagnostics.diagnostic import Diagnostic, DiagnosticSink, PathPart, make_diagnostic
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.models import FIELD_NAME_PATTERN, RULE_ID_PATTERN, RuleSetFile
from ruleengine.rules.structure_model import (
    as_pydantic,
    from_pydantic,
    pydantic_model,
    validate_model,
)
from ruleengine.rules.yaml_nodes import (
    LocatedMapping,
    LocatedNode,
    LocatedScalar,
    LocatedSequence,
    find_node,
    span_of,
    to_plain,
)

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

Finding = tuple[str, str, str | None]
"""A diagnostic before it is located: its code, its message and its hint."""

SpecialCase = Callable[["ErrorDetails", tuple[PathPart, ...], str], Finding | None]
"""A format's own reading of one error, given the error, its path through the data and the
words saying where that is (" in case 2"); None leaves the error to the shared mapping."""


class FileFormat(msgspec.Struct, frozen=True):
    """What differs between the YAML formats whose pydantic errors `structure_diagnostics` maps.

    The formats share the mapping from pydantic's error kinds to codes, messages and hints, so
    an unknown key or a wrong type reads the same in a rule file and in a rule test file, and an
    improvement reaches both. A format supplies only what is its own:

    * `model`: the root model class (pydantic's, or a `structure_model.Model`), walked to find
      the keys an unknown-key hint suggests or lists (each format forbids unknown keys, so a
      misspelt key is an error, not ignored);
    * `places`: the words for the items of its lists, since an index means nothing to an author:
      with `{"earning": "earning rule"}`, the path `("earning", 1, "per")` is "in earning rule 2";
    * `special`: the errors only this format has or words its own way (the test file's
      timestamps), tried before the shared mapping;
    * `sort_allowed_keys`: list the keys allowed after an unknown key alphabetically (a rule
      file's models have many keys) or in the model's order (the test file's models declare
      their few keys in the order an author writes them: `rules`, `now`, `cases`);
    * `serial_choices`: list the choices after an invalid one as "`a`, `b` or `c`" or as "`a` or
      `b` or `c`", as the two readers each did before they shared this code, so that no message
      changed when they were merged;
    * `quoted_number_hint`: hint "write the number without quotes" for a quoted number where a
      number belongs. The test file accepts quoted amounts (`"61.20"`, as `ruleengine eval`
      prints money), so there the hint would contradict the format.
    """

    model: type[Any]
    places: Mapping[str, str]
    special: SpecialCase | None = None
    sort_allowed_keys: bool = True
    serial_choices: bool = True
    quoted_number_hint: bool = True


def validate_document(root: LocatedMapping, sink: DiagnosticSink) -> RuleSetFile | None:
    """Validate the located tree; reports into `sink` and returns None on any error.

    A valid file is read by the fast reader, without pydantic; pydantic's models (built on
    first use) decide whenever it is not sure, and word every error of the file."""
    data = to_plain(root)
    model = validate_model(RuleSetFile, data)
    if model is not None:
        return model
    import pydantic

    try:
        return from_pydantic(RuleSetFile, pydantic_model(RuleSetFile).model_validate(data))
    except pydantic.ValidationError as error:
        errors = error.errors(include_url=False)
        sink.diagnostics += structure_diagnostics(errors, root, sink.source, RULE_FILE)
        return None


def structure_diagnostics(
    errors: Iterable[ErrorDetails], root: LocatedMapping, source: SourceFile, fmt: FileFormat
) -> list[Diagnostic]:
    """Pydantic's errors for the document `root` of `source` as diagnostics located in it.

    Errors at the same place in the data become one diagnostic: a value that fits no member of
    a union fails once per member, but the author made one mistake ("`target` must be a number
    or a duration"). The diagnostics are in pydantic's order; callers sort them with the rest.
    """
    by_path: dict[tuple[PathPart, ...], list[ErrorDetails]] = {}
    for error in errors:
        path, key_error = _data_path(root, error["loc"])
        by_path.setdefault(path + (("[key]",) if key_error else ()), []).append(error)
    found: list[Diagnostic] = []
    for path_key, group in by_path.items():
        key_error = bool(path_key) and path_key[-1] == "[key]"
        path = path_key[:-1] if key_error else path_key
        found.append(_diagnostic(path, group, key_error, root, source, fmt))
    return found


def _data_path(root: LocatedNode, loc: Sequence[PathPart]) -> tuple[tuple[PathPart, ...], bool]:
    """Drop the parts of a pydantic `loc` that name union members rather than data.

    Returns the path through the data and whether the error is about a mapping *key*. The data
    decides: a key the document has is data even when it is spelt like a member tag (an unknown
    key `int`), and a key below a scalar is data when a validator turned the scalar into a
    mapping (the test file's `- third-order/1`, short for `- {key: third-order/1}`).
    """
    path: list[PathPart] = []
    node: LocatedNode | None = root
    key_error = False
    for part in loc:
        if part == "[key]":
            key_error = True
            continue
        if isinstance(node, LocatedMapping) and isinstance(part, str):
            entry = node.get(part)
            if entry is None and path_has_union_tag(part):
                continue  # a union member tried against a mapping value (`points: {x: 1}`)
            path.append(part)
            node = entry[1] if entry else None
        elif isinstance(node, LocatedSequence) and isinstance(part, int):
            path.append(part)
            node = node.items[part] if 0 <= part < len(node.items) else None
        elif (
            not isinstance(node, LocatedMapping | LocatedSequence)
            and isinstance(part, str)
            and not path_has_union_tag(part)
        ):
            path.append(part)  # a missing key below a missing mapping, or below a shorthand
            node = None
        # anything else is a union member tag such as "int", "str" or "function-after[...]"
    return tuple(path), key_error


def path_has_union_tag(part: str) -> bool:
    """Whether a `loc` part can name a union member ("int", "function-after[...]") rather than
    a key; `_data_path` drops such a part unless the data has a key of that name."""
    return "[" in part or part in {"int", "str", "bool", "decimal", "float", "none"}


_KIND_OF_ERROR: dict[str, str] = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "bool_type": "`true` or `false`",
    "bool_parsing": "`true` or `false`",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "literal_error": "",
    "finite_number": "a finite number",
}

_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "string_pattern_mismatch",
    "string_too_short",
    "too_short",
    "too_long",
    "string_too_long",
    "decimal_max_digits",
    "decimal_max_places",
}


def describe(value: Any) -> str:
    """A YAML value in an author's words, for messages ("the whole number `5`", "a list").

    Public because the test file's own validators word their errors with it, so a value reads
    the same whatever refused it. Long text is just "text": a message stays one line.
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int):
        return f"the whole number `{value}`"
    if isinstance(value, Decimal):
        return f"the number `{value}`"
    if isinstance(value, str):
        return f"the text `{value}`" if len(value) <= 40 else "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _diagnostic(
    path: tuple[PathPart, ...],
    group: list[ErrorDetails],
    key_error: bool,
    root: LocatedMapping,
    source: SourceFile,
    fmt: FileFormat,
) -> Diagnostic:
    from ruleengine.rules.structure_hints import did_you_mean, own_hint, type_hint

    first = group[0]
    kind = first["type"]
    where = _where(path, fmt.places)
    hint: str | None = None
    special = fmt.special(first, path, where) if fmt.special is not None else None
    if special is not None:
        code, message, hint = special
        return _at(source, root, path, code, message, hint, key=key_error)
    if kind == "extra_forbidden":
        name = str(path[-1])
        cut = _cut_expression(root, path)
        if cut is not None:
            return _at(
                source,
                root,
                path,
                "RE201",
                f"unknown key `{name}`{where}: a comma inside `{{...}}` ended `{cut[0]}`",
                f'quote the expression: `{cut[0]}: "{cut[1]}"`',
                key=True,
            )
        allowed = _allowed_keys(path[:-1], fmt.model)
        hint = did_you_mean(name, allowed)
        if hint is None and allowed:
            listed = sorted(allowed) if fmt.sort_allowed_keys else allowed
            hint = "allowed keys here: " + ", ".join(f"`{k}`" for k in listed)
        return _at(source, root, path, "RE201", f"unknown key `{name}`{where}", hint, key=True)
    if kind == "missing":
        return _at(
            source,
            root,
            path,
            "RE202",
            f"missing required key `{path[-1]}`{_where(path[:-1], fmt.places)}",
            None,
            key=False,
            parent=True,
        )
    if kind.startswith("RE"):
        return _at(source, root, path, kind, first["msg"], own_hint(first), key=key_error)
    if kind in ("enum", "literal_error"):
        expected = str(first.get("ctx", {}).get("expected", ""))
        choices = [
            _yaml_spelling(c.strip(" '"))
            for c in expected.replace(" or ", ", ").split(",")
            if c.strip()
        ]
        value = first.get("input")
        if path and path[-1] == "free_shipping":
            hint = "leave the reward out to give no free shipping"
        elif isinstance(value, str):
            hint = did_you_mean(value, choices)
        one_of = _one_of(choices, serial=fmt.serial_choices)
        return _at(
            source,
            root,
            path,
            "RE204",
            f"{describe(value)} is not a valid {_field(path)}{where}; expected {one_of}",
            hint,
        )
    if kind == "string_pattern_mismatch":
        return _at(
            source,
            root,
            path,
            "RE205",
            _pattern_message(first, key_error, where),
            _PATTERN_RULES.get(str(first.get("ctx", {}).get("pattern", ""))),
            key=key_error,
        )
    if kind in _RANGE_ERRORS:
        return _at(
            source, root, path, "RE205", _range_message(first, path, where), hint, key=key_error
        )
    expected_kinds = _expected_kinds(group)
    if path and path[-1] == "target" and (len(group) > 1 or type(first.get("input")) is bool):
        expected_kinds = ["a number or a duration such as `90d`"]
    if expected_kinds:
        value = first.get("input")
        return _at(
            source,
            root,
            path,
            "RE203",
            f"{_field(path)} must be {' or '.join(expected_kinds)}{where}, not {describe(value)}",
            type_hint(expected_kinds, value, quoted=_quoted(root, path))
            if fmt.quoted_number_hint
            else None,
            key=key_error,
        )
    return _at(
        source, root, path, "RE205", f"{_lower_first(first['msg'])}{where}", None, key=key_error
    )


def _rule_file_special(
    error: ErrorDetails, path: tuple[PathPart, ...], where: str
) -> Finding | None:
    """The rule file's own reading of an error: an unsupported `version` gets a code of its
    own (RE206), not the generic invalid choice, since the fix is usually not a typo but a
    ruleengine that reads that version (or, for `"1"`, unquoting the number)."""
    if error["type"] != "literal_error" or path != ("version",):
        return None
    value = error.get("input")
    shown = f" `{value}`" if type(value) is int else f": {describe(value)}"
    hint = (
        "the version is the number 1: write it without quotes, `version: 1`"
        if isinstance(value, str) and value.strip() == "1"
        else "the version is the whole number 1: write `version: 1`"
        if isinstance(value, bool | Decimal) and value == 1
        else "this version of ruleengine reads `version: 1`"
    )
    return "RE206", f"unsupported format version{shown}", hint


def _pattern_message(error: ErrorDetails, key_error: bool, where: str) -> str:
    """An id or field name that does not match its pattern; a length of its own when only the
    length is wrong (the message would otherwise just say "text" for a long value)."""
    value = error.get("input")
    what = "a field name" if key_error else "an id"
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    if isinstance(value, str) and len(value) > _MAX_NAME_LENGTH:
        unbounded = pattern.replace("{0,63}", "*")
        if re.fullmatch(unbounded, value):
            noun = what.split(" ", 1)[1]
            return (
                f"the {noun} `{value[:24]}...` is too long{where}: it has {len(value)} "
                f"characters, and at most {_MAX_NAME_LENGTH} are allowed"
            )
    return f"{describe(value)} is not {what}{where}"


def _range_message(error: ErrorDetails, path: Sequence[PathPart], where: str) -> str:
    """A value of the right type out of its range, in words (not pydantic's)."""
    field = _field(path)
    ctx = error.get("ctx", {})
    kind = error["type"]
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return f"{field} must not be empty{where}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        items = "one item" if least == 1 else f"{least} items"
        return f"{field} must list at least {items}{where}"
    if kind in ("string_too_long", "too_long"):
        most = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        return f"{field} must have at most {most} {unit}{where}"
    message = error["msg"].replace("Input should be", f"{field} must be")
    message = message.replace("Value should", f"{field} must")
    return f"{_lower_first(message)}{where}"


_MAX_NAME_LENGTH = 64
_PATTERN_RULES = {
    RULE_ID_PATTERN: "ids start with a letter or digit and use the ASCII letters a-z and A-Z, "
    "digits, `-`, `_` and `.` (at most 64 characters; `cafe`, not `café`)",
    FIELD_NAME_PATTERN: "names use the lower-case ASCII letters a-z, digits and `_`, and start "
    "with a letter or `_`",
}


def _quoted(root: LocatedMapping, path: Sequence[PathPart]) -> bool:
    """Whether the scalar at `path` is written in quotes (or as block text)."""
    node = find_node(root, path)
    return not isinstance(node, LocatedScalar) or node.style is not None


def _expected_kinds(group: list[ErrorDetails]) -> list[str]:
    kinds: list[str] = []
    for error in group:
        kind = _KIND_OF_ERROR.get(error["type"])
        if kind and kind not in kinds:
            kinds.append(kind)
    if len(group) > 1 and "text" in kinds:
        # Only expression fields (`when`, `points`) take text or a literal value: to the
        # author they are expressions, whatever YAML type the literal has.
        return ["an expression"]
    return kinds


def _cut_expression(root: LocatedMapping, path: tuple[PathPart, ...]) -> tuple[str, str] | None:
    """`{when: coalesce(x, 0) > 5}`: in a flow mapping, a comma ends a plain value, so the rest
    of an expression becomes unknown keys without values. The key whose plain text opens more
    brackets than it closes, before the unknown key and the keys it was cut into, and the
    whole expression (its text and those keys, joined by commas again)."""
    mapping = find_node(root, path[:-1])
    if not isinstance(mapping, LocatedMapping):
        return None
    keys = [key.text for key, _ in mapping.items]
    if path[-1] not in keys:
        return None
    index = keys.index(str(path[-1])) - 1
    while index >= 0:
        key, value = mapping.items[index]
        if not isinstance(value, LocatedScalar) or value.style is not None:
            return None
        if value.text:  # the value the comma cut
            break
        index -= 1  # a piece of the expression: a key without a value
    else:
        return None
    pieces = [value.text]
    for piece, rest in mapping.items[index + 1 :]:
        text = ", ".join(pieces)
        if text.count("(") <= text.count(")") and text.count("[") <= text.count("]"):
            break
        if not (isinstance(rest, LocatedScalar) and rest.value is None and not rest.text):
            return None
        pieces.append(piece.text)
    text = ", ".join(pieces)
    if len(pieces) == 1 or text.count("(") != text.count(")"):
        return None
    return key.text, text


def _at(
    source: SourceFile,
    root: LocatedMapping,
    path: tuple[PathPart, ...],
    code: str,
    message: str,
    hint: str | None,
    *,
    key: bool = False,
    parent: bool = False,
) -> Diagnostic:
    span = span_of(root, path[:-1] if parent else path, key=key)
    return make_diagnostic(source, span, code, message, hint=hint, path=path)


def _where(path: Sequence[PathPart], places: Mapping[str, str]) -> str:
    """A few words saying where in the file a path is (" in earning rule 2"), naming each list
    item by the word `places` has for its list."""
    parts: list[str] = []
    for index, part in enumerate(path):
        if isinstance(part, int) and index > 0 and path[index - 1] in places:
            parts.append(f"{places[str(path[index - 1])]} {part + 1}")
    return f" in {', '.join(parts)}" if parts else ""


def _field(path: Sequence[PathPart]) -> str:
    """The name of the key a path ends in, for messages ("`per`"), or "the value"."""
    names = [part for part in path if isinstance(part, str)]
    return f"`{names[-1]}`" if names else "the value"


def _yaml_spelling(choice: str) -> str:
    """A choice from pydantic's error context as the author writes it (`True` -> `true`)."""
    return {"True": "true", "False": "false", "None": "null"}.get(choice, choice)


def _one_of(choices: Sequence[str], *, serial: bool = True) -> str:
    """`a`, `b` or `c`; without `serial`, `a` or `b` or `c` (see `FileFormat`)."""
    quoted = [f"`{c}`" for c in choices]
    if len(quoted) <= 1 or not serial:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _allowed_keys(path: Sequence[PathPart], model: type[Any]) -> list[str]:
    """The keys `model` allows at `path` (by alias, in the model's order), found by walking the
    model types."""
    import pydantic

    annotation: Any = as_pydantic(model)
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else Any
        elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            fields = {f.alias or n: f.annotation for n, f in annotation.model_fields.items()}
            annotation = fields.get(part, Any)
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional, keeping the one model or container type inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


RULE_FILE = FileFormat(
    model=RuleSetFile,
    places={
        "earning": "earning rule",
        "milestones": "milestone",
        "steps": "step",
        "rewards": "reward",
    },
    special=_rule_file_special,
)
"""The rule file format, for `validate_document`."""

__all__ = [
    "RULE_FILE",
    "FileFormat",
    "Finding",
    "SpecialCase",
    "describe",
    "structure_diagnostics",
    "validate_document",
]
_ = enum  # enums are referenced through pydantic's error context
