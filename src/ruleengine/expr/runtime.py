"""What compiled expressions need at run time: the clock, the zone, and exact arithmetic.

Nothing here reads the system clock or global state: `now` and the time zone are passed in by
the caller, and decimal arithmetic goes through one explicit context, so results do not depend
on the calling thread's decimal settings.
"""

from __future__ import annotations

import calendar
import decimal
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import msgspec

from ruleengine.diagnostics.source import Span
from ruleengine.errors import RuleEngineError
from ruleengine.expr.values import Duration

_TRAPS = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]

# `+`, `-`, `*` and `%` of exact decimals are exact: as many digits as the result has (an
# amount has up to 30 digits on each side of the point, beyond any fixed precision that
# would be cheap to pick; the work is bounded by the operands' sizes, not by the precision).
# Traps make an impossible result an error instead of a silent NaN or infinity.
ARITHMETIC = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=_TRAPS,
)

# A division that cannot be exact (`10 / 3`) is carried to 34 significant digits (IEEE
# decimal128), far beyond any amount of money.
DIVISION = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, traps=_TRAPS)

# `round(x, places)`: halves away from zero, and at most 100 digits in all (30 before the
# point and 70 after it, say), so a large `places` is an error, not a million-digit number.
ROUNDING = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP, traps=_TRAPS)


class EvaluationError(RuleEngineError):
    """A failure while evaluating an expression (division by zero), with the failing node's
    span in expression offsets; the caller turns it into a located diagnostic."""

    def __init__(self, code: str, message: str, span: Span) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span

    def __reduce__(self) -> tuple[type[EvaluationError], tuple[str, str, Span]]:
        return type(self), (self.code, self.message, self.span)


# The moments the engine supports: timestamps in snapshots, in expression variables and `now`
# lie in these years (their wall-clock year). The range leaves centuries between any
# supported moment plus the longest span a rule file may add (`Limits.max_days`) and the
# calendar's ends, so every date computation inside it is safe (docs/engine.md).
# Names in the zone folders that are no place's zone: `localtime` is the zone of the machine
# that runs the rules (so results would depend on the host), `posixrules` the rules for POSIX
# TZ strings, `Factory` a placeholder with no offset of its own.
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})

FIRST_YEAR = 1900
LAST_YEAR = 9000
SUPPORTED_YEARS = f"the years {FIRST_YEAR} to {LAST_YEAR}"


def parse_moment(text: str) -> datetime:
    """An ISO 8601 timestamp with its offset, in the supported years (a command's `--now`);
    `ValueError` says what is wrong in words a command line can show."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{text}` is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError(f"`{text}` has no time zone offset; write it as `2026-06-01T00:00:00Z`")
    if not is_supported(moment):
        raise ValueError(f"`{text}` is outside {SUPPORTED_YEARS}")
    return moment


DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # a day as rule files write it


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD, in the supported years: how rule files, `date("...")`, a host's
    date values and the commands' `--today` read a day. (`date.fromisoformat` would also take
    the week date `2026-W48-2`, which has the same length, and `20261201`.) `ValueError` says
    what is wrong in words a diagnostic or a command line can show."""
    if DAY_TEXT.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"`{text}` is not a day of the calendar") from None
        if is_supported(day):
            return day
        raise ValueError(f"`{text}` is outside {SUPPORTED_YEARS}")
    raise ValueError(f"`{text}` is not a date (YYYY-MM-DD)")


def is_supported(moment: date) -> bool:
    """Whether a day, or an aware timestamp in UTC, lies in the supported years."""
    if isinstance(moment, datetime) and moment.utcoffset():
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # within hours of the calendar's ends
            return False
    return FIRST_YEAR <= moment.year <= LAST_YEAR


