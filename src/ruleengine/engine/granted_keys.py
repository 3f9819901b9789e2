"""What the host's `granted` keys say it has carried out, beyond "this decision": how much of
each award its reversals took back, which occasions hold a `limit`'s slots, and which tier
upgrades late activity moved (`MovedEntries`).

A snapshot carries one cumulative refund per order (its `refunded_amount`, dated at the latest
refund), so an order refunded three times is reversed step by step, and each reversal's key
names the refund it brings the award to: `<award key>/reversal/<amount>` after a partial
refund of `amount` in all (`order-points/o1/reversal/60.00`), `<award key>/reversal` after a
full one (every point taken back). The points the host has taken back are those of the
largest amount among the award's keys in `granted` (the share of a refund is monotone in its
amount), or all of them when the plain key is there, which is also how a plain key recorded
before amounts were named is read: that reversal is never repeated. A new reversal takes back
the difference, so a history evaluated step by step takes back what one final evaluation does,
never twice. The amount, not the points, is named so that two rulesets giving an order
different points give its reversal the same key (a backtest `diff` compares them).
"""

from __future__ import annotations

import bisect
import re
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from typing import Literal, NamedTuple

from ruleengine.limits import is_bounded_decimal

_REVERSAL = "/reversal"
_MARKER = _REVERSAL + "/"
_AMOUNT = re.compile(r"[0-9]+\.[0-9]{2,}")  # the text `amount_text` writes, and nothing else
_EXACT = Context(prec=200)  # amounts are bounded (`limits.AMOUNT_DIGITS`); never rounded


def amount_text(amount: Decimal) -> str:
    """A refunded amount as a key writes it: two decimals at least, no trailing zero beyond
    them, so `60`, `60.0` and `60.000` are all `60.00` and `12.345` stays `12.345`."""
    normal = amount.normalize(_EXACT)
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite amount
    if exponent > -2:
        normal = normal.quantize(Decimal("0.01"), context=_EXACT)
    return format(normal, "f")


def reversal_key(award_key: str, amount: Decimal | None) -> str:
    """The key of the reversal that brings the award to the order's refund of `amount` in
    all; None: the whole order (every point taken back)."""
    if amount is None:
        return award_key + _REVERSAL
    return f"{award_key}{_MARKER}{amount_text(amount)}"


class TakenBack:
    """The refunds the host's reversals of each award were for, read from `granted`
    (indexed on first use: most snapshots have no refund)."""

    __slots__ = ("_granted", "_largest")

    def __init__(self, granted: frozenset[str]) -> None:
        self._granted = granted
        self._largest: dict[str, tuple[Decimal, str]] | None = None

    def largest(self, award_key: str) -> tuple[Decimal, str] | None:
        """The largest refunded amount a reversal key of the award in `granted` names, and
        that key (None without one)."""
        if self._largest is None:
            self._largest = _index(self._granted)
        return self._largest.get(award_key)

    def fully(self, award_key: str) -> str | None:
        """The plain reversal key of the award, when it is in `granted` (every point taken
        back)."""
        plain = award_key + _REVERSAL
        return plain if plain in self._granted else None

    def reversal(
        self, award_key: str, points: int, target: int, amount: Decimal | None, subtotal: Decimal
    ) -> Reversal:
        """The reversal of an award of `points` whose order's refund (`amount` in all, None:
        the whole order) takes back `target` of them, given what the host took back."""
        key = reversal_key(award_key, amount)
        if not self._granted:  # nothing carried out yet: most evaluations
            return Reversal(key, target, key, target, 0, None, False)
        largest = self.largest(award_key)
        recorded = 0 if largest is None else share(points, largest[0], subtotal)
        # The ledger counts the refund known at `now`, as one final evaluation does, and never
        # less than the host's own reversals took (should the refund have gone down since).
        total, ledger_key = target, key
        if largest is not None and recorded > target:
            total, ledger_key = recorded, largest[1]
        taken, taken_key = recorded, None if largest is None else largest[1]
        plain = self.fully(award_key)
        if plain is not None:
            taken, taken_key = points, plain
        legacy = plain is not None and target < points  # a plain key for a partial refund
        return Reversal(ledger_key, total, key, max(target - taken, 0), taken, taken_key, legacy)


class Reversal(NamedTuple):
    """What `TakenBack.reversal` found for an award."""

    ledger_key: str  # the reversal the ledger counts: `total` points, as one evaluation would
    total: int
    key: str  # the decision to make now, taking back `points` (0: nothing to decide)
    points: int
    taken: int  # what the host took back already, as `taken_key` in `granted` says
    taken_key: str | None
    legacy: bool  # `taken_key` is a plain key read as "every point", for a partial refund


