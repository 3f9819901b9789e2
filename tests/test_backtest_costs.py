"""What a rule change costs, in `backtest` and `diff` reports: every kind of reward is in the
report, valued in money where the rules give it a money value (store credit, amount
discounts) and counted where they do not (percentage discounts, free shipping, free gifts), so
a move from a valued reward to an unvalued one shows both sides and never reads as a saving;
and every amount is written alike (the ruleset's currency, its minor-unit digits, a sign on a
change).

The rules are the bundled `examples/rules/acme.yaml` with its third-order reward
(`{points: 500}`) replaced, over generated customers (`benchmarks.data`, as the backtest
tests use) and the bundled example customers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.backtest.differ import Differ
from ruleengine.backtest.report import backtest_document, diff_document, render
from ruleengine.backtest.tally import Tally
from ruleengine.engine.wording import minor_digits
from test_backtest import (
    NOW,
    NOW_DT,
    PROGRAMS,
    RULES,
    example_snapshots,
    history,
    run,
    write_jsonl,
    write_tables,
)
from test_spark import spark  # noqa: F401 - the Spark session fixture

X = "\N{MULTIPLICATION SIGN}"  # `28 X 10% off`: 28 rewards of 10% off
ACME = (RULES / "acme.yaml").read_text(encoding="utf-8")
THIRD_ORDER = "rewards: [{points: 500}]"
assert THIRD_ORDER in ACME


def acme_with(rewards: str, currency: str = "USD") -> str:
    """acme.yaml whose third-order milestone grants `rewards` (a YAML flow list)."""
    text = ACME.replace(THIRD_ORDER, f"rewards: {rewards}")
    return text.replace("currency: USD", f"currency: {currency}")


def write_rules(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


CUSTOMERS = history(60)


def third_orders() -> int:
    """How many generated customers reach the third order (each gets the reward once)."""
    engine = Engine(load_ruleset(RULES / "acme.yaml"))
    return sum(
        1
        for snapshot in CUSTOMERS
        for d in engine.evaluate(snapshot, now=NOW_DT).decisions
        if d.rule == "third-order" and d.status == "granted"
    )


REACHED = third_orders()


def test_the_generated_customers_reach_the_changed_reward() -> None:
    assert REACHED >= 20  # else the tests below would prove little
    assert REACHED_SOME >= 5


# -- issue 1: every reward kind, valued or counted ------------------------------------------


def test_a_move_from_an_amount_to_a_percentage_discount_is_not_a_saving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The merchant's case: `{discount_amount: 5}` becomes `{discount_percentage: 10}`. The
    report showed only `discounts -140`: now it shows fewer amount discounts (in money and
    in number) and as many more 10% discounts, and says it is not a saving."""
    old = write_rules(tmp_path, "old.yaml", acme_with("[{discount_amount: 5}]"))
    new = write_rules(tmp_path, "new.yaml", acme_with("[{discount_percentage: 10}]"))
    data = write_jsonl(tmp_path / "customers.jsonl", CUSTOMERS)
    args = ("diff", str(old), str(new), "--customers", str(data), "--now", NOW)

    code, out, _ = run(*args, "--format", "json", capsys=capsys)
    assert code == 0
    report = json.loads(out)
    saved = f"-{5 * REACHED}.00"
    for numbers in (report["totals"], _row(report, "third-order", 1)):
        assert numbers["discount_amount_delta"] == saved
        assert numbers["rewards_delta"] == {
            "discount_amount": -REACHED,
            "discount_percentage": REACHED,
        }
        assert numbers["discount_percentages_delta"] == {"10": REACHED}
        assert numbers["free_gifts_delta"] == {}
    row = _row(report, "third-order", 1)
    assert (row["old_discount_amount"], row["new_discount_amount"]) == (f"{5 * REACHED}.00", "0.00")
    assert report["currency"] == report["old"]["currency"] == report["new"]["currency"] == "USD"

    for form in ("text", "markdown"):
        code, out, _ = run(*args, "--format", form, capsys=capsys)
        assert code == 0
        if form == "markdown":  # `$` escaped: two on a line make a formula on GitHub
            assert re.search(r"(?<!\\)\$", out) is None
            out = out.replace("\\$", "$")
        assert f"amount discounts -${5 * REACHED}.00." in out
        assert f"-{REACHED} {X} amount off, +{REACHED} {X} 10% off" in out
        assert f"Not a saving: the valued rewards fall by ${5 * REACHED}.00" in out
        assert "counted, not valued" in out
        assert "$5.00 off → " in out and ", 10% off" in out  # the example customers


