"""What a snapshot is read for, and the customer fields it leaves unread.

A `Snapshot` is read for one ruleset (`SnapshotReading`: its customer attributes, custom
events, tiers and limits): it keeps only what that ruleset declares, checked by its types,
so an engine whose ruleset reads snapshots differently refuses it (RE670, `read_for_another`)
rather than evaluate data it never checked.

The customer's other fields (nobody declared them) are ignored, and reading them must not
cost memory per value: 32 MiB of `[[],[],...]` under an unknown key is 11 million lists,
~1.6 GB and ~30 s to build and walk. JSON text is read with msgspec, which skips a value it
is not asked for (`msgspec.Raw`: a slice of the text, no objects). A skipped value is still
checked as the data path checks it, on its bytes: its nesting depth (`Limits.max_json_depth`),
no integer of more digits than JSON may give, and no escaped half of a surrogate pair. A
value that fails a check is read after all, and the models word its problem as before.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence

import msgspec

from ruleengine.engine.snapshot_json import SnapshotError, SnapshotProblem
from ruleengine.expr.types import RecordType
from ruleengine.limits import AMOUNT_DIGITS, Limits
from ruleengine.rules.vocabulary import CUSTOMER_FIELDS


class SnapshotReading(msgspec.Struct, frozen=True, eq=False, gc=False):
    """What a snapshot was read for: everything of a ruleset that changes how its data is
    read (its customer `attributes`, custom `events`, `tiers`, and the limits). Two engines
    whose readings are equal make the same `Snapshot` of the same data; `program` only names
    the ruleset in messages, and `read` (the customer fields read) follows from the rest, so
    neither is compared. (A struct, not a dataclass: `ruleengine eval` makes no dataclass
    but the public records, see tests/test_cli_startup.py.)"""

    customer_type: RecordType
    events: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    tiers: tuple[str, ...] | None
    whole_tier_points: bool
    limits: Limits
    program: str = ""
    read: frozenset[str] = frozenset()

    def _key(self) -> tuple[object, ...]:
        return (
            self.customer_type,
            self.events,
            self.tiers,
            self.whole_tier_points,
            self.limits,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SnapshotReading) and self._key() == other._key()

    def __ne__(self, other: object) -> bool:  # msgspec's own would compare identity
        return not self == other

    def __hash__(self) -> int:
        return hash(self._key())

    @classmethod
    def of(
        cls,
        customer_type: RecordType,
        events: Mapping[str, Mapping[str, str]],
        tiers: Sequence[str] | None,
        whole_tier_points: bool,
        limits: Limits,
        program: str = "",
    ) -> SnapshotReading:
        declared = tuple(sorted((name, tuple(sorted(f.items()))) for name, f in events.items()))
        return cls(
            customer_type,
            declared,
            None if tiers is None else tuple(tiers),
            whole_tier_points and tiers is not None,
            limits,
            program,
            frozenset(name for name, _ in customer_type.fields) | _BUILT_IN,
        )

    def differences(self, other: SnapshotReading) -> list[str]:
        """What `other` reads differently, in words (`customer attributes`, ...)."""
        tiers = (self.tiers, self.whole_tier_points) != (other.tiers, other.whole_tier_points)
        names = [
            ("customer attributes", self.customer_type != other.customer_type),
            ("custom events", self.events != other.events),
            ("tiers", tiers),
            ("limits", self.limits != other.limits),
        ]
        return [name for name, differs in names if differs]


_BUILT_IN = frozenset(name for name, _ in CUSTOMER_FIELDS) | {"birthday_set_at", "created_at"}


def read_for_another(read_for: SnapshotReading, reading: SnapshotReading) -> SnapshotError:
    """RE670: a snapshot read `read_for` one ruleset, given to an engine that reads snapshots
    as `reading` says."""
    differences = " and ".join(read_for.differences(reading))
    problem = SnapshotProblem(
        "RE670",
        "$",
        f"this snapshot was read for ruleset `{read_for.program}`, whose {differences} differ "
        f"from ruleset `{reading.program}`'s",
        "read the data with the engine that evaluates it (`engine.read_snapshot(data)`), or "
        "pass the data itself",
    )
    return SnapshotError([problem])


# -- the customer fields nobody declared -----------------------------------------------------

_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# An integer longer than JSON may give (RE614), or an exponent `Decimal` may not hold (its
# limit has 18 digits): text that has one is read whole, and the problem worded.
_LONG_DIGITS = re.compile(rb"[0-9]{%d}|[eE][+-]?[0-9]{18}" % (AMOUNT_DIGITS + 1))
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
CUSTOMER_DEPTH = 2  # the snapshot, the customer: a customer field's value is below both


def skippable(raw: bytes, max_depth: int) -> bool:
    """Whether a customer field's JSON value may be skipped unread: it passes every check the
    data path makes of a field nobody declared (see the module's docstring), seen on its
    bytes, with no object made per value."""
    if _ESCAPED_SURROGATE.search(raw) is not None:
        return False
    allowed = max_depth - CUSTOMER_DEPTH
    if raw.count(b"[") + raw.count(b"{") >= allowed and _depth(raw, allowed) > allowed:
        return False
    return _LONG_DIGITS.search(raw) is None or _LONG_DIGITS.search(_STRING.sub(b"", raw)) is None


def _depth(raw: bytes, limit: int) -> int:
    """The nesting depth of a JSON value as `limits.json_depth` counts it (a scalar is a
    level), or one more when its deepest containers are empty; counted up to `limit + 1`.
    Each pass over its brackets (strings removed) takes away the innermost level, in C."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS).translate(_SQUARE)
    depth = 1  # the scalars inside the innermost containers (an over-count: read whole)
    while brackets and depth <= limit:
        brackets = brackets.replace(b"[]", b"")
        depth += 1
    return depth


def without_unread_fields(text: str | bytes, read: Container[str], max_depth: int) -> bytes | None:
    """Snapshot JSON `text` without the customer fields that are not `read` and may be
    skipped (`skippable`); None when there are none (or the text is not a JSON object with a
    customer object: the caller reads it whole, and words what is wrong with it)."""
    try:
        snapshot = _OBJECT.decode(text)
        customer = _OBJECT.decode(snapshot["customer"])
    except (msgspec.MsgspecError, RecursionError, KeyError, UnicodeError):
        return None  # a lone surrogate (UnicodeError) cannot be UTF-8: read whole
    unread = [
        key
        for key, value in customer.items()
        if key not in read and skippable(bytes(value), max_depth)
    ]
    if not unread:
        return None
    for key in unread:
        del customer[key]
    return msgspec.json.encode({**snapshot, "customer": customer})
