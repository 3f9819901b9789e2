"""Backtest and diff reports: one JSON-like document, rendered as JSON, text or Markdown.

Every rendering is a pure function of the document, and the document of the data: the same
input gives the same bytes (rows sorted by rule, step and month; examples by customer id;
money as exact decimal text; nothing timed or dated by the clock). The Markdown is meant to be
posted as a pull-request comment as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ruleengine.engine.decisions import format_time

BACKTEST_COLUMNS = (
    ("decisions", "decisions"),
    ("customers", "customers"),
    ("granted", "granted"),
    ("reversed", "reversed"),
    ("pending", "pending"),
    ("points", "points"),
    ("pending_points", "pending points"),
    ("store_credit", "store credit"),
    ("discount_amount", "discount"),
)

DIFF_COLUMNS = (
    ("old_decisions", "old"),
    ("new_decisions", "new"),
    ("customers_gaining", "customers gaining"),
    ("customers_losing", "customers losing"),
    ("customers_changed", "customers changed"),
    ("points_delta", "points Δ"),
    ("store_credit_delta", "store credit Δ"),
    ("discount_amount_delta", "discount Δ"),
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
) -> dict[str, Any]:
    return {
        "kind": "backtest",
        "rules": rules,
        "program": program,
        "ruleset_hash": ruleset_hash,
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
) -> dict[str, Any]:
    return {
        "kind": "diff",
        "old": old,
        "new": new,
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


def _signed(value: Any) -> str:
    text = str(value)
    if isinstance(value, int):
        text = f"{value:+,}" if value else "0"
    elif isinstance(value, str) and value not in ("0", "0.00") and not value.startswith("-"):
        text = "+" + value
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
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
    heading = "## " if markdown else ""
    lines = [
        f"{heading}Backtest of `{document['rules']}` ({document['program']}) at {document['now']}",
        "",
        f"{document['customers']:,} customers from `{document['customers_source']}`; "
        f"{document['customers_with_decisions']:,} with decisions; "
        f"{totals['decisions']:,} decisions, {totals['points']:,} points (granted minus "
        f"reversed and expired), {totals['pending_points']:,} pending, store credit "
        f"{totals['store_credit']}, discounts {totals['discount_amount']}.",
        "",
    ]
    header = [*_key_header(by_month), *(title for _, title in BACKTEST_COLUMNS)]
    rows = [
        [*_key_cells(row, by_month), *(_cell(row[name]) for name, _ in BACKTEST_COLUMNS)]
        for row in document["rows"]
    ]
    total_row = ["total", "", *([""] if by_month else [])]
    rows.append(total_row + [_cell(totals[name]) for name, _ in BACKTEST_COLUMNS])
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
        "points are not yet granted. The choices of `customer_picks` rewards are counted, not "
        "valued."
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
    )


def _diff(document: dict[str, Any], markdown: bool) -> str:
    by_month = document["by"] == "month"
    old, new = document["old"], document["new"]
    totals = document["totals"]
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
        f"{_signed(totals['store_credit_delta'])}; discounts "
        f"{_signed(totals['discount_amount_delta'])}.",
        "",
    ]
    moved = [row for row in document["rows"] if _moved(row)]
    if moved:
        header = [*_key_header(by_month), *(title for _, title in DIFF_COLUMNS)]
        rows = [
            [
                *_key_cells(row, by_month),
                *(
                    _signed(row[name]) if name.endswith("_delta") else _cell(row[name])
                    for name, _ in DIFF_COLUMNS
                ),
            ]
            for row in moved
        ]
        lines += _table(header, rows, markdown)
        unchanged = len(document["rows"]) - len(moved)
        if unchanged:
            lines += ["", f"{unchanged} other rule/step rows unchanged."]
    else:
        lines.append("No customer's decisions change.")
    if document["examples"]:
        lines += ["", "### Examples" if markdown else "Examples:", ""]
        for example in document["examples"]:
            lines += _example(example, markdown)
    return "\n".join(lines).rstrip("\n") + "\n"


def _decision_text(decision: dict[str, Any]) -> str:
    points = f", {decision['points']:+,} points" if decision["points"] else ""
    status = "" if decision["status"] == "granted" else f" ({decision['status']})"
    return f"{_code(decision['key'])}{status}{points}"


def _code(text: str) -> str:
    """`text` as a Markdown code span that shows it as it is, whatever it holds: fenced by
    one more backtick than its longest run of them, and padded when it starts or ends with one
    (CommonMark); in text output the same marks read as quotes."""
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


def _plain(text: str, markdown: bool) -> str:
    """Customer data (ids, explanations) as plain text: in Markdown, every character that
    could start emphasis, a link, HTML or a table cell is escaped, so a comment posted from
    the report shows the data and nothing else."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text) if markdown else text


EXAMPLE_LINES = 4
"""Changes (and explanations per side) shown per example customer; the JSON has them all."""


def _example(example: dict[str, Any], markdown: bool) -> list[str]:
    bullet = "- " if markdown else "  "
    title = (
        f"**Customer {_code(example['customer'])}**"
        if markdown
        else f"customer {example['customer']}"
    )
    changes = [f"gains {_decision_text(d)}" for d in example["gained"]]
    changes += [f"loses {_decision_text(d)}" for d in example["lost"]]
    changes += [
        f"changes {_decision_text(p['old'])} → {_decision_text(p['new'])}"
        for p in example["changed"]
    ]
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
