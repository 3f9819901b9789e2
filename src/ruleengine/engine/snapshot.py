"""The customer snapshot (input contract): JSON-like data -> a validated, typed `Snapshot`.

The structure is a pydantic model (the source of `schemas/snapshot.schema.json`); the
ruleset's typed `attributes` and custom `events` are checked on top of it. Every problem is
reported with its JSON path (`$.activity[3].at`) and a stable code; nothing is guessed.
The engine reads the result as `ruleengine.engine.activity` objects, made by msgspec in
`ruleengine.engine.snapshot_reader` from JSON text or a host's mapping; what it refuses, the
models word (or, for a lenient form they accept, validate into data the reader then reads).
Activity dated after `now` is left out when the engine evaluates, not here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import msgspec

from ruleengine.engine.activity import Activity, Event, TierRecalculation, TierSet
from ruleengine.engine.snapshot_checks import impossible_coupons, impossible_refunds
from ruleengine.engine.snapshot_json import (
    LongIntegerError,
    SnapshotError,
    SnapshotProblem,
    loads_exact,
    may_hold_surrogates,
    surrogate_problems,
)
from ruleengine.engine.snapshot_reader import RefusedError, read_data, read_text, suspect
from ruleengine.engine.snapshot_reading import SnapshotReading, without_unread_fields
from ruleengine.expr.coerce import CoercionError, JsonPath, coerce, format_path
from ruleengine.expr.types import RecordType, parse_type_name
from ruleengine.limits import AMOUNT_DIGITS, DEFAULT_LIMITS, Limits, json_depth
from ruleengine.rules.vocabulary import CUSTOMER_FIELDS

if TYPE_CHECKING:  # at run time, loaded on first use: see `__getattr__`
    from ruleengine.engine.snapshot_models import (
        ACTIVITY_TYPES,
        ActivityIn,
        AdjustmentIn,
        CustomerIn,
        CustomEventIn,
        EventIn,
        ItemIn,
        Moment,
        Money,
        OrderIn,
        PointsEarnedIn,
        RedemptionIn,
        ReferralIn,
        ReviewIn,
        SnapshotIn,
        SubscriptionBillingIn,
        TierChangeIn,
        TierRecalculationIn,
    )

# The input models live in `snapshot_models`; they stay importable from here.
__all__ = [
    "ACTIVITY_TYPES",
    "ActivityIn",
    "AdjustmentIn",
    "CustomEventIn",
    "CustomerIn",
    "EventIn",
    "ItemIn",
    "Moment",
    "Money",
    "OrderIn",
    "PointsEarnedIn",
    "RedemptionIn",
    "ReferralIn",
    "ReviewIn",
    "Snapshot",
    "SnapshotError",
    "SnapshotIn",
    "SnapshotProblem",
    "SubscriptionBillingIn",
    "TierChangeIn",
    "TierRecalculationIn",
    "read_snapshot",
    "read_snapshot_text",
    "render_snapshot_problem",
    "snapshot_too_large",
]

# The models (and pydantic under them) cost a command's start-up more than evaluating a
# customer; only snapshots the reader refuses need them, so they load on first use.
_MODEL_NAMES = frozenset(__all__) - {
    "Snapshot",
    "SnapshotError",
    "SnapshotProblem",
    "read_snapshot",
    "read_snapshot_text",
    "render_snapshot_problem",
    "snapshot_too_large",
}


def __getattr__(name: str) -> Any:
    """The input models, importable from here as before, loaded when first asked for."""
    if name in _MODEL_NAMES:
        from ruleengine.engine import snapshot_models

        return getattr(snapshot_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A validated snapshot: the customer as rules see them, and their activity.

    Made by `read_snapshot` (or `Engine.read_snapshot`) and read by the engine; passing one to
    `Engine.evaluate` skips validating the same data again. It is read for one ruleset
    (`reading`): an engine whose ruleset reads snapshots differently refuses it (RE670). The
    `customer` record is read-only (a `MappingProxyType`): to change a customer, read their
    data again.
    """

    customer_id: str
    customer: Mapping[str, Any]  # the `customer` record, attributes included, runtime-typed
    activity: tuple[Activity, ...]  # in input order; timestamps in UTC
    granted: frozenset[str]  # decision keys the host has already carried out
    birthday_set_at: datetime | None  # for the birthday abuse guard
    reading: SnapshotReading | None = None  # what it was read for (None: any ruleset's)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A snapshot crosses to `evaluate_many`'s worker processes; a mapping proxy does not
        # pickle, the record it shows does.
        return _snapshot_of, (
            self.customer_id,
            dict(self.customer),
            self.activity,
            self.granted,
            self.birthday_set_at,
            self.reading,
        )


