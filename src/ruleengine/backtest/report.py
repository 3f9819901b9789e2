"""Backtest and diff reports: one JSON-like document, rendered as JSON, text or Markdown.

Every rendering is a pure function of the document, and the document of the data: the same
input gives the same bytes (rows sorted by rule, step and month; examples by customer id;
money as exact decimal text; nothing timed or dated by the clock). The Markdown is meant to be
posted as a pull-request comment as it is.

Money reads the same everywhere in the text and Markdown: the ruleset's currency with its
minor-unit digits, as `eval --format text` writes it (`engine.wording.money`): `$162.50`, and
signed in a change, `+$70.00`, `-$140.00` (`$0.00` for none). The JSON keeps exact decimal
text with the same digits (`tally.money_json`). Rewards without a money value (percentage
discounts, free shipping, gifts) are counted, never valued, and every rendering says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ruleengine.backtest.tally import UNVALUED_TYPES, percent_text
from ruleengine.engine.decisions import format_time
from ruleengine.engine.wording import minor_digits, money

BACKTEST_COLUMNS = (
    ("decisions", "decisions"),
    ("customers", "customers"),
    ("granted", "granted"),
    ("reversed", "reversed"),
    ("pending", "pending"),
    ("points", "points"),
    ("pending_points", "pending points"),
    ("store_credit", "store credit"),
    ("discount_amount", "amount discounts"),
)
MONEY_COLUMNS = ("store_credit", "discount_amount", "store_credit_delta", "discount_amount_delta")

DIFF_COLUMNS = (
    ("old_decisions", "old"),
    ("new_decisions", "new"),
    ("customers_gaining", "customers gaining"),
    ("customers_losing", "customers losing"),
    ("customers_changed", "customers changed"),
    ("points_delta", "points Δ"),
    ("store_credit_delta", "store credit Δ"),
    ("discount_amount_delta", "amount discounts Δ"),
)

TIMES = "\N{MULTIPLICATION SIGN}"  # `28 TIMES 10% off`

UNVALUED_NOTE = (
    "Store credit and amount discounts are the only rewards with a money value; percentage "
    "discounts, free shipping and free gifts cost what the orders they apply to make them "
    "cost, which the rules do not say: they are counted, not valued."
)


def backtest_document(
    *,
    rules: str,
    program: str,
    ruleset_hash: str,
    source: str,
    now: datetime,
    by_month: bool,
    tally: dict[str, Any],
    currency: str | None = None,
) -> dict[str, Any]:
    """The backtest report; `tally` is `Tally.to_json(currency)`, `currency` the ruleset's."""
    return {
        "kind": "backtest",
        "rules": rules,
        "program": program,
        "ruleset_hash": ruleset_hash,
        "currency": currency,
        "customers_source": source,
        "now": format_time(now),
        "by": "month" if by_month else "rule",
        **tally,
    }


def diff_document(
    *,
    old: dict[str, str],
    new: dict[str, str],
    source: str,
    now: datetime,
    by_month: bool,
    customers: int,
    customers_changed: int,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    examples: list[dict[str, Any]],
    currency: str | None = None,
) -> dict[str, Any]:
    """The diff report; `rows` and `totals` from `Differ` with `currency`, the new ruleset's
    (`old` and `new` may name each side's)."""
    return {
        "kind": "diff",
        "old": old,
        "new": new,
        "currency": currency,
        "customers_source": source,
        "now": format_time(now),
        "by": "month" if by_month else "rule",
        "customers": customers,
        "customers_changed": customers_changed,
        "rows": rows,
        "totals": totals,
        "examples": examples,
    }


def render(document: dict[str, Any], form: str) -> str:
    """The document as `json`, `text` or `markdown`, ending with a newline."""
    if form == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    markdown = form == "markdown"
    if document["kind"] == "backtest":
        return _backtest(document, markdown)
    return _diff(document, markdown)


# -- tables -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _signed(value: int) -> str:
    """A change in a count or in points: `+45,027`, `-3`, `0` (money: `_money`)."""
    return f"{value:+,}" if value else "0"