def test_the_other_way_an_added_cost_says_what_it_replaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write_rules(tmp_path, "old.yaml", acme_with("[{free_shipping: true}]"))
    new = write_rules(tmp_path, "new.yaml", acme_with("[{store_credit: 2.5}]"))
    data = write_jsonl(tmp_path / "customers.jsonl", CUSTOMERS)
    code, out, _ = run(
        "diff", str(old), str(new), "--customers", str(data), "--now", NOW, capsys=capsys
    )
    assert code == 0
    credit = Decimal("2.5") * REACHED
    assert f"store credit +${credit:.2f};" in out
    assert f"+{REACHED} {X} store credit, -{REACHED} {X} free shipping" in out
    assert f"Not all added cost: the valued rewards rise by ${credit:.2f}" in out


def test_a_changed_choice_is_shown_as_its_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """acme's review step lets the customer pick 15% off, free shipping or a gift; at 20%
    the counts do not move (a choice grants nothing yet), and the examples say what the
    choice was and becomes rather than a bare key."""
    new = write_rules(
        tmp_path,
        "acme.yaml",
        ACME.replace("- discount_percentage: 15", "- discount_percentage: 20"),
    )
    history_file = RULES.parent / "history/acme.jsonl"
    code, out, _ = run(
        "diff", str(RULES / "acme.yaml"), str(new), "--customers", str(history_file),
        "--now", NOW, capsys=capsys,
    )  # fmt: skip
    assert code == 0
    assert "Rewards other than points, counted: no change." in out
    gift = "free gift gid://shopify/Product/42"
    assert (
        f"`loyalty-journey/2`, pick 1 of: 15% off, free shipping, {gift} → "
        f"`loyalty-journey/2`, pick 1 of: 20% off, free shipping, {gift}"
    ) in out
    assert "a changed choice is a changed decision" in out


def test_backtest_counts_every_reward_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind of reward the rules can give, in one step: the money-valued ones summed,
    the others counted (per percentage and product), in the JSON and in the text."""
    rules = write_rules(
        tmp_path,
        "acme.yaml",
        acme_with(
            "[{points: 500}, {store_credit: 7.5}, {discount_amount: 5}, "
            "{discount_percentage: 12.5}, {free_shipping: true}, {free_gift: {product: mug}}]"
        ),
    )
    data = write_jsonl(tmp_path / "customers.jsonl", CUSTOMERS)
    args = ("backtest", str(rules), "--customers", str(data), "--now", NOW)
    code, out, _ = run(*args, "--format", "json", capsys=capsys)
    assert code == 0
    report = json.loads(out)
    row = _row(report, "third-order", 1)
    assert row["rewards"] == dict.fromkeys(
        ["points", "store_credit", "discount_amount", "discount_percentage", "free_shipping"],
        REACHED,
    ) | {"free_gift": REACHED}
    assert row["discount_percentages"] == {"12.5": REACHED}
    assert row["free_gifts"] == {"mug": REACHED}
    assert row["store_credit"] == f"{Decimal('7.5') * REACHED:.2f}"
    assert row["discount_amount"] == f"{5 * REACHED}.00"
    assert report["totals"]["discount_percentages"] == {"12.5": REACHED}

    code, out, _ = run(*args, capsys=capsys)
    unvalued = f"{REACHED} {X} 12.5% off, {REACHED} {X} free shipping, {REACHED} {X} free gift mug"
    assert f"Rewards without a money value (counted, not valued): {unvalued}." in out
    assert f"amount discounts ${5 * REACHED}.00." in out


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_reward_counts_are_the_results_rewards(program: str) -> None:
    """Over the bundled example customers (and generated ones for acme), the counts are the
    granted rewards of each customer's result JSON, choices left out."""
    engine = Engine(load_ruleset(RULES / PROGRAMS[program]))
    snapshots = example_snapshots(program) + (CUSTOMERS if program == "acme" else [])
    tally = Tally()
    expected: dict[str, int] = {}
    gifts: dict[str, int] = {}
    for snapshot in snapshots:
        result = engine.evaluate(snapshot, now=NOW_DT)
        tally.add(result)
        for decision in result.to_json()["decisions"]:
            if (
                decision["status"] != "granted"
                or decision["logic"] == "customer_picks"
                or decision["kind"] in ("points_expired", "expiry_warning")
            ):
                continue
            for reward in decision["rewards"]:
                expected[reward["type"]] = expected.get(reward["type"], 0) + 1
                if reward["type"] == "free_gift":
                    gifts[reward["product"]] = gifts.get(reward["product"], 0) + 1
    totals = tally.to_json(engine.ruleset.model.currency)["totals"]
    assert {k: v for k, v in totals["rewards"].items() if v} == expected
    assert totals["free_gifts"] == dict(sorted(gifts.items()))


