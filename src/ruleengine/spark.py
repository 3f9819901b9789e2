"""Backtests on Apache Spark: the same decisions as the local path, over a cluster's data.

    from ruleengine.spark import decisions_of, evaluate_results, problems_of, tally_decisions
    results = evaluate_results(customers, activity, rules_text, now=now, name="acme.yaml")
    results = results.cache()  # decisions and problems come from one evaluation
    report = tally_decisions(decisions_of(results), customers=customers.count(),
                             by_month=True, problems=problems_of(results))

`customers` and `activity` are Spark DataFrames in the table layout of docs/batch.md (the
layout `ruleengine backtest` reads from Parquet, CSV or DuckDB). Each customer's activity is
gathered next to its customers row (a `collect_list` of structs, grouped by `customer_id`),
and `mapInArrow` hands the rows to Python a record batch at a time; each batch is assembled
into snapshots by the very function the DuckDB path uses (`layout.assemble_customer`), so
both paths read a row alike. The ruleset travels as its text and is compiled once per
executor process (`batch.engine_for_text` caches it by content; Python workers are reused).

The results are one row per decision, with the columns of `decisions.parquet`
(`output.DecisionColumns.NAMES`), and one row per runtime problem (the `RuntimeProblem`
fields: a division by zero in a points formula is data, as in the local result, not a failed
job); `evaluate_dataframe` gives the decisions alone. `tally_decisions` adds them up with Spark SQL
into the same document as `Tally.to_json`: money summed as exact decimals and written as the
local path writes it (`tally.money_json`), rewards counted per type, percentage and product
from the decisions' `rewards` JSON, so the two reports are equal, not just close.

Needs the `ruleengine[spark]` extra and Java 17 (`scripts/setup-system` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ruleengine.backtest.layout import (
    ACTIVITY_COLUMNS,
    CUSTOMER_COLUMNS,
    ROW_COLUMN,
    SourceError,
    arrow_rows,
    assemble_customer,
    attribute_kinds,
)
from ruleengine.backtest.output import DecisionColumns, decision_columns, decision_schema
from ruleengine.backtest.parallel import read
from ruleengine.backtest.tally import LEDGER_PROBLEMS, NOT_REWARDS, Totals, reward_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_ACTIVITY = "_activity"


PROBLEM_COLUMNS = ("code", "message", "file", "line", "column", "path", "amount")
"""A runtime problem's fields (`RuntimeProblem`), beside `ruleset`, `customer_id` and `rule`."""