def _money(value: str, currency: str | None, markdown: bool, *, signed: bool = False) -> str:
    """A JSON amount in the report's words: `$162.50`; `signed`, `+$70.00` and `-$140.00`.
    In Markdown the `$` is escaped: two on a line would be a formula on GitHub."""
    amount = Decimal(value)
    text = money(abs(amount), currency or "", places=minor_digits(currency))
    if not currency:
        text = text.rstrip()
    if markdown:
        text = text.replace("$", "\\$")
    if signed and amount > 0:
        return "+" + text
    return "-" + text if amount < 0 else text


def _reward_label(kind: str, detail: str, markdown: bool) -> str:
    if kind == "discount_percentage":
        return f"{detail}% off"
    if kind == "free_gift":
        return f"free gift {_plain(detail, markdown)}"
    return {"store_credit": "store credit", "discount_amount": "amount off"}.get(
        kind, kind.replace("_", " ")
    )


def _reward_counts(
    counts: dict[str, Any], markdown: bool, *, kinds: Sequence[str], signed: bool = False
) -> list[str]:
    """The counts of `kinds`, percentages and gifts one by one: 28 of 10% off reads
    `28 TIMES 10% off` (`signed`: `+28 TIMES 10% off`, `-28 TIMES amount off`)."""
    suffix = "_delta" if signed else ""
    parts = []
    for kind in kinds:
        if kind == "discount_percentage":
            details = counts[f"discount_percentages{suffix}"].items()
        elif kind == "free_gift":
            details = counts[f"free_gifts{suffix}"].items()
        else:
            details = [("", counts[f"rewards{suffix}"].get(kind, 0))]
        for detail, count in details:
            if count:
                number = f"{count:+,}" if signed else f"{count:,}"
                parts.append(f"{number} {TIMES} {_reward_label(kind, detail, markdown)}")
    return parts


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    """The rows under `header`: the key columns (the first two) and the last, a list of
    reward counts, read from the left; the numbers line up on the right."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i < 2 or i == len(widths) - 1 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _key_cells(row: dict[str, Any], by_month: bool) -> list[str]:
    cells = [row["rule"], _cell(row["step"])]
    if by_month:
        cells.append(row.get("month", ""))
    return cells


def _key_header(by_month: bool) -> list[str]:
    return ["rule", "step", *(["month"] if by_month else [])]


# -- backtest ---------------------------------------------------------------------------------


def _backtest(document: dict[str, Any], markdown: bool) -> str:
    by_month = document["by"] == "month"
    totals = document["totals"]
    currency = document.get("currency")
    heading = "## " if markdown else ""
    lines = [
        f"{heading}Backtest of `{document['rules']}` ({document['program']}) at {document['now']}",
        "",
        f"{document['customers']:,} customers from `{document['customers_source']}`; "
        f"{document['customers_with_decisions']:,} with decisions; "
        f"{totals['decisions']:,} decisions, {totals['points']:,} points (granted minus "
        f"reversed and expired), {totals['pending_points']:,} pending, store credit "
        f"{_money(totals['store_credit'], currency, markdown)}, amount discounts "
        f"{_money(totals['discount_amount'], currency, markdown)}.",
        "Rewards without a money value (counted, not valued): "
        + (", ".join(_reward_counts(totals, markdown, kinds=UNVALUED_TYPES)) or "none")
        + ".",
        "",
    ]

    def cells(row: dict[str, Any]) -> list[str]:
        values = [
            _money(row[name], currency, markdown) if name in MONEY_COLUMNS else _cell(row[name])
            for name, _ in BACKTEST_COLUMNS
        ]
        unvalued = _reward_counts(row, markdown, kinds=UNVALUED_TYPES)
        return [*values, ", ".join(unvalued) or "-"]

    header = [
        *_key_header(by_month),
        *(title for _, title in BACKTEST_COLUMNS),
        "rewards not valued",
    ]
    rows = [[*_key_cells(row, by_month), *cells(row)] for row in document["rows"]]
    total_row = ["total", "", *([""] if by_month else [])]
    rows.append(total_row + cells(totals))
    lines += _table(header, rows, markdown)
    if document["problems"]:
        lines += ["", "Rules that could not be evaluated for some customers:"]
        for problem in document["problems"]:
            lines.append(
                f"- `{problem['rule']}`: {problem['code']} for {problem['customers']:,} customers"
            )
    lines.append("")
    lines.append(
        "Points are granted minus reversed and expired (expiry warnings carry none); pending "
        "points are not yet granted. " + UNVALUED_NOTE + " The choices of `customer_picks` "
        "rewards are counted as choices: none of their rewards is in the sums."
    )
    return "\n".join(lines) + "\n"


# -- diff ---------------------------------------------------------------------------------------


def _moved(row: dict[str, Any]) -> bool:
    return bool(
        row["gained"]
        or row["lost"]
        or row["changed"]
        or row["points_delta"]
        or row["pending_points_delta"]
        or row["old_decisions"] != row["new_decisions"]
        or Decimal(row["store_credit_delta"])
        or Decimal(row["discount_amount_delta"])
        or row["rewards_delta"]
    )


CHANGED_KINDS = ("store_credit", "discount_amount", *UNVALUED_TYPES)
"""The reward kinds whose change in number the diff shows (points are shown as points)."""


def _unvalued_warning(totals: dict[str, Any], currency: str | None, markdown: bool) -> list[str]:
    """A sentence when money and the rewards without a money value move apart: fewer amount
    discounts and more percentage ones is a move of cost the report cannot value, not a
    saving (nor, the other way, an added cost with nothing taken away)."""
    money_delta = Decimal(totals["store_credit_delta"]) + Decimal(totals["discount_amount_delta"])
    unvalued = sum(totals["rewards_delta"].get(kind, 0) for kind in UNVALUED_TYPES)
    amount = _money(str(abs(money_delta)), currency, markdown)
    if money_delta < 0 and unvalued > 0:
        return [
            "",
            f"Not a saving: the valued rewards fall by {amount} while {unvalued:,} more rewards "
            "without a money value are granted; their cost is not in these figures.",
        ]
    if money_delta > 0 and unvalued < 0:
        return [
            "",
            f"Not all added cost: the valued rewards rise by {amount} while {-unvalued:,} fewer "
            "rewards without a money value are granted; their cost is not in these figures.",
        ]
    return []


def _diff(document: dict[str, Any], markdown: bool) -> str:
    by_month = document["by"] == "month"
    old, new = document["old"], document["new"]
    totals = document["totals"]
    currency = document.get("currency")

    def cash(value: str) -> str:
        return _money(value, currency, markdown, signed=True)

    currency_change = []
    if old.get("currency") != new.get("currency"):
        currency_change = [
            "",
            f"The currency changes, {old.get('currency')} → {new.get('currency')}: the money "
            f"changes subtract {old.get('currency')} amounts from {new.get('currency')} ones.",
        ]
    customers = document["customers"]
    changed = document["customers_changed"]
    share = f" ({changed / customers:.1%})" if customers else ""
    heading = "## " if markdown else ""
    lines = [
        f"{heading}Rule change: `{old['rules']}` → `{new['rules']}` at {document['now']}",
        "",
        f"{customers:,} customers from `{document['customers_source']}`: "
        f"**{changed:,}** decide differently{share}."
        if markdown
        else f"{customers:,} customers from `{document['customers_source']}`: "
        f"{changed:,} decide differently{share}.",
        f"Decisions {totals['old_decisions']:,} → {totals['new_decisions']:,} "
        f"({totals['gained']:,} gained, {totals['lost']:,} lost, {totals['changed']:,} changed); "
        f"points {totals['old_points']:,} → {totals['new_points']:,} "
        f"({_signed(totals['points_delta'])}); store credit "
        f"{cash(totals['store_credit_delta'])}; "
        f"amount discounts {cash(totals['discount_amount_delta'])}.",
        "Rewards other than points, counted: "
        + (
            ", ".join(_reward_counts(totals, markdown, kinds=CHANGED_KINDS, signed=True))
            or "no change"
        )
        + ".",
        *_unvalued_warning(totals, currency, markdown),
        *currency_change,
        "",
    ]
    moved = [row for row in document["rows"] if _moved(row)]
    if moved:
        header = [
            *_key_header(by_month),
            *(title for _, title in DIFF_COLUMNS),
            "rewards Δ (count)",
        ]
        rows = [
            [
                *_key_cells(row, by_month),
                *(
                    cash(row[name])
                    if name in MONEY_COLUMNS
                    else _signed(row[name])
                    if name.endswith("_delta")
                    else _cell(row[name])
                    for name, _ in DIFF_COLUMNS
                ),
                ", ".join(_reward_counts(row, markdown, kinds=CHANGED_KINDS, signed=True)) or "-",
            ]
            for row in moved
        ]
        lines += _table(header, rows, markdown)
        unchanged = len(document["rows"]) - len(moved)
        if unchanged:
            lines += ["", f"{unchanged} other rule/step rows unchanged."]
    else:
        lines.append("No customer's decisions change.")
    lines += [
        "",
        f"Money is in {currency or 'the currency of the rules'}. {UNVALUED_NOTE} The options of a "
        "`customer_picks` choice are not counted: a changed choice is a changed decision.",
    ]
    if document["examples"]:
        lines += ["", "### Examples" if markdown else "Examples:", ""]
        for example in document["examples"]:
            lines += _example(example, markdown, currency)
    return "\n".join(lines).rstrip("\n") + "\n"


def _decision_text(decision: dict[str, Any], markdown: bool, currency: str | None) -> str:
    """`spend/1`, $5.00 off; `order-points/o7` (pending), +120 points; `journey/2`, pick 1
    of: 15% off, free shipping."""
    parts = [f"{decision['points']:+,} points"] if decision["points"] else []
    for reward in decision["rewards"]:
        kind = reward["type"]
        if kind in ("store_credit", "discount_amount"):
            label = "store credit" if kind == "store_credit" else "off"
            parts.append(f"{_money(reward['value'], currency, markdown)} {label}")
        elif kind == "discount_percentage":
            parts.append(f"{percent_text(str(reward['value']))}% off")
        elif kind != "points":
            parts.append(_reward_label(kind, reward.get("product", ""), markdown))
        elif decision.get("logic") == "customer_picks":  # an option: not in `points`
            parts.append(f"{reward['value']:,} points")
    status = "" if decision["status"] == "granted" else f" ({decision['status']})"
    if decision.get("logic") == "customer_picks":  # a choice: nothing granted yet
        return f"{_code(decision['key'])}{status}, pick {decision['pick']} of: " + ", ".join(parts)
    return f"{_code(decision['key'])}{status}" + "".join(", " + part for part in parts)


def _code(text: str) -> str:
    """`text` as a Markdown code span that shows it as it is, whatever it holds: fenced by
    one more backtick than its longest run of them, and padded when it starts or ends with one
    (CommonMark); in text output the same marks read as quotes."""
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&$])")


def _plain(text: str, markdown: bool) -> str:
    """Customer data (ids, explanations) as plain text: in Markdown, every character that
    could start emphasis, a link, HTML, a table cell or a formula (`$`) is escaped, so a
    comment posted from the report shows the data and nothing else."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text) if markdown else text