def _snapshot_of(
    customer_id: str,
    customer: dict[str, Any],
    activity: tuple[Activity, ...],
    granted: frozenset[str],
    birthday_set_at: datetime | None,
    reading: SnapshotReading | None,
) -> Snapshot:
    return Snapshot(
        customer_id, MappingProxyType(customer), activity, granted, birthday_set_at, reading
    )


def read_snapshot(
    data: Any,
    *,
    customer_type: RecordType,
    events: Mapping[str, Mapping[str, str]],
    name: str = "<snapshot>",
    limits: Limits = DEFAULT_LIMITS,
    tiers: Sequence[str] | None = None,
    whole_tier_points: bool = False,
    reading: SnapshotReading | None = None,
) -> Snapshot:
    """Validate JSON-like `data` against the snapshot contract and the ruleset's types.

    Raises `SnapshotError` with every problem found. `customer_type` is the ruleset's
    `customer` record (attributes included); `events` its declared custom event fields.
    Sizes are checked first (`limits`), before any work proportional to them. `tiers` are
    the level ids of the ruleset's `tiers` (None without): then the engine computes
    `customer.tier`, and tier activity must name those levels (RE619, RE620);
    `whole_tier_points` when its tier points are points or orders (RE621 otherwise).

    The snapshot is read by msgspec (`snapshot_reader`); what it refuses is validated by the
    pydantic models, which word every problem (or, for a lenient form they accept, give the
    validated data the reader then reads).
    """
    if reading is None:
        reading = SnapshotReading.of(customer_type, events, tiers, whole_tier_points, limits)
    return _read(data, name, limits, customer_type, events, tiers, whole_tier_points, None, reading)


def _read(
    data: Any,
    name: str,
    limits: Limits,
    customer_type: RecordType,
    events: Mapping[str, Mapping[str, str]],
    tiers: Sequence[str] | None,
    whole_tier_points: bool,
    text: str | None,
    reading: SnapshotReading,
) -> Snapshot:
    """`read_snapshot`; `text` is the JSON text `data` was read from, if any."""
    entries = data.get("activity") if isinstance(data, Mapping) else None
    if isinstance(entries, list) and len(entries) > limits.max_activity:
        _check_depth(data, name, limits)  # the deeper problem is reported first, as always
        raise SnapshotError([_too_much_activity(len(entries), limits)], name)
    raw_customer, activity, granted = _read_parts(data, name, limits, text)
    return _snapshot(
        raw_customer,
        activity,
        granted,
        customer_type,
        events,
        name,
        tiers,
        whole_tier_points,
        reading,
    )


def _read_parts(
    data: Any, name: str, limits: Limits, text: str | None
) -> tuple[dict[str, Any], list[Activity], list[str]]:
    """The customer, activity and granted keys: by the reader, or by the models when the
    reader refuses (they word the problems)."""
    try:
        if _suspect(data) if text is None else suspect(text):
            raise RefusedError
        return read_data(data, limits.max_json_depth)
    except RefusedError:
        return _read_with_models(data, name, limits)


def _suspect(data: Any) -> bool:
    """Whether a host's `data` holds text msgspec would read differently from the models
    (`snapshot_reader.suspect`): found in its JSON, which msgspec writes in C."""
    try:
        return suspect(_ENCODER.encode(data))
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError, RecursionError):
        return True  # not JSON-like: the models decide


_ENCODER = msgspec.json.Encoder()
_CHECKED_DEPTH = 2**31  # a depth limit already checked by `_check_depth`


def _snapshot(
    raw_customer: dict[str, Any],
    activity: list[Activity],
    granted: list[str],
    customer_type: RecordType,
    events: Mapping[str, Mapping[str, str]],
    name: str,
    tiers: Sequence[str] | None,
    whole_tier_points: bool,
    reading: SnapshotReading,
) -> Snapshot:
    """The snapshot from what the reader gave, with the problems only a whole snapshot shows
    (attribute types, duplicate and blank ids, impossible refunds and coupons, tier activity,
    custom event fields; `snapshot_checks`)."""
    problems: list[SnapshotProblem] = []
    customer: dict[str, Any] = {}
    try:
        customer = _customer_record(raw_customer, customer_type)
    except CoercionError as error:
        problems.append(_coercion_problem(error))
    if len({(entry.type, entry.id) for entry in activity}) != len(activity):
        problems.extend(_duplicates([(entry.type, entry.id) for entry in activity]))
    problems.extend(impossible_refunds(activity))
    problems.extend(impossible_coupons(activity))
    problems.extend(_tier_problems(customer, activity, tiers, whole_tier_points))
    # Custom events carry the fields the ruleset declares for them, typed (none declared: none).
    custom = [i for i, e in enumerate(activity) if e.type.startswith("custom:")] if events else []
    for index in custom:
        event = activity[index]
        assert isinstance(event, Event)
        try:
            event.record.update(_event_fields(event, events, ("activity", index)))
        except CoercionError as error:
            problems.append(_coercion_problem(error))
    if problems:
        raise SnapshotError(problems, name)
    return Snapshot(
        raw_customer["id"],
        MappingProxyType(customer),
        tuple(activity),
        frozenset(granted),
        raw_customer["birthday_set_at"],
        reading,
    )


