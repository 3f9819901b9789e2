"""Runtime value types of the expression language that Python lacks."""

from __future__ import annotations

import msgspec

SECONDS_PER_UNIT: dict[str, int] = {
    "s": 1,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
}
MONTHS_PER_UNIT: dict[str, int] = {"mo": 1, "y": 12}
DURATION_UNITS: tuple[str, ...] = ("mo", "min", "y", "w", "d", "h", "s")


class Duration(msgspec.Struct, frozen=True, order=True, gc=False):
    """A length of time: calendar months plus exact seconds.

    `3mo` and `1y` are calendar durations (months), added to dates by the calendar; `90d`,
    `12h` are exact. Durations of the two kinds are never compared with each other: the checker
    rejects it, because "is 30 days more than a month" has no single answer.
    """

    months: int = 0
    seconds: int = 0

    def __hash__(self) -> int:
        # The hash the frozen dataclass this was had (its fields' tuple), so a host holding
        # durations in sets or as keys sees the same values as before.
        return hash((self.months, self.seconds))

    @property
    def is_calendar(self) -> bool:
        return self.months != 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse `90d`, `12h`, `3mo`, ... ; raises ValueError for anything else."""
        for unit in DURATION_UNITS:
            if text.endswith(unit):
                number = text[: -len(unit)]
                if number.isdigit() and number.isascii():
                    amount = int(number)
                    if unit in MONTHS_PER_UNIT:
                        return cls(months=amount * MONTHS_PER_UNIT[unit])
                    return cls(seconds=amount * SECONDS_PER_UNIT[unit])
        raise ValueError(f"invalid duration {text!r}")

    def __str__(self) -> str:
        if self.months:
            if self.months % 12 == 0:
                return f"{self.months // 12}y"
            return f"{self.months}mo"
        for unit in ("w", "d", "h", "min"):
            size = SECONDS_PER_UNIT[unit]
            if self.seconds and self.seconds % size == 0:
                return f"{self.seconds // size}{unit}"
        return f"{self.seconds}s"