def _row(report: dict[str, Any], rule: str, step: int | None) -> dict[str, Any]:
    return next(r for r in report["rows"] if (r["rule"], r["step"]) == (rule, step))


# -- the property: a change of reward never hides -----------------------------------------------

REWARDS = st.sampled_from(
    [
        "{points: 500}",
        "{points: 50}",
        "{store_credit: 5}",
        "{store_credit: 2.25}",
        "{discount_amount: 5}",
        "{discount_amount: 0.5}",
        "{discount_percentage: 10}",
        "{discount_percentage: 15}",
        "{free_shipping: true}",
        "{free_gift: {product: mug}}",
        "{free_gift: {product: tote}}",
    ]
)
UNVALUED = ("discount_percentage", "free_shipping", "free_gift")
SOME = history(25, seed=8)
REACHED_SOME = sum(
    1
    for snapshot in SOME
    for d in Engine(load_ruleset(RULES / "acme.yaml")).evaluate(snapshot, now=NOW_DT).decisions
    if d.rule == "third-order" and d.status == "granted"
)


def in_currency(rewards: str, currency: str) -> str:
    """The rewards with amounts a shop can issue in `currency` (RE525): whole yen."""
    if currency != "JPY":
        return rewards
    return rewards.replace("2.25}", "225}").replace("0.5}", "50}")


def _differ(old_rewards: list[str], new_rewards: list[str], currency: str) -> tuple[Any, ...]:
    old_text, new_text = ("[" + ", ".join(r) + "]" for r in (old_rewards, new_rewards))
    old = Engine(load_ruleset(acme_with(in_currency(old_text, currency), currency)))
    new = Engine(load_ruleset(acme_with(in_currency(new_text, currency), currency)))
    differ = Differ()
    for snapshot in SOME:
        customer = snapshot["customer"]["id"]
        differ.add(
            customer,
            snapshot,
            old.evaluate(snapshot, now=NOW_DT),
            new.evaluate(snapshot, now=NOW_DT),
        )
    return differ, old, new


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    old=st.lists(REWARDS, min_size=1, max_size=3, unique=True),
    new=st.lists(REWARDS, min_size=1, max_size=3, unique=True),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD", "SEK"]),
)
def test_every_reward_change_shows_in_money_or_in_number(
    old: list[str], new: list[str], currency: str
) -> None:
    """Whatever the third-order reward becomes: the change in each kind's number is the
    difference of the two backtests' counts, the money changes are the difference of their
    sums, so a reward that stops being granted shows as fewer of its kind and one that starts
    as more, valued or not; every JSON amount has the currency's digits; and the text says
    `Not a saving` exactly when valued money falls while unvalued rewards grow."""
    differ, _, _ = _differ(old, new, currency)
    before = differ.old.to_json(currency)["totals"]
    after = differ.new.to_json(currency)["totals"]
    totals = differ.totals(currency)
    kinds = set(before["rewards"]) | set(after["rewards"])
    assert totals["rewards_delta"] == {
        k: after["rewards"][k] - before["rewards"][k]
        for k in sorted(kinds, key=list(after["rewards"]).index)
        if after["rewards"][k] != before["rewards"][k]
    }
    for detail in ("discount_percentages", "free_gifts"):
        keys = set(before[detail]) | set(after[detail])
        changed = {
            k: after[detail].get(k, 0) - before[detail].get(k, 0)
            for k in keys
            if after[detail].get(k, 0) != before[detail].get(k, 0)
        }
        assert totals[f"{detail}_delta"] == changed
    for money in ("store_credit", "discount_amount"):
        delta = Decimal(after[money]) - Decimal(before[money])
        assert Decimal(totals[f"{money}_delta"]) == delta
        for text in (before[money], after[money], totals[f"{money}_delta"]):
            assert _decimals(text) == _digits_of(Decimal(text), currency)
    for kind in ("points", "store_credit", "discount_amount", *UNVALUED):
        each = sum(r.startswith("{" + kind) for r in new) - sum(
            r.startswith("{" + kind) for r in old
        )
        assert totals["rewards_delta"].get(kind, 0) == each * REACHED_SOME

    document = diff_document(
        old={"rules": "old.yaml", "currency": currency},
        new={"rules": "new.yaml", "currency": currency},
        source="customers.jsonl",
        now=NOW_DT,
        by_month=False,
        customers=differ.old.customers,
        customers_changed=differ.customers_changed,
        rows=differ.rows(currency),
        totals=totals,
        examples=[],
        currency=currency,
    )
    text = render(document, "text")
    valued = Decimal(totals["store_credit_delta"]) + Decimal(totals["discount_amount_delta"])
    unvalued = sum(totals["rewards_delta"].get(k, 0) for k in UNVALUED)
    assert ("Not a saving" in text) == (valued < 0 and unvalued > 0)
    assert_money_alike(text, currency)


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def _digits_of(amount: Decimal, currency: str) -> int:
    """The currency's minor-unit digits, or more when the amount has more (`0.25` yen)."""
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(minor_digits(currency), -exponent)