def snapshot_too_large(limits: Limits) -> SnapshotProblem:
    """RE614 for snapshot text over `limits.max_snapshot_bytes` (refused unread)."""
    limit = limits.max_snapshot_bytes
    return SnapshotProblem("RE614", "$", f"the snapshot is larger than {limit:,} bytes")


def read_snapshot_text(
    text: str | bytes,
    *,
    customer_type: RecordType,
    events: Mapping[str, Mapping[str, str]],
    name: str = "<snapshot>",
    line: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    tiers: Sequence[str] | None = None,
    whole_tier_points: bool = False,
    reading: SnapshotReading | None = None,
) -> Snapshot:
    """`read_snapshot` for JSON text: what the command line reads from `--snapshot FILE` and
    from each line of `--snapshots FILE.jsonl`.

    Raises `SnapshotError` with every problem: text over `limits.max_snapshot_bytes` (RE614,
    refused before parsing), JSON that does not parse (RE611, with the line and column in the
    file) or nests too deeply for the parser (RE614), then whatever `read_snapshot` finds.
    `name` is the file; `line`, the line of the file the text starts on (JSON Lines), makes
    the error's name `name:line`. Numbers are read as `Decimal`, so amounts stay exact.
    `text` may be UTF-8 bytes (anything else is RE611 at the first byte that is not).
    Problems are returned, never printed: the caller decides where they go.
    """
    where = name if line is None else f"{name}:{line}"
    if reading is None:
        reading = SnapshotReading.of(customer_type, events, tiers, whole_tier_points, limits)
    limit = limits.max_snapshot_bytes
    if len(text) > limit:  # characters, at least as many bytes: refused before parsing
        raise SnapshotError([snapshot_too_large(limits)], where)
    if not isinstance(text, str):
        text = _utf8(text, where, line or 1)
    try:
        raw_customer, activity, granted = read_text(
            text, limits.max_json_depth, limits.max_activity, reading.read
        )
    except RefusedError:
        pass  # read as data below: custom events, event fields, or a problem to word
    else:
        return _snapshot(
            raw_customer,
            activity,
            granted,
            customer_type,
            events,
            where,
            tiers,
            whole_tier_points,
            reading,
        )
    # Read as data: without the customer fields nobody declared (no memory per value of
    # theirs); positions in problems are still the text's own.
    unread = without_unread_fields(text, reading.read, limits.max_json_depth)
    try:
        data = loads_exact(text if unread is None else unread.decode())
    except LongIntegerError as error:  # before Python's own digit limit raises ValueError
        at_line, column = error.position(text, line or 1)
        problem = SnapshotProblem(
            "RE614",
            "$",
            f"a number in the snapshot has more than {AMOUNT_DIGITS} digits",
            line=at_line,
            column=column,
        )
        raise SnapshotError([problem], where) from None
    except json.JSONDecodeError as error:
        problem = SnapshotProblem(
            "RE611",
            "$",
            f"the snapshot is not valid JSON: {error.msg}",
            line=(line or 1) + error.lineno - 1,
            column=error.colno,
        )
        raise SnapshotError([problem], where) from None
    except RecursionError:  # the standard parser recurses once per nesting level
        problem = SnapshotProblem("RE614", "$", "the snapshot is nested too deeply")
        raise SnapshotError([problem], where) from None
    if may_hold_surrogates(text):
        problems = list(surrogate_problems(data))
        if problems:
            raise SnapshotError(problems, where)
    return _read(
        data, where, limits, customer_type, events, tiers, whole_tier_points, text, reading
    )


