"""`ruleengine backtest` and `ruleengine diff`: the numbers are those of evaluating each
customer on its own, whatever the source (JSON Lines, Parquet, CSV, a DuckDB file), and bad
data gives a located message, an exit code and no half-written output.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmarks import data as generated

from ruleengine import Engine, load_ruleset
from ruleengine.backtest.differ import compare
from ruleengine.backtest.sources import split_snapshot
from ruleengine.backtest.tally import Tally
from ruleengine.cli import main

ROOT = Path(__file__).parent.parent
RULES = ROOT / "examples/rules"
SNAPSHOTS = ROOT / "examples/snapshots"
NOW = "2026-06-01T00:00:00Z"
NOW_DT = datetime(2026, 6, 1, tzinfo=UTC)
PROGRAMS = {
    "acme": "acme.yaml",
    "greenleaf": "greenleaf-market.yaml",
    "northwind": "northwind-coffee.yaml",
    "urban": "urban-threads.yaml",
    # the points ledger (redemptions, adjustments, expiry) and tiers (store tier changes),
    # whose activity the tables carry in their own columns
    "maple": "maple-loyalty.yaml",
    "aurora": "aurora-beauty.yaml",
}


def example_snapshots(program: str) -> list[dict[str, Any]]:
    """The program's example customers; one customer shown at two moments gets two ids, as a
    history holds each customer once."""
    snapshots = []
    seen: set[str] = set()
    for path in sorted(SNAPSHOTS.glob(f"{program}-*.json")):
        snapshot = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if snapshot["customer"]["id"] in seen:
            snapshot["customer"]["id"] += f"-{path.stem}"
        seen.add(snapshot["customer"]["id"])
        snapshots.append(snapshot)
    return snapshots


def history(count: int, seed: int = 15) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    customers = []
    for number in range(count):
        snapshot = generated.customer(number, rng.randint(0, 25), rng)
        customers.append(json.loads(json.dumps(snapshot), parse_float=Decimal))
    return customers


def write_jsonl(path: Path, snapshots: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(s, default=str) + "\n" for s in snapshots), encoding="utf-8")
    return path


def write_tables(folder: Path, snapshots: Iterable[dict[str, Any]], ext: str) -> Path:
    """The snapshots as a customers table and an activity table (all text columns)."""
    customers: list[dict[str, Any]] = []
    activity: list[dict[str, Any]] = []
    for snapshot in snapshots:
        row, rows = split_snapshot(snapshot)
        customers.append(row)
        activity.extend(rows)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("customers", customers), ("activity", activity)):
        columns = sorted({key for row in rows for key in row}, key=_column_order)
        table = pa.table(
            {c: pa.array([_text(row.get(c)) for row in rows], pa.string()) for c in columns}
        )
        if ext == "parquet":
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            import pyarrow.csv as pcsv

            pcsv.write_csv(table, folder / f"{name}.csv")
    return folder


def _column_order(name: str) -> tuple[int, str]:
    return (0 if name == "customer_id" else 1, name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def backtest_acme(
    customers: Path | str, *more: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`ruleengine backtest examples/rules/acme.yaml --customers CUSTOMERS --now NOW MORE...`."""
    return run(
        "backtest", str(RULES / "acme.yaml"), "--customers", str(customers), "--now", NOW, *more,
        capsys=capsys,
    )  # fmt: skip


def expected_tally(rules: Path, snapshots: list[dict[str, Any]], by_month: bool) -> dict[str, Any]:
    """What the report must say: each customer evaluated on its own, added up."""
    engine = Engine(load_ruleset(rules))
    tally = Tally(by_month=by_month)
    for snapshot in snapshots:
        tally.add(engine.evaluate(snapshot, now=NOW_DT))
    return tally.to_json()


def report_numbers(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("customers", "customers_with_decisions", "rows", "totals")}