# -- issue 2: money written alike -------------------------------------------------------------

SYMBOLS = {"USD": r"\$", "EUR": "€", "JPY": "¥", "KWD": None, "SEK": None}


def assert_money_alike(text: str, currency: str) -> None:
    """Every amount in a rendered report is the currency's: its symbol (or code after the
    number) and its minor-unit digits (more only for an amount that has more: 2.25 yen),
    the sign before the symbol; no bare decimal."""
    digits = minor_digits(currency)
    fraction = rf"\.\d{{{digits},}}" if digits else r"(?:\.\d+)?"
    number = rf"\d{{1,3}}(?:,\d{{3}})*{fraction}"
    symbol = SYMBOLS[currency]
    amount = rf"[+-]?{symbol}{number}" if symbol else rf"[+-]?{number} {currency}"
    for label in ("store credit", "amount discounts"):
        for found in re.finditer(rf"{label} (\S+(?: {currency})?)[;,.]", text):
            assert re.fullmatch(amount, found.group(1)), (label, found.group(1))
    if digits > 1:  # `+70.0` (a yen amount may have one digit: 2.25 yen times 18)
        assert not re.search(r"(?<![\d,])\d+\.\d(?![\d%])", text)


@pytest.mark.parametrize(
    ("currency", "credit", "shown"),
    [("USD", "2.5", "+$"), ("EUR", "2.5", "+€"), ("JPY", "250", "+¥"), ("KWD", "2.5", "+")],
)
def test_money_is_written_alike_in_every_report(currency: str, credit: str, shown: str) -> None:
    """The tester saw `store credit 0.00; discounts 0.`, `+70.0`, `-140` and `162.50` in
    one report: now every amount has the currency's sign and digits, and a change its sign."""
    differ, _, new = _differ(
        ["{discount_amount: 5}"], [f"{{store_credit: {credit}}}", "{points: 500}"], currency
    )
    rows = differ.rows(currency)
    totals = differ.totals(currency)
    row = next(r for r in rows if r["rule"] == "third-order")
    digits = minor_digits(currency)
    credited = f"{Decimal(credit) * REACHED_SOME:.{digits}f}"
    assert row["store_credit_delta"] == row["new_store_credit"] == credited
    assert row["old_store_credit"] == f"{0:.{digits}f}"
    assert totals["discount_amount_delta"] == f"{-5 * REACHED_SOME:.{digits}f}"
    document = diff_document(
        old={"rules": "old.yaml", "currency": currency},
        new={"rules": "new.yaml", "currency": currency},
        source="customers.jsonl",
        now=NOW_DT,
        by_month=False,
        customers=differ.old.customers,
        customers_changed=differ.customers_changed,
        rows=rows,
        totals=totals,
        examples=[],
        currency=currency,
    )
    for form in ("text", "markdown"):
        text = render(document, form).replace("\\$", "$")
        assert_money_alike(text, currency)
        assert f"store credit {shown}" in text

    tally = Tally()
    for snapshot in SOME:
        tally.add(new.evaluate(snapshot, now=NOW_DT))
    report = tally.to_json(currency)
    assert all(
        _decimals(r[m]) == minor_digits(currency)
        for r in [*report["rows"], report["totals"]]
        for m in ("store_credit", "discount_amount")
    )
    backtest = backtest_document(
        rules="new.yaml",
        program="acme-rewards",
        ruleset_hash="sha256:0",
        source="customers.jsonl",
        now=NOW_DT,
        by_month=False,
        tally=report,
        currency=currency,
    )
    for form in ("text", "markdown"):
        text = render(backtest, form).replace("\\$", "$")
        assert_money_alike(text, currency)
        assert f"store credit {shown.lstrip('+')}" in text


