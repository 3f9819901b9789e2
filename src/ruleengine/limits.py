"""Resource limits: how big a rule file, an expression or a snapshot may be.

Rule files are written by people and snapshots come from host systems; both can be wrong in
every way, and some will be hostile. Every limit here turns "too big" into a located
diagnostic before any work proportional to the size is done, so no input can make the engine
hang or exhaust memory. The defaults are far above what a real loyalty program needs; a host
can pass its own `Limits` to `load_ruleset`, `check_ruleset` and `Engine`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force. Each field is documented in the README's "Safety" section."""

    max_file_bytes: int = 1_048_576  # a rule file: 1 MiB is thousands of rules
    max_nesting_depth: int = 64  # lists and mappings inside one another in a rule file
    max_rules: int = 2_000  # earning rules and milestones together
    max_steps: int = 100  # steps of one milestone
    max_rewards: int = 20  # rewards offered by one step
    max_expression_chars: int = 4_000  # one `when:` or `points:`
    max_list_items: int = 1_000  # elements of one list literal in an expression
    max_number_digits: int = 30  # digits of one number literal
    max_days: int = 36_600  # a hold, pending time or inactivity target: 100 years and more
    max_snapshot_bytes: int = 32 * 1_048_576  # a snapshot's JSON text, read by the CLI
    max_activity: int = 100_000  # activity entries of one snapshot
    max_json_depth: int = 64  # nesting of a snapshot's JSON
    max_points: int = 1_000_000_000  # points of one decision; more is treated as a bug
    max_diagnostics: int = 1_000  # reported per rule file; the rest are counted in one more

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) <= 0:
                raise ValueError(f"limit `{name}` must be positive")


DEFAULT_LIMITS = Limits()

# Digits an amount or decimal value read from a snapshot may have before its point, and after
# it (fixed: the snapshot contract, not a host setting). Bounding both keeps every decimal
# operation on snapshot values cheap: `9E+999999` is a few bytes of JSON, but converting it to
# a whole number takes minutes. An integer in snapshot JSON may have as many digits.
AMOUNT_DIGITS = 30


MAX_POINTS = 10**AMOUNT_DIGITS - 1
"""The most points one snapshot entry (points_earned, adjustment, redemption) may carry: as many
digits as an amount may have, so a number like `1.5E5000` is a located snapshot problem rather
than a 5,000-digit integer that no wording or arithmetic should meet."""


def is_bounded_decimal(value: Decimal) -> bool:
    """Whether a finite decimal has at most `AMOUNT_DIGITS` digits before and after its point
    (`1E+30` has 31 before it, `1E-31` 31 after it)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -AMOUNT_DIGITS:
        return False
    return not value or value.adjusted() < AMOUNT_DIGITS


def foreign_number_text(text: str) -> bool:
    """Whether number text holds what Python's `Decimal` and `int` read but the JSON Schema's
    pattern (ASCII digits) does not: `_` between digits (`1_000`), or digits other than 0-9
    (Arabic-Indic, fullwidth). White space around the number is allowed, as in the schema."""
    return "_" in text or not text.strip().isascii()


def foreign_number_message(text: str) -> str:
    """The words for `foreign_number_text` (RE610, `CoercionError`)."""
    return f"`{text}` is not a number as JSON writes one: use the digits 0-9, without `_`"


def json_depth(value: object, limit: int) -> int:
    """The nesting depth of JSON-like data, counted without recursion; stops past `limit`.

    Depth first, one iterator per open level: memory in proportion to the depth (at most
    `limit`), not to the width (a host's list of 11 million lists held as many pending
    entries, ~700 MB, before).
    """
    if not isinstance(value, dict | list | tuple):
        return 1
    deepest = 1
    stack: list[Iterator[object]] = [iter(value.values() if isinstance(value, dict) else value)]
    while stack:
        depth = len(stack)  # of the container whose children are being read
        for child in stack[-1]:
            if isinstance(child, dict | list | tuple):
                if depth + 1 > limit:
                    return depth + 1
                stack.append(iter(child.values() if isinstance(child, dict) else child))
                break
            # Scalars are as deep as their container plus one.
            if depth + 1 > deepest:
                deepest = depth + 1
        else:
            stack.pop()
            if depth > deepest:
                deepest = depth
    return deepest
