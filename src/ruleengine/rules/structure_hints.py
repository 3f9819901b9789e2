"""The hints of structure diagnostics: what to write instead of a value the format refuses.

Split from `rules.structure` (which maps pydantic's errors to diagnostics) so each stays a
size one can read: this module knows the vocabulary an author gets wrong (time zone
abbreviations, currency symbols, trigger and type names, quoted numbers) and suggests the
closest right spelling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ruleengine.expr.runtime import NOT_ZONES
from ruleengine.rules.models import (
    ATTRIBUTE_TYPES,
    BUILTIN_TRIGGERS,
    REWARD_TYPES,
    available_timezones,
    suggest_currency,
)

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


def type_hint(expected_kinds: Sequence[str], value: Any, *, quoted: bool = True) -> str | None:
    """The fix for a value of the wrong type, when it is obvious (a quoted number, a day that
    does not exist, a date with a time)."""
    if any("date" in kind for kind in expected_kinds) and type(value) in (str, int):
        return date_hint(str(value))
    if type(value) is Decimal and "a whole number" in expected_kinds and value.is_finite():
        return whole_number_hint(value)
    if not isinstance(value, str):
        return None
    if any("number" in kind for kind in expected_kinds):
        return number_text_hint(value, quoted=quoted)
    return None


def whole_number_hint(value: Decimal) -> str:
    """`1e2` or `5.0` where a whole number belongs: the digits to write; for a fraction, the
    two whole numbers around it."""
    if value == value.to_integral_value():
        return f"write it in digits, without a point or an exponent: `{int(value)}`"
    low = math.floor(value)
    return f"whole numbers only: write `{low}` or `{low + 1}`"


MONTHS = [  # English month names, for hints and the service's words
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def date_hint(text: str) -> str | None:
    """What is wrong with a date that is not written YYYY-MM-DD or names no day: a day past
    the month's end, a month past 12, a time after the day, digits without dashes."""
    import calendar
    from datetime import date

    text = text.strip()
    found = re.fullmatch(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})", text)
    if found is None:
        day = re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?=[Tt ])", text)
        if day is not None and date_hint(day.group()) is None:
            return f"a date is a whole day, without a time: write `{day.group()}`"
        return None
    year, month, day_of_month = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        return f"there is no month {found.group(2)}: months go from 01 to 12"
    last = calendar.monthrange(year, month)[1] if year else 31
    if not 1 <= day_of_month <= last:
        return f"{MONTHS[month - 1]} {year} has {last} days: there is no day {found.group(3)}"
    written = date(year, month, day_of_month).isoformat() if year else None
    if written is not None and written != text:
        return f"write the date with dashes: `{written}`"
    return None


def number_text_hint(text: str, *, quoted: bool) -> str | None:
    """How to write as a number text that Python reads as one where a number belongs: without
    quotes, without `_` (YAML 1.1 and Python digit separators) or in the digits 0-9 (Python
    reads other scripts' digits); None when it is no number."""
    try:
        number = Decimal(text.strip())
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    if "_" in text:
        digits = text.strip().replace("_", "")
        return f"digit separators `_` are not part of YAML 1.2 numbers: write `{digits}`"
    if quoted:
        return "write the number without quotes"
    return f"write the number in the digits 0-9: `{number}`"


# Common time zone abbreviations and the IANA zone an author most likely means. Several of
# them (EST, MST, CET, GMT) are zone names in the IANA database too, and never get here.
_TIMEZONE_ABBREVIATIONS = {
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "GMT": "Europe/London",
    "BST": "Europe/London",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
}
_NOT_ZONE_MEANING = {
    "localtime": "it is whatever zone the host runs in, so results would depend on the host",
    "posixrules": "it holds the rules for POSIX TZ strings",
}
_TIMEZONE_HINT = "use an IANA name such as `America/New_York` or `UTC`"
# Currency symbols an author may write instead of the code; only the unambiguous ones.
_CURRENCY_SYMBOLS = {"US$": "USD", "€": "EUR", "£": "GBP", "C$": "CAD", "A$": "AUD"}
_CUSTOM_EVENT_RULE = (
    "custom event names use lower-case letters, digits and `_`, and start with a letter or `_`"
)


def _custom_hint(code: str, value: str) -> str | None:
    """The hint for a value our own validators refused (codes RE207 to RE212)."""
    if code == "RE207":
        return _timezone_hint(value)
    if code == "RE208":
        suggestion = suggest_currency(value) or _CURRENCY_SYMBOLS.get(value.strip())
        if suggestion is not None:
            return f"did you mean `{suggestion}`?"
        if re.fullmatch(r"[A-Z]{3}", value):
            return "use an existing ISO 4217 code, such as `USD` or `EUR`"
        return "write the code in capitals, such as `USD` or `EUR`"
    if code == "RE211":
        if value.startswith("custom:"):
            fixed = re.sub(r"[^a-z0-9_]+", "_", value.removeprefix("custom:").lower()).strip("_")
            if re.fullmatch(r"[a-z_][a-z0-9_]{0,63}", fixed):
                return f"did you mean `custom:{fixed}`? {_CUSTOM_EVENT_RULE}"
            return _CUSTOM_EVENT_RULE
        return did_you_mean(value, BUILTIN_TRIGGERS) or (
            "use a built-in trigger or `custom:<name>` for a host-defined event"
        )
    if code == "RE212":
        optional = "?" if value.endswith("?") else ""
        match = did_you_mean(value.removesuffix("?"), ATTRIBUTE_TYPES, quote=False)
        if match is not None:
            return f"did you mean `{match}{optional}`?"
        return "types: " + ", ".join(f"`{t}`" for t in ATTRIBUTE_TYPES)
    return None


def own_hint(error: ErrorDetails) -> str | None:
    """The hint for an error our own validators raised (the codes RE207 to RE212)."""
    value = error.get("input")
    if isinstance(value, str):
        return _custom_hint(error["type"], value)
    if error["type"] == "RE209":
        if error.get("ctx", {}).get("found") == "none":
            return "give the reward one of: " + ", ".join(f"`{t}`" for t in REWARD_TYPES)
        return (
            "give each reward a list item of its own: `rewards: [{points: 5}, {store_credit: 10}]`"
        )
    return None


def _timezone_hint(value: str) -> str:
    """Suggest a zone: abbreviations by table (difflib would turn `PST` into `MST`, another
    zone), anything else by spelling."""
    if value in NOT_ZONES:
        return (
            f"`{value}` is no place's zone ({_NOT_ZONE_MEANING.get(value, 'a placeholder')}): "
            "write an IANA name such as `America/New_York` or `UTC`"
        )
    zone = _TIMEZONE_ABBREVIATIONS.get(value.upper())
    if zone is not None:
        return f"use the IANA name `{zone}` (`{value}` is an abbreviation)"
    if re.fullmatch(r"[A-Za-z]{2,5}", value) and value.upper() not in available_timezones():
        return _TIMEZONE_HINT
    match = did_you_mean(value, available_timezones(), quote=False)
    return f"did you mean `{match}`?" if match is not None else _TIMEZONE_HINT


def did_you_mean(name: str, choices: Iterable[str], *, quote: bool = True) -> str | None:
    """`did you mean `x`?` for the closest choice, or None; with `quote=False`, the bare
    choice, for callers that word the hint themselves."""
    candidates = list(choices)
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:  # only the case differs: that is the match, whatever difflib says
        matches = [lowered[name.lower()]]
    else:
        import difflib  # only for a problem's hint: not loaded on the valid path

        matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not matches:
        return None
    return f"did you mean `{matches[0]}`?" if quote else matches[0]
