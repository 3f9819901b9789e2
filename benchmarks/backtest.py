"""Backtests (issue #15): `ruleengine backtest` through DuckDB from Parquet tables vs `ruleengine
eval --snapshots` on the same customers as JSON Lines (`--jobs 1`, `--jobs 2`), the cost of a
`diff` against one backtest, and `ruleengine.spark` on `local[1]` vs `local[2]`.

The history is generated (acme customers from `benchmarks.data`, `ACTIVITY` pieces of activity
each) and written a few thousand customers at a time, never whole in memory: a warehouse-style
Parquet export (DECIMAL amounts, TIMESTAMPTZ moments, one row per activity) and the same
customers as JSON Lines. Every command is timed whole (start-up included), under a fresh
wrapper process whose `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the peak memory of the largest
single process of the command (for `--jobs 2`, the parent or a worker).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import data
from benchmarks.full import ACME, child_environment

ACTIVITY = (15, 25)  # pieces of activity per customer: ~20 on average, as the issue asks
CHUNK = 5000  # customers written per Parquet row group
NOW = "2026-06-01T00:00:00Z"

_MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.monotonic() - started
if done.returncode:
    sys.exit(done.stderr.decode())
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


@dataclass
class Timing:
    what: str
    customers: int
    seconds: float
    peak: float  # MiB
    cpu: float = 0.0  # CPU seconds of the command and its workers
    load: float = 0.0  # the 1-minute load average after the run

    @property
    def rate(self) -> float:
        return self.customers / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Customers per CPU second: the figure a shared machine's load disturbs least."""
        return self.customers / self.cpu if self.cpu else 0.0


