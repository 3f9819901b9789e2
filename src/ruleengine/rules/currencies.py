"""How many decimals each currency's amounts have (ISO 4217's minor unit).

Most currencies have cents (2). The ISO 4217 list one names the others; its funds, precious
metals and testing codes have no minor unit (None: any amount). Rule files use it to refuse a
reward the shop cannot issue (`store_credit: 10.005` in USD, `discount_amount: 10.5` in JPY),
and the engine's words show amounts with their currency's decimals (`¥500`, `$37.50`).
"""

from __future__ import annotations

from decimal import Decimal

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_PLACES = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),  # noqa: SIM905
    **dict.fromkeys("CLF UYW".split(), 4),  # noqa: SIM905
}
_NO_MINOR_UNIT = frozenset(
    "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX".split()  # noqa: SIM905
)


def decimal_places(currency: str) -> int | None:
    """The decimals of an amount in `currency` (2 unless ISO 4217 says otherwise), or None
    for a code without a minor unit."""
    if currency in _NO_MINOR_UNIT:
        return None
    return _PLACES.get(currency, 2)


def places_of(amount: Decimal) -> int:
    """The decimals `amount` needs, trailing zeros aside (`10.50` needs 1, `1E+1` none):
    exact, with no decimal context (its precision would round long amounts)."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0  # zero, however written
    return max(0, -exponent - (len(digits) - len(significant)))
