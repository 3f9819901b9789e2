"""Words for people: amounts with their currency, counts with their nouns, days."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

from ruleengine.rules.currencies import decimal_places, places_of

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
    """`$37.50`, `€12.00`, `¥500`, `37.50 SEK`: the currency's decimals (two for a code
    without a minor unit), or more when the amount has more."""
    minor = decimal_places(currency)
    places = max(2 if minor is None else minor, places_of(amount))
    text = f"{amount:,.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def percent(value: Decimal) -> str:
    """`10% off` for `1E+1`, `12.5%` for `12.50`: the digits it has, never an exponent."""
    return f"{value:.{places_of(value)}f}%"


def count(number: int | Decimal, singular: str, plural: str | None = None) -> str:
    """`1 point`, `-1 point`, `0 points`, `2.5 points`: singular for one either way."""
    word = singular if abs(number) == 1 else (plural or singular + "s")
    return f"{number} {word}"


def day(moment: datetime | date, zone: tzinfo) -> str:
    """The day of a moment in the ruleset's zone, `2026-05-02`."""
    if isinstance(moment, datetime):
        return moment.astimezone(zone).date().isoformat()
    return moment.isoformat()