# -- the numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("form", ["jsonl", "parquet", "csv"])
def test_backtest_of_examples_matches_single_evaluations(
    program: str, form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = example_snapshots(program)
    if form == "jsonl":
        data = write_jsonl(tmp_path / "customers.jsonl", snapshots)
    else:
        data = write_tables(tmp_path / "tables", snapshots, form)
    rules = RULES / PROGRAMS[program]
    code, out, err = run(
        "backtest",
        str(rules),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--by",
        "month",
        "--format",
        "json",
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    expected = expected_tally(rules, snapshots, by_month=True)
    assert report_numbers(json.loads(out)) == {k: expected[k] for k in report_numbers(expected)}


def test_backtest_of_examples_matches_the_eval_command(tmp_path: Path) -> None:
    """The same points as `ruleengine eval`, run as a host runs it, one customer at a time."""
    points = 0
    for path in sorted(SNAPSHOTS.glob("acme-*.json")):
        shown = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruleengine",
                "eval",
                str(RULES / "acme.yaml"),
                "--snapshot",
                str(path),
                "--now",
                NOW,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        for decision in json.loads(shown.stdout)["decisions"]:
            if decision["logic"] != "customer_picks" and decision["status"] != "pending":
                points += sum(
                    r.get("value", 0) for r in decision["rewards"] if r["type"] == "points"
                )
    data = write_tables(tmp_path / "t", example_snapshots("acme"), "parquet")
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruleengine",
            "backtest",
            str(RULES / "acme.yaml"),
            "--customers",
            str(data),
            "--now",
            NOW,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout)["totals"]["points"] == points


@pytest.mark.parametrize("form", ["jsonl", "parquet", "duckdb"])
def test_backtest_of_generated_history(
    form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = history(300)
    rules = RULES / "acme.yaml"
    if form == "jsonl":
        data = write_jsonl(tmp_path / "h.jsonl", snapshots)
    else:
        data = write_tables(tmp_path / "tables", snapshots, "parquet")
        if form == "duckdb":
            database = tmp_path / "history.duckdb"
            with duckdb.connect(str(database)) as connection:
                for table in ("customers", "activity"):
                    connection.execute(
                        f"CREATE TABLE {table} AS SELECT * FROM "
                        f"read_parquet('{data / (table + '.parquet')}')"
                    )
            data = database
    code, out, err = run(
        "backtest",
        str(rules),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--format",
        "json",
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    expected = expected_tally(rules, snapshots, by_month=False)
    assert report_numbers(json.loads(out)) == {k: expected[k] for k in report_numbers(expected)}


def test_typed_parquet_columns_read_like_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A warehouse export has DECIMAL amounts and TIMESTAMPTZ moments, not text."""
    snapshots = history(40, seed=3)
    folder = write_tables(tmp_path / "t", snapshots, "parquet")
    activity = pq.read_table(folder / "activity.parquet")
    typed = activity.set_column(
        activity.schema.get_field_index("subtotal"),
        "subtotal",
        pa.array(
            [None if v is None else Decimal(v) for v in activity["subtotal"].to_pylist()],
            pa.decimal128(12, 2),
        ),
    )
    moments = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in typed["at"].to_pylist()]
    typed = typed.set_column(
        typed.schema.get_field_index("at"), "at", pa.array(moments, pa.timestamp("us", "UTC"))
    )
    pq.write_table(typed, folder / "activity.parquet")
    code, out, _ = backtest_acme(folder, "--format", "json", capsys=capsys)
    assert code == 0
    expected = expected_tally(RULES / "acme.yaml", snapshots, by_month=False)
    assert json.loads(out)["totals"] == expected["totals"]


def test_reports_are_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_tables(tmp_path / "t", history(60), "parquet")
    outputs = set()
    for form in ("text", "markdown", "json", "text"):
        code, out, _ = backtest_acme(data, "--by", "month", "--format", form, capsys=capsys)
        assert code == 0
        outputs.add((form, out))
    assert len(outputs) == 3


# -- --out ------------------------------------------------------------------------------------


def test_out_writes_one_row_per_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = history(50)
    data = write_jsonl(tmp_path / "h.jsonl", snapshots)
    out = tmp_path / "out"
    code, _, _ = backtest_acme(data, "--out", str(out), capsys=capsys)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["decisions.parquet", "report.json"]
    table = pq.read_table(out / "decisions.parquet")
    engine = Engine(load_ruleset(RULES / "acme.yaml"))
    expected = [
        (s["customer"]["id"], d.key)
        for s in snapshots
        for d in engine.evaluate(s, now=NOW_DT).decisions
    ]
    assert (
        list(zip(table["customer_id"].to_pylist(), table["key"].to_pylist(), strict=True))
        == expected
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl", "out"]  # no staging left


def test_out_that_is_not_empty_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "h.jsonl", history(3))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("keep", encoding="utf-8")
    code, out, err = backtest_acme(data, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (2, "")
    assert "not an empty folder" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["old.txt"]


# -- bad data -----------------------------------------------------------------------------------


def _bad_activity(folder: Path, column: str, value: str | None) -> int:
    """Spoil the first row that has a value in `column`; its 1-based row number."""
    table = pq.read_table(folder / "activity.parquet")
    values = table[column].to_pylist()
    row = next(i for i, v in enumerate(values, start=1) if v is not None and i > 1)
    values[row - 1] = value
    index = table.schema.get_field_index(column)
    pq.write_table(
        table.set_column(index, column, pa.array(values, pa.string())), folder / "activity.parquet"
    )
    return row


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("subtotal", "12,50", "error[RE610] input should be a valid decimal"),
        ("at", "2026-02-01T12:00:00", "timestamp"),
        ("type", "ordr", "unknown activity type"),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(
    column: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = [s for s in history(20) if len(s["activity"]) > 3]
    folder = write_tables(tmp_path / "t", snapshots, "parquet")
    row = _bad_activity(folder, column, value)
    code, out, err = backtest_acme(folder, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (1, "")
    assert f"activity.parquet` row {row}, column `{column}`: " in err, err
    assert message in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_unknown_and_missing_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tables(tmp_path / "t", history(5), "csv")
    text = (folder / "activity.csv").read_text(encoding="utf-8")
    (folder / "activity.csv").write_text(text.replace('"subtotal"', '"subtotl"', 1), "utf-8")
    code, _, err = backtest_acme(folder, capsys=capsys)
    assert code == 1
    assert "unknown column `subtotl` (did you mean `subtotal`?)" in err
    (folder / "activity.csv").write_text(text.replace('"at"', '"when"', 1), "utf-8")
    code, _, err = backtest_acme(folder, capsys=capsys)
    assert code == 1
    assert "missing column `at`" in err


def test_a_malformed_parquet_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tables(tmp_path / "t", history(5), "parquet")
    (folder / "activity.parquet").write_bytes(b"PAR1 not really")
    code, out, err = backtest_acme(folder, capsys=capsys)
    assert (code, out) == (1, "")
    assert err.startswith("ruleengine: error: cannot read")
    assert "Traceback" not in err


def test_a_bad_csv_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshots = [
        {
            "customer": {"id": "c1"},
            "activity": [
                {"type": "review", "id": "r1", "at": "2026-02-01T00:00:00Z", "rating": 5},
                {"type": "review", "id": "r2", "at": "2026-02-02T00:00:00Z", "rating": 4},
            ],
        }
    ]
    folder = write_tables(tmp_path / "t", snapshots, "csv")
    text = (folder / "activity.csv").read_text(encoding="utf-8")
    (folder / "activity.csv").write_text(text.replace('"4"', '"four"'), "utf-8")
    code, _, err = backtest_acme(folder, capsys=capsys)
    assert code == 1
    assert "activity.csv` row 2, column `rating`: `four` is not a whole number" in err


def test_missing_data_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = backtest_acme(tmp_path / "none", capsys=capsys)
    assert code == 2
    assert "no such file or folder" in err


# -- diff ---------------------------------------------------------------------------------------


def changed_acme(tmp_path: Path) -> Path:
    text = (RULES / "acme.yaml").read_text(encoding="utf-8")
    assert "floor(order.subtotal * 5)" in text
    new = text.replace("floor(order.subtotal * 5)", "floor(order.subtotal * 6)")
    new = new.replace("order.subtotal >= 20", "order.subtotal >= 40")
    path = tmp_path / "acme-new.yaml"
    path.write_text(new, encoding="utf-8")
    return path


def test_diff_matches_two_backtests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshots = history(200)
    data = write_tables(tmp_path / "t", snapshots, "parquet")
    new = changed_acme(tmp_path)
    code, out, err = run(
        "diff",
        str(RULES / "acme.yaml"),
        str(new),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--format",
        "json",
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    old_tally = expected_tally(RULES / "acme.yaml", snapshots, by_month=False)
    new_tally = expected_tally(new, snapshots, by_month=False)
    assert report["totals"]["old_points"] == old_tally["totals"]["points"]
    assert report["totals"]["new_points"] == new_tally["totals"]["points"]
    old_engine, new_engine = Engine(load_ruleset(RULES / "acme.yaml")), Engine(load_ruleset(new))
    differing = sorted(
        s["customer"]["id"]
        for s in snapshots
        if not compare(
            "", old_engine.evaluate(s, now=NOW_DT), new_engine.evaluate(s, now=NOW_DT)
        ).empty
    )
    assert report["customers_changed"] == len(differing)
    assert [e["customer"] for e in report["examples"]] == differing[:5]
    row = next(r for r in report["rows"] if r["rule"] == "order-points")
    assert row["customers_losing"] > 0 and row["points_delta"] != 0


def test_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_jsonl(tmp_path / "h.jsonl", example_snapshots("acme"))
    code, out, _ = run(
        "diff",
        "HEAD:examples/rules/acme.yaml",
        str(RULES / "acme.yaml"),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--format",
        "markdown",
        capsys=capsys,
    )
    assert code == 0
    assert "No customer's decisions change." in out
    code, out, err = run(
        "diff",
        "no-such-revision:examples/rules/acme.yaml",
        str(RULES / "acme.yaml"),
        "--customers",
        str(data),
        "--now",
        NOW,
        capsys=capsys,
    )
    assert (code, out) == (2, "")
    assert "cannot read `no-such-revision:examples/rules/acme.yaml` from git" in err
    code, out, err = run(  # a folder at the revision was read as a rule file (RE105, exit 1)
        "diff", "HEAD:examples/rules", str(RULES / "acme.yaml"), "--customers", str(data),
        "--now", NOW, capsys=capsys,
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert "`examples/rules` is not a file at `HEAD`" in err


def test_diff_markdown_is_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_jsonl(tmp_path / "h.jsonl", history(80))
    new = changed_acme(tmp_path)
    argv = (
        "diff",
        str(RULES / "acme.yaml"),
        str(new),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--format",
        "markdown",
    )
    first = run(*argv, capsys=capsys)
    second = run(*argv, capsys=capsys)
    assert first == second
    assert first[1].startswith("## Rule change:")
    assert "| order-points | - |" in first[1]


def test_without_the_batch_extra_tables_say_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_tables(tmp_path / "t", history(2), "parquet")
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb -> ImportError
    code, out, err = backtest_acme(folder, capsys=capsys)
    assert (code, out) == (2, "")
    assert "pip install 'ruleengine[batch]'" in err


def test_diff_out_holds_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshots = history(30)
    data = write_jsonl(tmp_path / "h.jsonl", snapshots)
    new = changed_acme(tmp_path)
    code, _, _ = run(
        "diff",
        str(RULES / "acme.yaml"),
        str(new),
        "--customers",
        str(data),
        "--now",
        NOW,
        "--out",
        str(tmp_path / "out"),
        capsys=capsys,
    )
    assert code == 0
    table = pq.read_table(tmp_path / "out" / "decisions.parquet")
    old_engine, new_engine = Engine(load_ruleset(RULES / "acme.yaml")), Engine(load_ruleset(new))
    counts = {
        "old": sum(len(old_engine.evaluate(s, now=NOW_DT).decisions) for s in snapshots),
        "new": sum(len(new_engine.evaluate(s, now=NOW_DT).decisions) for s in snapshots),
    }
    sides = table["ruleset"].to_pylist()
    assert {side: sides.count(side) for side in ("old", "new")} == counts
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["kind"] == "diff"


def test_json_lines_bad_line_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.dumps(s, default=str) for s in history(3)]
    lines[1] = (
        lines[1].replace('"rating": ', '"rating": "x", "_": ', 1) if '"rating"' in lines[1] else "{"
    )
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = backtest_acme(path, capsys=capsys)
    assert (code, out) == (1, "")
    assert f"{path}:2: " in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_with_an_eta(tmp_path: Path) -> None:
    from ruleengine.backtest.run import CustomerProgress, progress_for
    from ruleengine.backtest.sources import open_source

    source = open_source(
        write_tables(tmp_path / "t", history(4), "parquet"),
        {"region": "string", "lifetime_value": "decimal?"},
    )
    assert progress_for(source, io.StringIO()) is None  # a log or a pipe: nothing drawn
    terminal = _Terminal()
    progress = progress_for(source, terminal)
    assert isinstance(progress, CustomerProgress) and progress.total == 4
    progress.advance(2)
    progress.draw(progress.started + 2.0)
    assert "2/4 customers   50%  1/s  2s  ETA 2s" in terminal.getvalue()


def test_duckdb_memory_limit_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_tables(tmp_path / "t", history(20), "parquet")
    argv = ("backtest", str(RULES / "acme.yaml"), "--customers", str(folder), "--now", NOW)
    monkeypatch.setenv("RULEENGINE_DUCKDB_MEMORY", "64MB")
    assert run(*argv, capsys=capsys)[0] == 0
    monkeypatch.setenv("RULEENGINE_DUCKDB_MEMORY", "lots")
    code, out, err = run(*argv, capsys=capsys)
    assert (code, out) == (2, "")
    assert "RULEENGINE_DUCKDB_MEMORY=`lots` is not a memory size" in err


# -- the points ledger's expiries ---------------------------------------------------------------

AFTER_EXPIRY = "2028-01-01T00:00:00Z"  # the maple customers' points have expired by then


def maple_backtest(
    rules: Path, data: Path, capsys: pytest.CaptureFixture[str], *command: str
) -> dict[str, Any]:
    code, out, err = run(
        *(command or ("backtest",)),
        *([str(RULES / "maple-loyalty.yaml")] if command else []),
        str(rules),
        "--customers",
        str(data),
        "--now",
        AFTER_EXPIRY,
        "--format",
        "json",
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    report: dict[str, Any] = json.loads(out)
    return report


def test_expired_points_are_taken_away_and_warnings_carry_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Expiries are not grants: the `points.expiry` row subtracts what each customer's
    balance says expired, and the warnings before it add nothing (they were counted as
    granted points, so a longer expiry showed in a diff as fewer points outstanding)."""
    snapshots = example_snapshots("maple")
    data = write_jsonl(tmp_path / "customers.jsonl", snapshots)
    engine = Engine(load_ruleset(RULES / "maple-loyalty.yaml"))
    now = datetime(2028, 1, 1, tzinfo=UTC)
    granted = expired = 0
    for snapshot in snapshots:
        result = engine.evaluate(snapshot, now=now)
        expired += result.ledger["balance"]["expired"]
        for decision in result.decisions:
            if decision.kind in ("reward", "tier_change") and decision.status != "pending":
                granted += sum(
                    int(r.value) for r in decision.rewards if r.type == "points" and r.value
                )
    assert expired > 0, "the example customers' points must have expired by then"
    report = maple_backtest(RULES / "maple-loyalty.yaml", data, capsys)
    expiry = [row for row in report["rows"] if row["rule"] == "points.expiry"]
    assert sum(row["points"] for row in expiry) == -expired
    assert report["totals"]["points"] == granted - expired

    longer = tmp_path / "maple-24mo.yaml"
    text = (RULES / "maple-loyalty.yaml").read_text(encoding="utf-8")
    assert "after: 12mo" in text
    longer.write_text(text.replace("after: 12mo", "after: 24mo"), encoding="utf-8")
    diff = maple_backtest(longer, data, capsys, "diff")
    kept = diff["totals"]["new_points"] - diff["totals"]["old_points"]
    assert kept > 0, "a longer expiry leaves more points outstanding"
    assert diff["totals"]["old_points"] == report["totals"]["points"]


def test_months_are_utc_months_and_ledger_problems_are_counted_per_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An expiry at 2027-04-01 03:30 UTC is 31 March in Toronto: it was counted in the
    ruleset's month (2027-03), the Spark path in UTC's. And the ledger's problems (RE618 for
    each redemption of an excluded customer) were one row per activity id, without bound."""
    signup = {"type": "signup", "id": "s1", "at": "2026-04-01T03:30:00Z"}
    early = {"customer": {"id": "x1"}, "activity": [signup], "granted": []}
    nadia = json.loads((SNAPSHOTS / "maple-nadia.json").read_text(encoding="utf-8"))
    nadia["customer"]["excluded"] = True
    data = write_jsonl(tmp_path / "customers.jsonl", [early, nadia])
    code, out, err = run(
        "backtest", str(RULES / "maple-loyalty.yaml"), "--customers", str(data),
        "--now", AFTER_EXPIRY, "--by", "month", "--format", "json", capsys=capsys,
    )  # fmt: skip
    assert (code, err) == (0, "")
    report = json.loads(out)
    expiry = [r for r in report["rows"] if r["rule"] == "points.expiry" and r["points"] < 0]
    assert [r["month"] for r in expiry] == ["2027-04"]
    redemptions = sum(1 for a in nadia["activity"] if a["type"] == "redemption")
    assert redemptions > 1
    assert report["problems"] == [{"rule": "points", "code": "RE618", "customers": 1}]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"customer": {"id": "z\xe9"}, "activity": []}', "1:23: the line is not UTF-8 text"),
        (b'{"customer": {"id": "c"}, "n": ' + b"9" * 5_000 + b"}", "RE614 a number of 5,000"),
    ],
)
def test_a_line_that_is_not_utf8_or_holds_a_huge_number_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: bytes, message: str
) -> None:
    """Both ended in an internal error (exit 101): UnicodeDecodeError, and Python's limit
    of 4,300 digits for an int."""
    data = tmp_path / "customers.jsonl"
    data.write_bytes(line + b"\n")
    code, _, err = backtest_acme(data, capsys=capsys)
    assert code == 1 and message in err, err


def test_markdown_shows_customer_data_as_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A diff's Markdown is posted as a pull request comment: ids and explanations with
    backticks, emphasis, pipes or HTML broke its code spans and rendered as markup."""
    snapshot = json.loads((SNAPSHOTS / "acme-maria.json").read_text(encoding="utf-8"))
    snapshot["customer"]["id"] = "we`ird <b>x</b>"
    odd = "o|1 *big* <img src=x>"
    for activity in snapshot["activity"]:
        if activity["type"] == "order":
            activity["id"] = odd
            break
    data = write_jsonl(tmp_path / "customers.jsonl", [snapshot])
    code, out, err = run(
        "diff", str(RULES / "acme.yaml"), str(ROOT / "examples/history/acme-proposed.yaml"),
        "--customers", str(data), "--now", NOW, "--format", "markdown", capsys=capsys,
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert "**Customer ``we`ird <b>x</b>``**" in out
    odd_lines = [line for line in out.splitlines() if "img src" in line]
    assert odd_lines
    for line in odd_lines:  # in a code span (the keys) or escaped (the explanations)
        assert "\\<img" in line or "`order-points/o|1 *big* <img src=x>`" in line, line


def test_ledger_activity_has_columns_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redemptions, adjustments and tier changes were readable only through `fields` (a
    CSV with a `program` column was "unknown column `program`"); the tables now have their
    columns, and give what the JSON Lines give."""
    snapshots = example_snapshots("maple")
    folder = write_tables(tmp_path / "t", snapshots, "csv")
    header = (folder / "activity.csv").read_text(encoding="utf-8").splitlines()[0]
    assert {'"program"', '"coupon"', '"points"'} <= set(header.split(","))
    lines = write_jsonl(tmp_path / "customers.jsonl", snapshots)
    reports = []
    for data in (folder, lines):
        code, out, err = run(
            "backtest", str(RULES / "maple-loyalty.yaml"), "--customers", str(data),
            "--now", AFTER_EXPIRY, "--format", "json", capsys=capsys,
        )  # fmt: skip
        assert (code, err) == (0, ""), err
        reports.append(report_numbers(json.loads(out)))
    assert reports[0] == reports[1]


def test_an_integer_customer_id_column_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check for empty ids compared an INT column with '' (DuckDB's conversion error,
    naming no row or column)."""
    folder = tmp_path / "t"
    folder.mkdir()
    pq.write_table(
        pa.table({"customer_id": pa.array([7], pa.int32())}), folder / "customers.parquet"
    )
    activity = {
        "customer_id": pa.array([7], pa.int32()),
        "type": ["signup"],
        "id": ["s1"],
        "at": ["2026-01-01T00:00:00Z"],
    }
    pq.write_table(pa.table(activity), folder / "activity.parquet")
    code, _, err = backtest_acme(folder, capsys=capsys)
    assert code == 1 and "row 1, column `customer_id`" in err, err