def _utf8(data: bytes, name: str, first_line: int) -> str:
    """Snapshot bytes as text; RE611 at the line and column of the first byte not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[start : error.start].decode("utf-8")) + 1
        problem = SnapshotProblem(
            "RE611",
            "$",
            f"the snapshot is not UTF-8 text: byte 0x{data[error.start]:02X}",
            "save the snapshot as UTF-8",
            line=first_line + data.count(b"\n", 0, error.start),
            column=column,
        )
        raise SnapshotError([problem], name) from None


def _read_with_models(
    data: Any, name: str, limits: Limits
) -> tuple[dict[str, Any], list[Activity], list[str]]:
    """A snapshot the reader refused: the pydantic models word every problem (the depth
    limit checked first). A snapshot they accept uses a lenient form the reader does not
    (`"5"` for a rating, a field the contract ignores); their validated data, in the
    contract's own types, is then what the reader reads."""
    import pydantic

    from ruleengine.engine.snapshot_models import SnapshotIn

    _check_depth(data, name, limits)
    try:
        model = SnapshotIn.model_validate(data)
    except pydantic.ValidationError as error:
        raise SnapshotError([_problem(e) for e in error.errors(include_url=False)], name) from None
    # `model_dump` keeps the fields the customer and events carry besides the contract's; its
    # depth is the data's, checked above (so the reader's own check of depth is not repeated).
    try:
        return read_data(model.model_dump(), _CHECKED_DEPTH)
    except RefusedError:  # a bug: what the models accept, the reader reads
        raise AssertionError("the snapshot reader refused the models' validated data") from None


def _duplicates(keys: list[tuple[str, str]]) -> list[SnapshotProblem]:
    """RE612 for every activity that repeats an earlier one's type and id."""
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for index, (kind, activity_id) in enumerate(keys):
        first = seen.setdefault((kind, activity_id), index)
        if first != index:
            problems.append(
                SnapshotProblem(
                    "RE612",
                    format_path(("activity", index, "id")),
                    f"duplicate {kind} id `{activity_id}`",
                    f"the same id is used at {format_path(('activity', first))}",
                )
            )
    return problems


def _tier_problems(
    customer: Mapping[str, Any],
    activity: Sequence[Activity],
    tiers: Sequence[str] | None,
    whole: bool,
) -> Iterator[SnapshotProblem]:
    """RE619 for a `customer.tier` sent to a ruleset with tiers (the engine computes it);
    RE620 for tier activity naming an unknown level, or for a ruleset without tiers; RE621
    for fractional `tier_points` when the tier counts points or orders."""
    if tiers is not None and customer.get("tier") is not None:
        yield SnapshotProblem(
            "RE619",
            "$.customer.tier",
            "`customer.tier` is computed from the ruleset's `tiers`; the snapshot cannot set it",
            "leave `tier` out; to change a tier by hand, send a `tier_change` activity",
        )
    for index, entry in enumerate(activity):
        if type(entry) is TierSet or type(entry) is TierRecalculation:
            if tiers is None:
                yield SnapshotProblem(
                    "RE620",
                    format_path(("activity", index)),
                    f"`{entry.type}` activity `{entry.id}`, but the ruleset has no `tiers`",
                    "remove the activity, or add a `tiers` section to the ruleset",
                )
            elif type(entry) is TierSet and entry.tier not in tiers:
                yield SnapshotProblem(
                    "RE620",
                    format_path(("activity", index, "tier")),
                    f"tier `{entry.tier}` is not a level of the ruleset's `tiers`",
                    _did_you_mean(entry.tier, tiers),
                )
            if type(entry) is TierSet and whole and entry.tier_points is not None:
                points = entry.tier_points
                if points != points.to_integral_value():
                    yield SnapshotProblem(
                        "RE621",
                        format_path(("activity", index, "tier_points")),
                        f"`tier_points` is {points}, but the ruleset's tiers count whole "
                        "points or orders",
                        "send a whole number",
                    )


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    import difflib  # only for a problem's hint: not loaded on the valid path

    close = difflib.get_close_matches(name, choices, n=1)
    levels = ", ".join(f"`{c}`" for c in choices)
    return (
        f"did you mean `{close[0]}`? The levels are {levels}"
        if close
        else f"the levels are {levels}"
    )


def _check_depth(data: Any, name: str, limits: Limits) -> None:
    """Raise RE614 for data nested deeper than the limit (before pydantic recurses into it)."""
    if json_depth(data, limits.max_json_depth) > limits.max_json_depth:
        problem = SnapshotProblem(
            "RE614", "$", f"the snapshot is nested more than {limits.max_json_depth} levels deep"
        )
        raise SnapshotError([problem], name)


def _too_much_activity(count: int, limits: Limits) -> SnapshotProblem:
    return SnapshotProblem(
        "RE614",
        "$.activity",
        f"{count:,} activity entries; at most {limits.max_activity:,} are allowed",
        "send only the activity the rules need, or raise `Limits.max_activity`",
    )