def evaluate_results(
    customers: DataFrame,
    activity: DataFrame,
    rules_text: str,
    *,
    now: datetime,
    name: str = "<rules>",
    ruleset: str = "rules",
) -> DataFrame:
    """Everything the rules decided for every customer in `customers`: one row per decision
    (`kind = 'decision'`, the columns of `decisions.parquet`) and one per runtime problem
    (`kind = 'problem'`: `rule` and `PROBLEM_COLUMNS`, such as a division by zero in a
    points formula, RE601), in one pass. `decisions_of` and `problems_of` split it; cache it
    (`.cache()`) to use both without evaluating twice.

    Raises `SourceError` at once for a missing or unknown column, a customer twice or an
    activity row whose customer is not in `customers`; a customer whose data breaks
    the snapshot contract fails the Spark job with the same located message as the local path.
    """
    from pyspark.sql import functions as f

    from ruleengine.engine.engine import engine_for_text

    engine = engine_for_text(rules_text, name)  # checks the rules here, before any job
    attributes = {k: str(v) for k, v in engine.ruleset.model.attributes.items()}
    customer_kinds = _kinds(customers.columns, CUSTOMER_COLUMNS, attributes, "customers")
    activity_kinds = _kinds(activity.columns, ACTIVITY_COLUMNS, {}, "activity")
    for required in ("customer_id", "type", "id", "at"):
        if required not in activity.columns:
            raise SourceError(f"`activity`: missing column `{required}`")
    if "customer_id" not in customers.columns:
        raise SourceError("`customers`: missing column `customer_id`")
    _check_keys(customers, activity)

    # The order of a customer's activity does not matter (the engine orders it in time, ties
    # by type and id), so no sort: a numbered row only helps a problem name its place.
    numbered = activity.withColumn(ROW_COLUMN, f.monotonically_increasing_id() + 1)
    entry = f.struct(*[f.col(c) for c in numbered.columns])
    grouped = numbered.groupBy("customer_id").agg(f.collect_list(entry).alias(_ACTIVITY))
    rows = customers.withColumn(ROW_COLUMN, f.lit(0).cast("long")).join(
        grouped, "customer_id", "left"
    )

    def evaluate(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        local = engine_for_text(rules_text, name)  # once per executor process
        arrow_schema = _arrow_results_schema()
        for batch in batches:
            columns = decision_columns()
            problems: dict[str, list[Any]] = {c: [] for c in (*_SHARED, *PROBLEM_COLUMNS)}
            for row in arrow_rows(batch):
                # nested activity structs keep their null cells: drop them, as arrow_rows does
                row[_ACTIVITY] = [
                    {k: v for k, v in entry.items() if v is not None}
                    for entry in row.get(_ACTIVITY) or ()
                ]
                customer = assemble_customer(
                    row, customer_kinds, activity_kinds, "customers", "activity"
                )
                result = local.evaluate(read(local, customer), now=now)
                columns.add(ruleset, customer.id, result.decisions)
                for problem in result.problems:
                    problems["ruleset"].append(ruleset)
                    problems["customer_id"].append(customer.id)
                    problems["rule"].append(problem.rule)
                    for column in PROBLEM_COLUMNS:
                        problems[column].append(getattr(problem, column))
            found, decided = len(problems["rule"]), len(columns)
            data = {
                k: v + (problems[k] if k in _SHARED else [None] * found)
                for k, v in columns.rows.items()
            }
            data.update({k: [None] * decided + problems[k] for k in PROBLEM_COLUMNS})
            data["kind"] = ["decision"] * decided + ["problem"] * found
            yield pa.RecordBatch.from_pydict(data, schema=arrow_schema)

    return rows.mapInArrow(evaluate, _spark_results_schema())


_SHARED = ("ruleset", "customer_id", "rule")  # decision and problem rows both fill these


def decisions_of(results: DataFrame) -> DataFrame:
    """The decisions of `evaluate_results`: the columns of `decisions.parquet`."""
    return results.where("kind = 'decision'").select(*DecisionColumns.NAMES)


def problems_of(results: DataFrame) -> DataFrame:
    """The runtime problems of `evaluate_results`: one row per problem and customer."""
    return results.where("kind = 'problem'").select(
        "ruleset", "customer_id", "rule", *PROBLEM_COLUMNS
    )


def evaluate_dataframe(
    customers: DataFrame,
    activity: DataFrame,
    rules_text: str,
    *,
    now: datetime,
    name: str = "<rules>",
    ruleset: str = "rules",
) -> DataFrame:
    """A DataFrame of decisions, one row per decision, of every customer in `customers`
    (`decisions_of(evaluate_results(...))`; use `evaluate_results` for the runtime problems
    too)."""
    results = evaluate_results(customers, activity, rules_text, now=now, name=name, ruleset=ruleset)
    return decisions_of(results)


def _kinds(
    columns: list[str], known: dict[str, str], attributes: dict[str, str], table: str
) -> dict[str, str]:
    kinds: dict[str, str] = {}
    attribute = attribute_kinds(attributes)
    for column in columns:
        if column in known:
            kinds[column] = known[column]
        elif column in attribute:
            kinds[column] = attribute[column]
        else:
            raise SourceError(f"`{table}`: unknown column `{column}`")
    return kinds


def _arrow_results_schema() -> Any:
    import pyarrow as pa

    problem = [
        ("code", pa.string()),
        ("message", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("column", pa.int64()),
        ("path", pa.string()),
        ("amount", pa.int64()),
    ]
    return pa.schema([*decision_schema(), *problem, ("kind", pa.string())])


def _spark_results_schema() -> Any:
    from pyspark.sql.types import (
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampType,
    )

    text = StringType()
    return StructType(
        [
            StructField("ruleset", text),
            StructField("customer_id", text),
            StructField("key", text),
            StructField("rule", text),
            StructField("step", IntegerType()),
            StructField("status", text),
            StructField("logic", text),
            StructField("pick", IntegerType()),
            StructField("achieved_at", TimestampType()),
            StructField("available_at", TimestampType()),
            StructField("qualifying", text),
            StructField("points", LongType()),
            StructField("store_credit", text),
            StructField("discount_amount", text),
            StructField("rewards", text),
            StructField("decision_kind", text),
            StructField("tier_change", text),
            StructField("code", text),
            StructField("message", text),
            StructField("file", text),
            StructField("line", LongType()),
            StructField("column", LongType()),
            StructField("path", text),
            StructField("amount", LongType()),
            StructField("kind", text),
        ]
    )


def _check_keys(customers: DataFrame, activity: DataFrame) -> None:
    """Each customer once, each activity row with a customer, as the local path checks
    (`backtest.sources`): a customer twice would count twice, an activity row with no
    customer would be dropped, both without a word. Two small jobs, before the evaluation."""
    twice = customers.groupBy("customer_id").count().where("count > 1").limit(1).collect()
    if twice:
        raise SourceError(
            f"`customers`, column `customer_id`: error[RE650] customer "
            f"`{twice[0]['customer_id']}` appears more than once"
        )
    orphan = activity.join(customers, "customer_id", "left_anti").limit(1).collect()
    if orphan:
        raise SourceError(
            f"`activity`: customer `{orphan[0]['customer_id']}` is not in `customers`"
        )


# -- aggregation with Spark SQL -----------------------------------------------------------------


def _utc_month(column: str) -> str:
    """The UTC month of a timestamp, whatever the session's time zone (`date_format` writes
    the session's wall time; shifting by it first gives UTC's)."""
    return f"date_format(to_utc_timestamp({column}, current_timezone()), 'yyyy-MM')"


_REWARDS = "array<struct<type:string,value:string,product:string>>"


def tally_decisions(
    decisions: DataFrame,
    *,
    customers: int,
    by_month: bool = False,
    problems: DataFrame | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The decisions added up per rule and step (and UTC month of `achieved_at`), as
    `Tally.to_json(currency)` gives them for the same customers (money with `currency`'s
    minor-unit digits, the ruleset's `currency`); `problems` (`problems_of`) fills the
    report's `problems`: customers per rule and problem code, as the local path counts them."""
    groups, total, with_decisions = _tally_groups(decisions, by_month)
    rows = []
    for key in sorted(groups, key=_sort_key):
        rule, step, month = key
        entry: dict[str, Any] = {"rule": rule, "step": step}
        if by_month:
            entry["month"] = month
        entry.update(groups[key].to_json(currency))
        rows.append(entry)
    return {
        "customers": customers,
        "customers_with_decisions": with_decisions,
        "rows": rows,
        "totals": total.to_json(currency),
        "problems": _problem_counts(problems),
    }


def _tally_groups(
    decisions: DataFrame, by_month: bool
) -> tuple[dict[tuple[str, int | None, str], Totals], Totals, int]:
    """Each group's `Totals` (as `Tally` adds them up), the sums over all, and the customers
    with any decision: two Spark SQL aggregations, the sums and the rewards' counts."""
    decisions.createOrReplaceTempView("ruleengine_decisions")
    session = decisions.sparkSession
    month = _utc_month("achieved_at") if by_month else "''"
    picks = "logic = 'customer_picks'"
    sums = f"""
        count(*) AS decisions,
        count(DISTINCT customer_id) AS customers,
        sum(CASE WHEN status = 'granted' THEN 1 ELSE 0 END) AS granted,
        sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
        sum(CASE WHEN status = 'reversed' THEN 1 ELSE 0 END) AS reversed,
        sum(CASE WHEN {picks} THEN 1 ELSE 0 END) AS choices,
        sum(CASE WHEN status <> 'pending' THEN points ELSE 0 END) AS points,
        sum(CASE WHEN status = 'pending' THEN points ELSE 0 END) AS pending_points,
        CAST(sum(CASE WHEN status <> 'pending' THEN CAST(store_credit AS DECIMAL(38, 10))
             ELSE 0 END) AS STRING) AS store_credit,
        CAST(sum(CASE WHEN status <> 'pending' THEN CAST(discount_amount AS DECIMAL(38, 10))
             ELSE 0 END) AS STRING) AS discount_amount
    """
    grouped = session.sql(
        f"SELECT rule, step, {month} AS month, {sums} FROM ruleengine_decisions "
        "GROUP BY rule, step, month"
    ).collect()
    everything = session.sql(f"SELECT {sums} FROM ruleengine_decisions").collect()[0]
    # The rewards `value_of` counts: a granted reward decision's, not a choice's; the
    # percentage (as the rewards' JSON writes it) or product names the unvalued ones.
    counted = session.sql(
        f"""
        SELECT rule, step, {month} AS month, r.type AS type,
               CASE WHEN r.type = 'discount_percentage' THEN r.value
                    WHEN r.type = 'free_gift' THEN r.product ELSE '' END AS detail,
               count(*) AS n
        FROM ruleengine_decisions
        LATERAL VIEW explode(from_json(rewards, '{_REWARDS}')) AS r
        WHERE status = 'granted' AND coalesce(logic, '') <> 'customer_picks'
          AND coalesce(decision_kind, '') NOT IN {tuple(NOT_REWARDS)!r}
        GROUP BY rule, step, month, type, detail
        """
    ).collect()
    groups = {(r["rule"], r["step"], r["month"]): _totals(r) for r in grouped}
    total = _totals(everything) if everything["decisions"] else Totals()
    for r in counted:
        key = reward_key(r["type"], r["detail"] or None, r["detail"])
        for totals in (groups[(r["rule"], r["step"], r["month"])], total):
            totals.rewards[key] = totals.rewards.get(key, 0) + int(r["n"])
    return groups, total, int(everything["customers"])


def _problem_counts(problems: DataFrame | None) -> list[dict[str, Any]]:
    if problems is None:
        return []
    from pyspark.sql import functions as f

    # a points-ledger problem (it has a `path`) is counted under the ledger, as `Tally` does
    rule = f.when(f.col("path").isNotNull(), f.lit(LEDGER_PROBLEMS)).otherwise(f.col("rule"))
    rows = (
        problems.withColumn("rule", rule)
        .groupBy("rule", "code")
        .agg(f.countDistinct("customer_id").alias("customers"))
        .collect()
    )
    return [
        {"rule": r["rule"], "code": r["code"], "customers": int(r["customers"])}
        for r in sorted(rows, key=lambda r: (r["rule"], r["code"]))
    ]


def _totals(row: Any) -> Totals:
    return Totals(
        decisions=int(row["decisions"]),
        customers=int(row["customers"]),
        granted=int(row["granted"]),
        pending=int(row["pending"]),
        reversed=int(row["reversed"]),
        choices=int(row["choices"]),
        points=int(row["points"] or 0),
        pending_points=int(row["pending_points"] or 0),
        store_credit=Decimal(row["store_credit"] or "0"),
        discount_amount=Decimal(row["discount_amount"] or "0"),
    )


_SAME = " AND ".join(
    f"o.{c} <=> n.{c}"
    for c in (
        "logic",
        "pick",
        "rewards",
        "achieved_at",
        "qualifying",
        "status",
        "available_at",
        "decision_kind",
        "tier_change",
    )
)


def diff_decisions(
    old: DataFrame,
    new: DataFrame,
    *,
    customers: int,
    by_month: bool = False,
    currency: str | None = None,
) -> dict[str, Any]:
    """Two rulesets' decisions (from `evaluate_dataframe` on the same customers) compared with
    Spark SQL: the `rows` and `totals` of the local diff report (without the examples, which
    the local command explains), matching decisions by customer and key; money with
    `currency`'s minor-unit digits (the new ruleset's currency)."""
    from ruleengine.backtest.differ import Movement, compare_totals

    session = old.sparkSession
    old.createOrReplaceTempView("ruleengine_old")
    new.createOrReplaceTempView("ruleengine_new")
    side = "coalesce(n.{c}, o.{c})"
    month = _utc_month(side.format(c="achieved_at")) if by_month else "''"
    changes = session.sql(
        f"""
        SELECT {side.format(c="rule")} AS rule, {side.format(c="step")} AS step,
               {month} AS month,
               coalesce(n.customer_id, o.customer_id) AS customer_id,
               CASE WHEN o.key IS NULL THEN 'gained' WHEN n.key IS NULL THEN 'lost'
                    ELSE 'changed' END AS change
        FROM ruleengine_old o FULL OUTER JOIN ruleengine_new n
          ON o.customer_id = n.customer_id AND o.key = n.key
        WHERE o.key IS NULL OR n.key IS NULL OR NOT ({_SAME})
        """
    )
    changes.createOrReplaceTempView("ruleengine_changes")
    moved = session.sql(
        """
        SELECT rule, step, month,
               sum(CASE WHEN change = 'gained' THEN 1 ELSE 0 END) AS gained,
               sum(CASE WHEN change = 'lost' THEN 1 ELSE 0 END) AS lost,
               sum(CASE WHEN change = 'changed' THEN 1 ELSE 0 END) AS changed,
               count(DISTINCT CASE WHEN change = 'gained' THEN customer_id END) AS gaining,
               count(DISTINCT CASE WHEN change = 'lost' THEN customer_id END) AS losing,
               count(DISTINCT CASE WHEN change = 'changed' THEN customer_id END) AS changing
        FROM ruleengine_changes GROUP BY rule, step, month
        """
    ).collect()
    changed_customers = session.sql(
        "SELECT count(DISTINCT customer_id) AS n FROM ruleengine_changes"
    ).collect()[0]["n"]
    movements = {
        (r["rule"], r["step"], r["month"]): Movement(
            int(r["gained"]),
            int(r["lost"]),
            int(r["changed"]),
            int(r["gaining"]),
            int(r["losing"]),
            int(r["changing"]),
        )
        for r in moved
    }
    before, before_total, _ = _tally_groups(old, by_month)
    after, after_total, _ = _tally_groups(new, by_month)
    rows = []
    for key in sorted(set(before) | set(after) | set(movements), key=_sort_key):
        rule, step, group_month = key
        row: dict[str, Any] = {"rule": rule, "step": step}
        if by_month:
            row["month"] = group_month
        row.update(
            compare_totals(
                before.get(key, Totals()),
                after.get(key, Totals()),
                movements.get(key, Movement()),
                currency,
            )
        )
        rows.append(row)
    total = Movement()
    for each in movements.values():
        total.gained += each.gained
        total.lost += each.lost
        total.changed += each.changed
    totals = compare_totals(before_total, after_total, total, currency)
    for name in ("customers_gaining", "customers_losing", "customers_changed"):
        del totals[name]
    return {
        "customers": customers,
        "customers_changed": int(changed_customers),
        "rows": rows,
        "totals": totals,
    }


def _sort_key(key: tuple[str, int | None, str]) -> tuple[str, int, str]:
    return key[0], -1 if key[1] is None else key[1], key[2]


__all__ = [
    "decisions_of",
    "diff_decisions",
    "evaluate_dataframe",
    "evaluate_results",
    "problems_of",
    "tally_decisions",
]
