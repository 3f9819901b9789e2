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


def minor_digits(currency: str | None) -> int:
    """The digits after the decimal point of `currency`'s minor unit (ISO 4217, in
    `rules.currencies`): 2 for USD and EUR, 0 for JPY, 3 for KWD, 0 for codes without a minor
    unit (gold); 2 when the currency is not known (`None`)."""
    places = decimal_places(currency or "USD")
    return 0 if places is None else places


def money(amount: Decimal, currency: str, *, places: int | None = None) -> str:
    """`$37.50`, `€12.00`, `¥500`, `37.50 SEK`: `places` decimals (by default the
    currency's, two for a code without a minor unit), or more when the amount has more."""
    if places is None:
        minor = decimal_places(currency)
        places = 2 if minor is None else minor
    places = max(places, places_of(amount))
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