# The built-in customer fields: both readers give them already in their runtime types.
_BUILT_IN = dict(CUSTOMER_FIELDS)


def _customer_record(raw: Mapping[str, Any], customer_type: RecordType) -> dict[str, Any]:
    """The `customer` record: the built-in fields as read, the ruleset's attributes converted
    to their declared types."""
    record: dict[str, Any] = {}
    attributes = []
    for name, field_type in customer_type.fields:
        if _BUILT_IN.get(name) is field_type:
            record[name] = raw[name]
        else:
            attributes.append((name, field_type))
    if attributes:
        record.update(_record(raw, RecordType("customer", tuple(attributes)), ("customer",)))
    return record


def _record(raw: Mapping[str, Any], record_type: RecordType, path: JsonPath) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field_name, field_type in record_type.fields:
        value = raw.get(field_name)
        if value is None and field_name not in raw and not _is_optional_text(field_type):
            raise CoercionError(
                (*path, field_name), f"missing field `{field_name}` (`{field_type}`)"
            )
        result[field_name] = coerce(value, field_type, (*path, field_name))
    return result


def _is_optional_text(t: Any) -> bool:
    return str(t).endswith("?") or str(t).startswith("list[")


def _event_fields(
    event: Event, events: Mapping[str, Mapping[str, str]], path: JsonPath
) -> dict[str, Any]:
    """A custom event's declared fields, converted to their types (from the fields it carries
    besides `id`, `at` and `type`)."""
    declared = events.get(event.type.removeprefix("custom:"), {})
    raw = {k: v for k, v in event.record.items() if k not in ("id", "at", "type")}
    fields = tuple((name, parse_type_name(text)) for name, text in declared.items())
    return _record(raw, RecordType("event", fields), path)


def _coercion_problem(error: CoercionError) -> SnapshotProblem:
    return SnapshotProblem("RE610", format_path(error.path), error.message)


def _problem(error: Any) -> SnapshotProblem:
    from ruleengine.engine.snapshot_models import ACTIVITY_TAGS, ACTIVITY_TYPES

    loc = list(error["loc"])
    # Drop the union member tag pydantic puts after an activity's index.
    if (
        len(loc) > 2
        and loc[0] == "activity"
        and isinstance(loc[1], int)
        and loc[2] in ACTIVITY_TAGS
    ):
        del loc[2]
    path = format_path(tuple(loc))
    kind = error["type"]
    value = error.get("input")
    if kind == "unknown_activity_type":
        kind_value = value.get("type") if isinstance(value, Mapping) else None
        names = [t for t in ACTIVITY_TYPES if not t.startswith("custom")]
        import difflib  # only for a problem's hint: not loaded on the valid path

        close = difflib.get_close_matches(str(kind_value), names, n=1)
        hint = (
            f"did you mean `{close[0]}`?"
            if close
            else "activity types: " + ", ".join(f"`{t}`" for t in ACTIVITY_TYPES)
        )
        return SnapshotProblem(
            "RE613", format_path((*loc, "type")), f"unknown activity type `{kind_value}`", hint
        )
    if kind == "missing":
        return SnapshotProblem("RE610", path, f"missing field `{loc[-1]}`")
    if kind == "extra_forbidden":
        return SnapshotProblem(
            "RE610",
            path,
            f"unknown field `{loc[-1]}`",
            "a snapshot has `customer`, `activity` and `granted`",
        )
    if kind == "timezone_aware":
        return SnapshotProblem(
            "RE610",
            path,
            f"`{value}` has no time zone offset",
            "write timestamps as `2026-02-01T12:00:00Z` or with `+01:00`",
        )
    message = str(error["msg"])
    message = message[:1].lower() + message[1:]
    return SnapshotProblem("RE610", path, message)


def render_snapshot_problem(problem: SnapshotProblem, name: str, line: int | None = None) -> str:
    """One line for a snapshot problem, on standard error: `name:line:column: error[RE611] ...`
    for a place in the text, `name: $.activity[0].at: error[RE610] ... (hint: ...)` for a value.
    `line` is the snapshot's line in `name` (JSON Lines), written after the name."""
    hint = f" (hint: {problem.hint})" if problem.hint else ""
    if problem.line is not None:
        where = f"{name}:{problem.line}:{problem.column}"
    else:
        where = f"{name if line is None else f'{name}:{line}'}: {problem.path}"
    return f"{where}: error[{problem.code}] {problem.message}{hint}"
