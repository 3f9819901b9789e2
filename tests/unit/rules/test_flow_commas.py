"""An unquoted expression with commas inside `{...}` is cut into keys by YAML: each piece is
RE201 with the quoted expression to write, rebuilt exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import load_ruleset
from ruleengine.diagnostics.diagnostic import RuleSetError

ARGUMENTS = st.sampled_from(["0", "5", "order.subtotal", "customer.ltv", "10.5"])


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["coalesce", "max", "min"]),
    st.lists(ARGUMENTS, min_size=2, max_size=4, unique=True),  # a repeated piece is RE102
    st.sampled_from(["> 5", ">= order.subtotal", "< 100"]),
)
def test_every_piece_of_a_cut_expression_says_how_to_quote_it(
    function: str, arguments: list[str], comparison: str
) -> None:
    expression = f"{function}({', '.join(arguments)}) {comparison}"
    text = (
        "version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\nattributes: {ltv: decimal}\n"
        f"earning:\n  - {{id: a, name: A, on: order, when: {expression}, points: 1}}\n"
    )
    try:
        load_ruleset(text)
    except RuleSetError as error:
        found = error.diagnostics
    else:
        raise AssertionError("an expression cut by commas was accepted")
    assert found and all(d.code == "RE201" for d in found), [d.message for d in found]
    assert len(found) == len(arguments) - 1  # one unknown key per comma
    assert {d.hint for d in found} == {f'quote the expression: `when: "{expression}"`'}