def check_now(now: object) -> datetime:
    """`now` as the engine needs it: an aware `datetime` in the supported years. A `date` or an
    ISO string is a `TypeError` that says so (not the `AttributeError` reading its offset would
    give); a naive datetime, or one outside the years 1900-9000 (UTC), is a `ValueError`.
    Every entry point that takes `now` checks it here."""
    if not isinstance(now, datetime):
        raise TypeError(
            f"`now` must be an aware datetime, such as `datetime(2026, 6, 1, tzinfo=UTC)`, "
            f"not {type(now).__name__} `{now!r}`"
        )
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be an aware datetime (with a time zone)")
    if not is_supported(now):
        raise ValueError(f"`now` must lie in {SUPPORTED_YEARS}, not {now.isoformat()}")
    return now


class EvalContext(msgspec.Struct, frozen=True):
    """The moment of evaluation and the ruleset's time zone."""

    now: datetime
    tz: tzinfo

    def __post_init__(self) -> None:
        now = check_now(self.now)
        offset = now.utcoffset()
        assert offset is not None  # checked: aware
        if now.replace(fold=1 - now.fold).utcoffset() != offset:
            # A wall time its zone repeats (or skips): Python holds such a datetime unequal
            # to one of another zone even at the same instant (PEP 495), so `at == now()`
            # would be false. The same wall time with its fixed offset is the same instant
            # and compares as one.
            msgspec.structs.force_setattr(self, "now", now.astimezone(timezone(offset)))

    def local_date(self, value: date | datetime) -> date:
        """The calendar day of a value in the ruleset's zone (dates are already days)."""
        if isinstance(value, datetime):
            return value.astimezone(self.tz).date()
        return value

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def add_months(day: date, months: int) -> date:
    """Shift a day by calendar months, clamping to the month's end (31 Jan + 1mo = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


# Dates an expression may compute: a day inside the calendar's years 1-9999 with one day to
# spare at each end, so converting the result to any time zone, or taking its local day, can
# never leave the calendar. Snapshots and `now` are held to a narrower range (docs/engine.md).
EARLIEST_YEAR = 2
LATEST_YEAR = 9998
NO_SPAN = Span(0, 0)  # for callers outside an expression (the engine's own date steps)


def shift(
    value: date | datetime,
    duration: Duration,
    sign: int,
    ctx: EvalContext,
    span: Span = NO_SPAN,
) -> date | datetime:
    """`value + duration` (sign 1) or `value - duration` (sign -1).

    Calendar months move a timestamp in the ruleset's zone (so `+ 1mo` keeps the local time of
    day); exact durations move an instant by elapsed seconds, also across a DST change (`+ 1d`
    is 24 hours), and the result keeps the timestamp's zone. A date moves by whole days. A result
    outside years 2-9998 is `EvaluationError` RE604 at `span`, like a division by zero: an
    expression that checks can still compute a day no calendar has (`today() + 99999y`).
    """
    try:
        result = _shift(value, duration, sign, ctx)
    except (ValueError, OverflowError):  # the calendar's own end: year 0 or 10000
        result = None
    if result is None or not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
        raise EvaluationError("RE604", "date out of range", span)
    return result


def _shift(
    value: date | datetime, duration: Duration, sign: int, ctx: EvalContext
) -> date | datetime:
    if isinstance(value, datetime):
        result = value
        if duration.months:
            local = value.astimezone(ctx.tz)
            moved = add_months(local.date(), sign * duration.months)
            result = datetime.combine(moved, local.timetz()).replace(tzinfo=ctx.tz)
        if not duration.seconds:
            return result
        # Exact seconds are elapsed time: added in UTC, since Python adds a timedelta to a
        # zoned datetime on the wall clock (`30d` across a DST change would be 29d 23h); the
        # result stays in the zone it was in (with its fixed offset when that wall time is
        # one the zone repeats or skips, as `EvalContext.now`, so it compares as the instant).
        by = timedelta(seconds=sign * duration.seconds)
        zone = result.tzinfo
        if zone is UTC:
            return result + by
        moved = (result.astimezone(UTC) + by).astimezone(zone)
        offset = moved.utcoffset()
        if moved.replace(fold=1 - moved.fold).utcoffset() != offset:
            assert offset is not None
            moved = moved.astimezone(timezone(offset))
        return moved
    moved_day = add_months(value, sign * duration.months) if duration.months else value
    return moved_day + timedelta(days=sign * (duration.seconds // 86400))
