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


MINOR_DIGITS = {
    **dict.fromkeys(
        (  # noqa: SIM905 - ISO 4217 currencies without a minor unit (yen, won, ...)
            "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF "
            # and the funds, metals and test codes, which have none either
            "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"
        ).split(),
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
"""ISO 4217 minor-unit digits of the currencies that have other than two."""


def minor_digits(currency: str | None) -> int:
    """The digits after the decimal point of `currency`'s minor unit: 2 for USD and EUR, 0
    for JPY, 3 for KWD (ISO 4217); 2 when the currency is not known (`None`)."""
    return MINOR_DIGITS.get(currency or "", 2)


def money(amount: Decimal, currency: str, *, places: int = 2) -> str:
    """`$37.50`, `€12.00`, `37.50 SEK`: `places` decimals (two) unless the amount has more."""
    exponent = amount.as_tuple().exponent
    places = max(places, -exponent) if isinstance(exponent, int) else places
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