def _index(granted: frozenset[str]) -> dict[str, tuple[Decimal, str]]:
    """Award key -> (the largest amount of its `…/reversal/<amount>` keys in `granted`, that
    key)."""
    index: dict[str, tuple[Decimal, str]] = {}
    for key in granted:
        at = key.rfind(_MARKER)
        if at <= 0:
            continue
        tail = key[at + len(_MARKER) :]
        if _AMOUNT.fullmatch(tail) is None:
            continue
        amount = Decimal(tail)
        # `060.00`, `60.000`, 5,000 digits: not a key the engine makes
        if not is_bounded_decimal(amount) or amount_text(amount) != tail:
            continue
        award_key = key[:at]
        known = index.get(award_key)
        if known is None or amount > known[0]:
            index[award_key] = (amount, key)
    return index


def share(points: int, refunded: Decimal, subtotal: Decimal) -> int:
    """The points a refund of `refunded` out of `subtotal` takes back: all of them once the
    whole subtotal is refunded, else `floor(points * refunded / subtotal)` (the customer keeps
    the rounding)."""
    if refunded >= subtotal:
        return points
    # in integers: exact whatever the calling thread's decimal context (its precision would
    # round `points * refunded` first)
    refunded_n, refunded_d = refunded.as_integer_ratio()
    subtotal_n, subtotal_d = subtotal.as_integer_ratio()
    return (points * refunded_n * subtotal_d) // (refunded_d * subtotal_n)


class LimitSlots:
    """What an earning rule's `limit` counts, by the rule's index: the occasions whose
    decision is in `granted` (each holds its slot wherever it falls in time: the host paid
    it, so activity that arrives late, dated before it, cannot take the slot again), and the
    grants decided in this run, in time order; each as (moment, decision key)."""

    __slots__ = ("grants", "held")

    def __init__(self) -> None:
        self.held: dict[int, list[tuple[datetime, str]]] = {}
        self.grants: dict[int, list[tuple[datetime, str]]] = {}

    def hold(self, rule: int, at: datetime, key: str) -> None:
        """A granted occasion's slot (called in time order)."""
        self.held.setdefault(rule, []).append((at, key))

    def take(self, rule: int, at: datetime, key: str) -> None:
        """A grant decided in this run (called in time order)."""
        self.grants.setdefault(rule, []).append((at, key))

    def users(
        self, rule: int, times: int, start: datetime | None, end: datetime | None
    ) -> tuple[list[str], list[str]] | None:
        """The keys that use up the period [start, end) (None: unbounded; `end` matters only
        with held slots): those held, and those granted in this run; None when a slot is
        left."""
        held = self.held.get(rule, ())
        first_held = last_held = 0
        if held:
            first_held = 0 if start is None else bisect.bisect_left(held, (start,))
            last_held = len(held) if end is None else bisect.bisect_left(held, (end,))
        granted = self.grants.get(rule, ())  # all before the occasion: those since `start` last
        first = 0 if start is None else bisect.bisect_left(granted, (start,))
        if last_held - first_held + len(granted) - first < times:
            return None
        return [k for _, k in held[first_held:last_held]], [k for _, k in granted[first:]]


_NEAR = timedelta(days=366)  # a period's length (12 months, a calendar year) at most


class MovedEntries:
    """Tier upgrade keys in `granted` (`tiers/<level>/<period>`) that this evaluation does not
    make: activity or a refund that arrived late moved the upgrade to another period key
    (a rolling period that begins on another day, the year before). Each stands for one
    upgrade into the same level within a period's length of it (any, for `lifetime`), so the
    customer is not paid the level's entry twice for one entry."""

    __slots__ = ("_moved",)

    def __init__(self, granted: frozenset[str], made: set[str], rule: str) -> None:
        self._moved: dict[str, list[tuple[date | None, str]]] = {}
        prefix = rule + "/"
        for key in sorted(granted):
            if not key.startswith(prefix) or key in made or key.count("/") != 2:
                continue
            level, period = key[len(prefix) :].split("/")
            anchor = _anchor(period)
            if anchor is not False:
                self._moved.setdefault(level, []).append((anchor, key))

    def take(self, level: str, period: str) -> str | None:
        """The moved key that stands for an upgrade into `level` (as a key writes it) in
        `period`, now used up; None when there is none."""
        moved = self._moved.get(level)
        anchor = _anchor(period)
        if not moved or anchor is False:
            return None
        for index, (other, key) in enumerate(moved):
            if anchor is None or other is None or abs(anchor - other) < _NEAR:
                del moved[index]
                return key
        return None


def _anchor(period: str) -> date | Literal[False] | None:
    """The first day a tier key's period names: `2026` -> 1 January 2026, `2026-03-14`, and
    the day of a moment `2026-05-01T10:00:00Z`; None for `lifetime`; False for text that is no
    tier period (a key of a rule that happens to be called `tiers`)."""
    if period == "lifetime":
        return None
    try:
        if len(period) == 4 and period.isdigit():
            return date(int(period), 1, 1)
        return date.fromisoformat(period[:10])
    except ValueError:
        return False
