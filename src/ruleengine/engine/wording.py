"""Words for people: amounts with their currency, counts with their nouns, days."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "CHF": "CHF ",
    "INR": "₹",
    "VND": "₫",
}


def money(amount: Decimal, currency: str) -> str:
    """`$37.50`, `€12.00`, `37.50 SEK`: two decimals unless the amount has more."""
    exponent = amount.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    text = f"{amount:,.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def count(number: int | Decimal, singular: str, plural: str | None = None) -> str:
    """`1 point`, `-1 point`, `0 points`, `2.5 points`: singular for one either way."""
    word = singular if abs(number) == 1 else (plural or singular + "s")
    return f"{number} {word}"


def day(moment: datetime | date, zone: tzinfo) -> str:
    """The day of a moment in the ruleset's zone, `2026-05-02`."""
    if isinstance(moment, datetime):
        return moment.astimezone(zone).date().isoformat()
    return moment.isoformat()