def _typed(snapshot: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from ruleengine.backtest.sources import split_snapshot

    row, activity = split_snapshot(json.loads(json.dumps(snapshot), parse_float=Decimal))
    for entry in activity:
        for name in ("at", "refunded_at", "converted_at"):
            if entry.get(name) is not None:
                entry[name] = datetime.fromisoformat(entry[name].replace("Z", "+00:00"))
        for name in ("subtotal", "refunded_amount"):
            if entry.get(name) is not None:
                entry[name] = Decimal(entry[name])
    return row, activity


def write_history(folder: Path, count: int, *, seed: int = 15) -> tuple[Path, Path, int]:
    """`count` customers as Parquet tables (in `folder/tables`) and as JSON Lines; returns
    both paths and the number of activity rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    moment = pa.timestamp("us", tz="UTC")
    money = pa.decimal128(12, 2)
    customers_schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("email", pa.string()),
            ("tags", pa.string()),
            ("tier", pa.string()),
            ("excluded", pa.bool_()),
            ("birthday", pa.string()),
            ("created_at", pa.string()),
            ("region", pa.string()),
            ("lifetime_value", pa.string()),
            ("granted", pa.string()),
        ]
    )
    activity_schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("type", pa.string()),
            ("id", pa.string()),
            ("at", moment),
            ("subtotal", money),
            ("channel", pa.string()),
            ("refunded_at", moment),
            ("refunded_amount", money),
            ("rating", pa.int64()),
            ("has_photo", pa.bool_()),
            ("converted_at", moment),
        ]
    )
    tables = folder / "tables"
    tables.mkdir()
    jsonl = folder / "customers.jsonl"
    rng = random.Random(seed)
    activity_rows = 0
    with (
        pq.ParquetWriter(str(tables / "customers.parquet"), customers_schema) as customers_out,
        pq.ParquetWriter(str(tables / "activity.parquet"), activity_schema) as activity_out,
        jsonl.open("w", encoding="utf-8") as lines,
    ):
        for start in range(0, count, CHUNK):
            rows: list[dict[str, Any]] = []
            entries: list[dict[str, Any]] = []
            for number in range(start, min(start + CHUNK, count)):
                snapshot = data.customer(number, rng.randint(*ACTIVITY), rng)
                lines.write(json.dumps(snapshot) + "\n")
                row, activity = _typed(snapshot)
                rows.append(row)
                entries.extend(activity)
            activity_rows += len(entries)
            customers_out.write_table(pa.Table.from_pylist(rows, schema=customers_schema))
            activity_out.write_table(pa.Table.from_pylist(entries, schema=activity_schema))
    return tables, jsonl, activity_rows


def measure_once(what: str, command: list[str], customers: int) -> Timing:
    """One run of `command`, timed whole under a fresh wrapper process."""
    import os

    shown = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        text=True,
        check=True,
        env=child_environment(),
    )
    seconds, peak, cpu = shown.stdout.split()
    return Timing(what, customers, float(seconds), float(peak), float(cpu), os.getloadavg()[0])


def measure(what: str, command: list[str], customers: int, rounds: int = 2) -> Timing:
    """The best of `rounds` runs (the machine is shared: the best is the least disturbed)."""
    runs = [measure_once(what, command, customers) for _ in range(rounds)]
    return min(runs, key=lambda t: t.seconds)


def interleaved(commands: list[tuple[str, list[str]]], customers: int, rounds: int) -> list[Timing]:
    """Each command `rounds` times, the commands taking turns (so a change in the machine's
    load falls on all of them alike): the median run of each (by wall clock), with the
    median CPU time and the largest peak."""
    import statistics

    runs: dict[str, list[Timing]] = {what: [] for what, _ in commands}
    for _ in range(rounds):
        for what, command in commands:
            runs[what].append(measure_once(what, command, customers))
    timings = []
    for what, timed in runs.items():
        ordered = sorted(timed, key=lambda t: t.seconds)
        middle = ordered[(len(ordered) - 1) // 2]
        timings.append(
            Timing(
                what,
                customers,
                middle.seconds,
                max(t.peak for t in timed),
                statistics.median(t.cpu for t in timed),
                max(t.load for t in timed),
            )
        )
    return timings


def _ruleengine(*args: str) -> list[str]:
    return [sys.executable, "-m", "ruleengine", *args]


def changed_acme(folder: Path) -> Path:
    """acme with 6 points per dollar instead of 5, and a $40 minimum instead of $20."""
    text = ACME.read_text(encoding="utf-8")
    text = text.replace("floor(order.subtotal * 5)", "floor(order.subtotal * 6)")
    text = text.replace("order.subtotal >= 20", "order.subtotal >= 40")
    path = folder / "acme-new.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def commands(tables: Path, jsonl: Path, new: Path) -> list[tuple[str, list[str]]]:
    """The commands compared: reading through DuckDB against the same customers as JSON Lines,
    at `--jobs 1` and `--jobs 2`, and the diff."""
    acme = str(ACME)

    def backtest(data: Path, *more: str) -> list[str]:
        return _ruleengine("backtest", acme, "--customers", str(data), "--now", NOW, *more)

    def evaluate(jobs: int) -> list[str]:
        return _ruleengine(
            "eval", acme, "--snapshots", str(jsonl), "--jobs", str(jobs), "--now", NOW
        )

    def diff(*more: str) -> list[str]:
        return _ruleengine("diff", acme, str(new), "--customers", str(tables), "--now", NOW, *more)

    return [
        ("`backtest`, Parquet tables through DuckDB", backtest(tables)),
        ("`backtest --jobs 2`, Parquet tables through DuckDB", backtest(tables, "--jobs", "2")),
        ("`backtest`, the same customers as JSON Lines", backtest(jsonl)),
        ("`backtest --jobs 2`, the same customers as JSON Lines", backtest(jsonl, "--jobs", "2")),
        ("`eval --snapshots` JSON Lines, `--jobs 1` (results to /dev/null)", evaluate(1)),
        ("`eval --snapshots` JSON Lines, `--jobs 2` (results to /dev/null)", evaluate(2)),
        ("`diff` old vs new acme, Parquet tables through DuckDB", diff()),
        ("`diff --jobs 2` old vs new acme, Parquet tables through DuckDB", diff("--jobs", "2")),
    ]


def run_commands(count: int, rounds: int = 2) -> tuple[list[Timing], int]:
    """The command-line timings on `count` customers (`rounds` interleaved runs of each,
    medians), and the activity rows they had."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        tables, jsonl, activity = write_history(folder, count)
        new = changed_acme(folder)
        acme = str(ACME)
        # A first, discarded run: the timed ones find the imports in the page cache.
        warm = _ruleengine("backtest", acme, "--customers", str(tables), "--now", NOW)
        measure_once("warm-up", warm, count)
        timings = interleaved(commands(tables, jsonl, new), count, rounds)
        out = _ruleengine(
            "backtest", acme, "--customers", str(tables), "--now", NOW,
            "--out", str(folder / "out"),
        )  # fmt: skip
        timings.append(  # --out must be new: one run
            measure_once(
                "`backtest --out DIR` (Parquet tables, decisions.parquet written)", out, count
            )
        )
        return timings, activity


def run_spark(count: int) -> list[Timing]:
    """`evaluate_dataframe` on `local[1]` and `local[2]`: the job alone (session start-up and
    the first, warming job excluded), decisions written to Spark's `noop` sink."""
    import os

    from pyspark.sql import SparkSession

    from ruleengine.spark import evaluate_dataframe

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    timings = []
    text = ACME.read_text(encoding="utf-8")
    moment = datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    with tempfile.TemporaryDirectory() as name:
        tables, _, _ = write_history(Path(name), count)
        for cores in (1, 2):
            session = (
                SparkSession.builder.master(f"local[{cores}]")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", str(2 * cores))
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate()
            )
            session.sparkContext.setLogLevel("ERROR")
            customers = session.read.parquet(str(tables / "customers.parquet"))
            activity = session.read.parquet(str(tables / "activity.parquet"))
            decisions = evaluate_dataframe(customers, activity, text, now=moment)
            decisions.write.format("noop").mode("overwrite").save()  # warm: workers, compile
            started = time.monotonic()
            decisions.write.format("noop").mode("overwrite").save()
            timings.append(
                Timing(f"Spark `local[{cores}]`", count, time.monotonic() - started, 0.0)
            )
            session.stop()
    return timings