EXAMPLE_LINES = 4
"""Changes (and explanations per side) shown per example customer; the JSON has them all."""


def _example(example: dict[str, Any], markdown: bool, currency: str | None) -> list[str]:
    bullet = "- " if markdown else "  "
    title = (
        f"**Customer {_code(example['customer'])}**"
        if markdown
        else f"customer {example['customer']}"
    )

    def said(decision: dict[str, Any]) -> str:
        return _decision_text(decision, markdown, currency)

    changes = [f"gains {said(d)}" for d in example["gained"]]
    changes += [f"loses {said(d)}" for d in example["lost"]]
    changes += [f"changes {said(p['old'])} → {said(p['new'])}" for p in example["changed"]]
    lines = [title, *_capped(changes, bullet, "changes")]
    for side in ("old", "new"):
        reasons = []
        for explanation in example[f"{side}_explanations"]:
            where = explanation["rule"]
            if explanation["step"] is not None:
                where += f" step {explanation['step']}"
            if explanation["activity"]:
                where += f" on {_plain(explanation['activity'], markdown)}"
            text = _plain("; ".join(explanation["reasons"]), markdown)
            reasons.append(f"{side}: {where}: {explanation['status']}: {text}")
        lines += _capped(reasons, bullet, f"{side} explanations")
    lines.append("")
    return lines


def _capped(lines: list[str], bullet: str, what: str) -> list[str]:
    shown = [bullet + line for line in lines[:EXAMPLE_LINES]]
    if len(lines) > EXAMPLE_LINES:
        shown.append(f"{bullet}… {len(lines) - EXAMPLE_LINES} more {what} (see --format json)")
    return shown
