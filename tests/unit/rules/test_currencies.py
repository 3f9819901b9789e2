"""Each currency's decimals: a money reward finer than its currency is RE525, and amounts are
shown in their currency's decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.engine.result_text import render_result_text
from ruleengine.engine.wording import money, percent
from ruleengine.rules.currencies import decimal_places, places_of
from ruleengine.rules.models import CURRENCY_CODES

_WIDE = Context(prec=200)


def test_iso_4217_minor_units() -> None:
    assert [decimal_places(c) for c in ("USD", "EUR", "JPY", "KRW", "KWD", "CLF", "XAU")] == [
        2,
        2,
        0,
        0,
        3,
        4,
        None,
    ]
    assert all(decimal_places(code) in (0, 2, 3, 4, None) for code in CURRENCY_CODES)


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.builds(Decimal, st.sampled_from(["0.000", "-0.0", "0E+3", "1.500", "2E-3", "100"]))
)
def test_places_of_is_the_decimals_without_trailing_zeros(amount: Decimal) -> None:
    exponent = amount.normalize(_WIDE).as_tuple().exponent
    assert isinstance(exponent, int)
    assert places_of(amount) == max(0, -exponent)


def test_amounts_are_shown_in_their_currency_s_decimals() -> None:
    assert money(Decimal("500"), "JPY") == "¥500"
    assert money(Decimal("1E+1"), "USD") == "$10.00"
    assert money(Decimal("37.5"), "USD") == "$37.50"
    assert money(Decimal("12.345"), "EUR") == "€12.345"  # a computed amount keeps its digits
    assert money(Decimal("1.5"), "KWD") == "1.500 KWD"
    assert money(Decimal("1.5"), "XAU") == "1.50 XAU"


RULES = """version: 1
program: p
currency: {currency}
timezone: UTC
redeeming:
  - {{id: r, name: R, cost: 100, reward: {{discount_amount: {amount}}}}}
"""


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["USD", "JPY", "KWD", "CLF", "XAU", "EUR", "ISK"]),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=5),
)
def test_a_reward_is_refused_exactly_when_finer_than_its_currency(
    currency: str, amount: Decimal
) -> None:
    places = decimal_places(currency)
    finer = places is not None and places_of(amount) > places
    try:
        load_ruleset(RULES.format(currency=currency, amount=amount))
        codes: list[str] = []
    except RuleSetError as error:
        codes = [d.code for d in error.diagnostics]
    assert codes == (["RE525"] if finer else [])


def test_percentages_are_shown_without_an_exponent() -> None:
    assert [percent(Decimal(t)) for t in ("1E+1", "12.50", "15", "0.5", "1E+2")] == [
        "10%",
        "12.5%",
        "15%",
        "0.5%",
        "100%",
    ]


def test_what_customers_see_of_a_yen_program_and_a_written_exponent() -> None:
    ruleset = load_ruleset(
        """version: 1
program: p
currency: JPY
timezone: UTC
milestones:
  - id: first
    name: First order
    type: orders_count
    target: 1
    reward: {rewards: [{store_credit: 500}, {discount_percentage: 1e1}]}
"""
    )
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [{"type": "order", "id": "o1", "at": "2026-03-01T10:00:00Z", "subtotal": "10"}],
    }
    result = Engine(ruleset).evaluate(snapshot, now=datetime(2026, 4, 1, tzinfo=UTC))
    text = render_result_text(result, "JPY")
    assert "first/1  ¥500 store credit, 10% off" in text.replace("\u00a0", " ")
    assert "E+" not in text and "¥500.00" not in text


def test_the_minor_units_are_iso_4217_s() -> None:
    # The table in rules/currencies.py is checked against ISO's own data (the iso4217
    # package, a dev dependency: it parses its XML on import, too slow for the engine)
    import iso4217

    for code, entry in iso4217.raw_table.items():
        if code is None:
            continue  # a country without a universal currency (Antarctica)
        units = entry["CcyMnrUnts"]
        assert decimal_places(code) == (None if units == "N.A." else int(units)), code
    assert {code for code in iso4217.raw_table if code is not None} <= CURRENCY_CODES