def test_the_example_reports_money_is_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bundled greenleaf program (CAD: store credit, amount discounts, free shipping,
    gifts) over its example customers: `CA$`, two digits, in every rendering."""
    data = write_jsonl(tmp_path / "greenleaf.jsonl", example_snapshots("greenleaf"))
    rules = RULES / PROGRAMS["greenleaf"]
    args = ("backtest", str(rules), "--customers", str(data), "--now", NOW)
    for form in ("text", "markdown"):
        code, out, _ = run(*args, "--format", form, capsys=capsys)
        assert code == 0
        out = out.replace("\\$", "$")
        assert re.search(r"store credit CA\$\d+\.\d\d, amount discounts CA\$\d+\.\d\d\.", out)
        assert "free shipping" in out and "counted, not valued" in out


# -- Spark: the same report -------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_spark_values_and_counts_rewards_as_the_local_path(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    currency: str,
) -> None:
    """A move from an amount discount to a percentage and a gift, with store credit in the
    currency's digits: Spark's backtest and diff (Spark SQL over the decisions'
    `rewards` JSON) are the local ones, key for key and digit for digit."""
    from ruleengine.spark import diff_decisions, evaluate_dataframe, tally_decisions
    from test_spark import frames

    data = history(40, seed=8)
    folder = write_tables(tmp_path / "t", data, "parquet")
    customers, activity = frames(spark, folder)
    old_text = acme_with(
        in_currency("[{discount_amount: 5}, {store_credit: 2.25}]", currency), currency
    )
    new_text = acme_with(
        in_currency(
            "[{discount_percentage: 12.5}, {free_gift: {product: mug}}, {store_credit: 2.25}]",
            currency,
        ),
        currency,
    )
    old = evaluate_dataframe(customers, activity, old_text, now=NOW_DT, ruleset="old")
    new = evaluate_dataframe(customers, activity, new_text, now=NOW_DT, ruleset="new")
    count = customers.count()
    report = diff_decisions(old, new, customers=count, by_month=True, currency=currency)
    backtest = tally_decisions(new, customers=count, by_month=True, currency=currency)

    old_engine = Engine(load_ruleset(old_text))
    new_engine = Engine(load_ruleset(new_text))
    differ = Differ(by_month=True)
    for snapshot in data:
        before = old_engine.evaluate(snapshot, now=NOW_DT)
        after = new_engine.evaluate(snapshot, now=NOW_DT)
        differ.add(snapshot["customer"]["id"], snapshot, before, after)
    assert report["rows"] == differ.rows(currency)
    assert report["totals"] == differ.totals(currency)
    expected = differ.new.to_json(currency)
    assert backtest["rows"] == expected["rows"]
    assert backtest["totals"] == expected["totals"]
    reached = report["totals"]["rewards_delta"]["discount_percentage"]
    assert reached > 0
    assert report["totals"]["rewards_delta"] == {
        "discount_amount": -reached,
        "discount_percentage": reached,
        "free_gift": reached,
    }
    assert backtest["totals"]["free_gifts"] == {"mug": reached}
    assert backtest["totals"]["discount_percentages"] == {"12.5": reached}
