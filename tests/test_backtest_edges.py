"""Edges of the backtest's input, as a user meets them: a customer twice in a JSON Lines
history (RE650, as in a customers table), CSV files as spreadsheets write them (a byte order
mark, a column without a name), and a folder holding a table twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_backtest import (
    NOW,
    RULES,
    backtest_acme,
    example_snapshots,
    history,
    run,
    write_jsonl,
    write_tables,
)

ROOT = Path(__file__).parent.parent
ACME_HISTORY = ROOT / "examples/history/acme.jsonl"
PROPOSED = ROOT / "examples/history/acme-proposed.yaml"


def _tree(folder: Path) -> list[str]:
    """Every file and folder under `folder`, relative, sorted (hidden staging folders too)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- 1. a customer twice in JSON Lines ------------------------------------------------------------


def _history_with_a_customer_twice(path: Path) -> Path:
    """The bundled acme history, then a blank line and customer c4 again, exported a second
    time with one more order (an export job that ran twice): line 102 repeats line 5."""
    lines = ACME_HISTORY.read_text(encoding="utf-8").splitlines()
    again = json.loads(lines[4])
    assert again["customer"]["id"] == "c4"
    again["activity"].append(
        {"type": "order", "id": "o-late", "at": "2026-05-01T10:00:00Z", "subtotal": "80.00"}
    )
    path.write_text("\n".join([*lines, "", json.dumps(again)]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["backtest", "diff"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_customer_twice_in_json_lines_is_refused(
    command: str, jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _history_with_a_customer_twice(tmp_path / "history.jsonl")
    rules = [str(RULES / "acme.yaml")] + ([str(PROPOSED)] if command == "diff" else [])
    code, out, err = run(
        command, *rules, "--customers", str(data), "--now", NOW, "--jobs", jobs,
        "--out", str(tmp_path / "out"), capsys=capsys,
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: {data}:102: $.customer.id: error[RE650] customer `c4` appears "
        "more than once (first on line 5)\n"
    )
    assert _tree(tmp_path) == ["history.jsonl"]


def test_each_customer_once_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ids that differ only in case, or are a prefix of another, are different customers."""
    snapshots = history(3)
    for snapshot, ident in zip(snapshots, ["C1", "c1", "c10"], strict=True):
        snapshot["customer"]["id"] = ident
    code, out, err = backtest_acme(write_jsonl(tmp_path / "h.jsonl", snapshots), capsys=capsys)
    assert (code, err) == (0, "")
    assert "3 customers from" in out


def test_a_customer_twice_in_a_customers_table_names_both_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = history(4)
    snapshots.append(json.loads(json.dumps(snapshots[1], default=str)))  # c1 again, row 5
    folder = write_tables(tmp_path / "t", snapshots, "csv")
    code, out, err = backtest_acme(folder, capsys=capsys)
    ident = snapshots[1]["customer"]["id"]
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: `{folder}/customers.csv` row 5, column `customer_id`: "
        f"error[RE650] customer `{ident}` appears more than once (first at row 2)\n"
    )


# -- 2. CSV as spreadsheets write it --------------------------------------------------------------


def _acme_csv(folder: Path) -> Path:
    """The acme example customers as CSV tables, cells quoted, as pyarrow writes them."""
    return write_tables(folder, example_snapshots("acme"), "csv")


def test_csv_with_a_byte_order_mark_reads_as_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel's "CSV UTF-8" puts U+FEFF before the header; it is not part of `customer_id`."""
    plain = _acme_csv(tmp_path / "plain")
    code, expected, err = backtest_acme(plain, "--format", "json", capsys=capsys)
    assert (code, err) == (0, "")
    marked = _acme_csv(tmp_path / "marked")
    for table in ("customers.csv", "activity.csv"):
        text = (marked / table).read_text(encoding="utf-8")
        (marked / table).write_text("\ufeff" + text.replace("\n", "\r\n"), encoding="utf-8")
    code, out, err = backtest_acme(marked, "--format", "json", capsys=capsys)
    assert (code, err) == (0, "")
    assert out.replace(str(marked), str(plain)) == expected
    report = json.loads(out)
    assert (report["customers"], report["totals"]["points"] > 0) == (
        len(example_snapshots("acme")),
        True,
    )


@pytest.mark.parametrize(
    ("table", "header", "message"),
    [
        (
            "customers.csv",
            '"customer_id","","tier"',
            "column 2 has no name (after `customer_id`); every column needs one",
        ),
        ("activity.csv", ',"customer_id"', "column 1 has no name (after nothing); every column"),
        ("activity.csv", '"customer_id", ,"type"', "column 2 has no name (after `customer_id`)"),
    ],
    ids=["customers-middle", "activity-first", "blank"],
)
def test_a_csv_column_without_a_name_is_named(
    table: str, header: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _acme_csv(tmp_path / "t")
    lines = (folder / table).read_text(encoding="utf-8").splitlines()
    (folder / table).write_text("\n".join([header, *lines[1:]]) + "\n", encoding="utf-8")
    code, out, err = backtest_acme(folder, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"ruleengine: error: `{folder}/{table}` line 1: {message}"), err
    assert err.count("\n") == 1
    assert _tree(tmp_path) == sorted(["t", *(f"t/{t}" for t in ("activity.csv", "customers.csv"))])


def test_a_table_both_as_parquet_and_csv_is_ambiguous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older Parquet export left beside a newer CSV one: reading either would silently
    drop the other's rows."""
    snapshots = example_snapshots("acme")
    folder = write_tables(tmp_path / "t", snapshots[:3], "parquet")
    write_tables(folder, snapshots, "csv")
    code, out, err = backtest_acme(folder, capsys=capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"ruleengine: error: `{folder}` has both `{folder}/customers.parquet` and "
        f"`{folder}/customers.csv`: which one is the customers table is ambiguous; move one "
        "of them out of the folder\n"
    )
