"""`ruleengine.spark` on Spark `local[2]`: exactly the decisions, and the same report, as the
local path on the same data.

These tests fail (never skip) when Java or pyspark is missing: the full suite needs both, and
`scripts/setup-system` installs Java.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ruleengine import Engine, load_ruleset
from ruleengine.backtest.output import DecisionColumns
from ruleengine.backtest.sources import SourceError
from ruleengine.backtest.tally import Tally
from test_backtest import RULES, example_snapshots, history, write_tables

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole test session (it takes seconds to start)."""
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java 17: run scripts/setup-system")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail("pyspark is missing: pip install -e '.[dev]' (and run scripts/setup-system)")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The Python workers must import ruleengine: the interpreter running the tests has it.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("ruleengine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def frames(spark: Any, folder: Path) -> tuple[Any, Any]:
    return (
        spark.read.parquet(str(folder / "customers.parquet")),
        spark.read.parquet(str(folder / "activity.parquet")),
    )


def local_rows(rules: Path, snapshots: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    engine = Engine(load_ruleset(rules))
    columns = DecisionColumns()
    for snapshot in snapshots:
        result = engine.evaluate(snapshot, now=NOW)
        columns.add("rules", snapshot["customer"]["id"], result.decisions)
    return sorted(zip(*columns.rows.values(), strict=True), key=_order)


def _order(row: tuple[Any, ...]) -> tuple[str, str]:
    return row[1], row[2]


def spark_rows(decisions: Any) -> list[tuple[Any, ...]]:
    rows = []
    for row in decisions.collect():
        values = list(row)
        for index in (8, 9):  # Spark returns naive UTC datetimes (session zone UTC)
            if values[index] is not None:
                values[index] = values[index].replace(tzinfo=UTC)
        rows.append(tuple(values))
    return sorted(rows, key=_order)


@pytest.mark.parametrize(
    ("rules", "snapshots"),
    [
        ("acme.yaml", lambda: history(80)),
        ("greenleaf-market.yaml", lambda: example_snapshots("greenleaf")),
        ("urban-threads.yaml", lambda: example_snapshots("urban")),
    ],
    ids=["acme-generated", "greenleaf-examples", "urban-examples"],
)
def test_spark_gives_exactly_the_local_decisions(
    spark: Any, rules: str, snapshots: Any, tmp_path: Path
) -> None:
    from ruleengine.spark import evaluate_dataframe, tally_decisions

    data = snapshots()
    folder = write_tables(tmp_path / "t", data, "parquet")
    customers, activity = frames(spark, folder)
    text = (RULES / rules).read_text(encoding="utf-8")
    decisions = evaluate_dataframe(customers, activity, text, now=NOW, name=rules)
    assert spark_rows(decisions) == local_rows(RULES / rules, data)

    engine = Engine(load_ruleset(RULES / rules))
    tally = Tally(by_month=True)
    for snapshot in data:
        tally.add(engine.evaluate(snapshot, now=NOW))
    expected = tally.to_json()
    report = tally_decisions(decisions, customers=customers.count(), by_month=True)
    assert report["rows"] == expected["rows"]
    assert report["totals"] == expected["totals"]
    assert report["customers_with_decisions"] == expected["customers_with_decisions"]


def test_spark_refuses_an_unknown_column(spark: Any, tmp_path: Path) -> None:
    from ruleengine.spark import evaluate_dataframe

    folder = write_tables(tmp_path / "t", history(3), "parquet")
    customers, activity = frames(spark, folder)
    text = (RULES / "acme.yaml").read_text(encoding="utf-8")
    with pytest.raises(SourceError, match="unknown column `subtotl`"):
        evaluate_dataframe(
            customers, activity.withColumnRenamed("subtotal", "subtotl"), text, now=NOW
        )


def test_spark_output_reads_back_like_the_local_parquet(spark: Any, tmp_path: Path) -> None:
    """The decisions DataFrame has the columns of `decisions.parquet`."""
    from ruleengine.spark import evaluate_dataframe

    folder = write_tables(tmp_path / "t", history(20), "parquet")
    customers, activity = frames(spark, folder)
    text = (RULES / "acme.yaml").read_text(encoding="utf-8")
    decisions = evaluate_dataframe(customers, activity, text, now=NOW)
    decisions.write.parquet(str(tmp_path / "spark-out"))
    table = pq.read_table(tmp_path / "spark-out")
    assert table.column_names == list(DecisionColumns.NAMES)
    assert json.loads(table["rewards"][0].as_py())


def _without_gold(tmp_path: Path) -> Path:
    """aurora-beauty without its Gold level: the same tier keys, from other levels."""
    text = (RULES / "aurora-beauty.yaml").read_text(encoding="utf-8")
    gold = (
        "    - id: gold\n      name: Gold\n      threshold: 300\n"
        "      reward: {rewards: [{points: 150}]}\n"
    )
    assert gold in text
    path = tmp_path / "aurora-no-gold.yaml"
    path.write_text(text.replace(gold, ""), encoding="utf-8")
    return path


@pytest.mark.parametrize("program", ["acme", "aurora"])
def test_spark_diff_matches_the_local_diff(spark: Any, tmp_path: Path, program: str) -> None:
    """For aurora, decisions that keep their key but change their tier levels (from Gold to
    Platinum, now from Insider) are changed; Spark compared neither kind nor levels."""
    from ruleengine.backtest.differ import Differ
    from ruleengine.spark import diff_decisions, evaluate_dataframe
    from test_backtest import changed_acme

    data = history(80, seed=8)
    if program == "aurora":  # aurora declares none of acme's customer attributes
        for snapshot in data:
            snapshot["customer"] = {"id": snapshot["customer"]["id"]}
    folder = write_tables(tmp_path / "t", data, "parquet")
    customers, activity = frames(spark, folder)
    old_path = RULES / ("acme.yaml" if program == "acme" else "aurora-beauty.yaml")
    new_path = changed_acme(tmp_path) if program == "acme" else _without_gold(tmp_path)
    old_text = old_path.read_text(encoding="utf-8")
    new_text = new_path.read_text(encoding="utf-8")
    old = evaluate_dataframe(customers, activity, old_text, now=NOW, ruleset="old")
    new = evaluate_dataframe(customers, activity, new_text, now=NOW, ruleset="new")
    report = diff_decisions(old, new, customers=customers.count(), by_month=True)

    old_engine, new_engine = Engine(load_ruleset(old_path)), Engine(load_ruleset(new_path))
    differ = Differ(by_month=True)
    for snapshot in data:
        differ.add(
            snapshot["customer"]["id"],
            snapshot,
            old_engine.evaluate(snapshot, now=NOW),
            new_engine.evaluate(snapshot, now=NOW),
        )
    assert report["rows"] == differ.rows()
    assert report["totals"] == differ.totals()
    assert report["customers_changed"] == differ.customers_changed
    if program == "aurora":
        tiers = [row for row in report["rows"] if row["rule"] == "tiers"]
        assert any(row["changed"] for row in tiers), "no tier decision changed its levels"


def test_spark_carries_the_runtime_problems_the_local_path_reports(
    spark: Any, tmp_path: Path
) -> None:
    """A points formula that divides by zero for one order: the local result has an RE601
    problem for that customer and no decision for the order; Spark's results have the same
    decisions and the same problem, and its report counts it as the local tally does."""
    from ruleengine.spark import decisions_of, evaluate_results, problems_of, tally_decisions

    text = (RULES / "acme.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "floor(order.subtotal * 5)", "floor(order.subtotal / (order.subtotal - 20))"
    )
    rules = tmp_path / "acme-divides.yaml"
    rules.write_text(text, encoding="utf-8")
    data = history(40, seed=3)
    broken = next(s for s in data if any(a["type"] == "order" for a in s["activity"]))
    order = next(a for a in broken["activity"] if a["type"] == "order")
    order.update(subtotal="20.00", channel="online")
    order.pop("refunded_at", None)
    order.pop("refunded_amount", None)

    engine = Engine(load_ruleset(rules))
    local = [engine.evaluate(s, now=NOW) for s in data]
    expected_problems = sorted(
        (r.customer, p.rule, p.code, p.message, p.file, p.line, p.column)
        for r in local
        for p in r.problems
    )
    assert [(c, code) for c, _, code, *_ in expected_problems] == [
        (broken["customer"]["id"], "RE601")
    ]

    folder = write_tables(tmp_path / "t", data, "parquet")
    customers, activity = frames(spark, folder)
    results = evaluate_results(customers, activity, text, now=NOW, name=str(rules)).cache()
    assert spark_rows(decisions_of(results)) == local_rows(rules, data)
    problems = sorted(
        (r["customer_id"], r["rule"], r["code"], r["message"], r["file"], r["line"], r["column"])
        for r in problems_of(results).collect()
    )
    assert problems == expected_problems

    tally = Tally()
    for result in local:
        tally.add(result)
    report = tally_decisions(
        decisions_of(results), customers=len(data), problems=problems_of(results)
    )
    assert report["problems"] == tally.to_json()["problems"]
    assert report["totals"] == tally.to_json()["totals"]


def test_spark_months_and_ledger_problems_match_the_local_tally_in_any_session_zone(
    spark: Any, tmp_path: Path
) -> None:
    """Months are UTC months on both paths whatever `spark.sql.session.timeZone` says (the
    tally used the session's), and the ledger's problems are counted under `points` per code,
    as the local tally counts them."""
    from ruleengine.spark import decisions_of, evaluate_results, problems_of, tally_decisions

    now = datetime(2028, 1, 1, tzinfo=UTC)
    signup = {"type": "signup", "id": "s1", "at": "2026-04-01T03:30:00Z"}
    data = [{"customer": {"id": "x1"}, "activity": [signup], "granted": []}]
    for snapshot in example_snapshots("maple"):
        snapshot["customer"]["excluded"] = True  # RE618 for each of its redemptions
        data.append(snapshot)
    rules = RULES / "maple-loyalty.yaml"
    tally = Tally(by_month=True)
    engine = Engine(load_ruleset(rules))
    for snapshot in data:
        tally.add(engine.evaluate(snapshot, now=now))
    expected = tally.to_json()
    assert expected["problems"] == [{"rule": "points", "code": "RE618", "customers": 2}]
    folder = write_tables(tmp_path / "t", data, "parquet")
    customers, activity = frames(spark, folder)
    text = rules.read_text(encoding="utf-8")
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        results = evaluate_results(customers, activity, text, now=now, name=str(rules)).cache()
        report = tally_decisions(
            decisions_of(results),
            customers=customers.count(),
            by_month=True,
            problems=problems_of(results),
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert report["rows"] == expected["rows"]
    assert report["problems"] == expected["problems"]


def test_spark_refuses_a_customer_twice_and_activity_without_a_customer(
    spark: Any, tmp_path: Path
) -> None:
    """The local path refuses both; Spark counted the customer twice and dropped the row."""
    from ruleengine.spark import evaluate_dataframe

    folder = write_tables(tmp_path / "t", history(3), "parquet")
    customers, activity = frames(spark, folder)
    text = (RULES / "acme.yaml").read_text(encoding="utf-8")
    with pytest.raises(SourceError, match=r"error\[RE650\] customer `.*` appears more than once"):
        evaluate_dataframe(customers.union(customers.limit(1)), activity, text, now=NOW)
    with pytest.raises(SourceError, match="is not in `customers`"):
        evaluate_dataframe(customers.limit(2), activity, text, now=NOW)
