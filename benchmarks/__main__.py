"""`python -m benchmarks`: run the benchmarks and print the report as Markdown.

    python -m benchmarks                      # everything (a few minutes)
    python -m benchmarks --quick              # smaller inputs, fewer rounds (under a minute)
    python -m benchmarks --only conditions,rules50

    python -m benchmarks --only backtest --customers 100000   # the backtest section, its size

Sections: host (the headline: conditions from the host's own dict), conditions, rules50,
compile, full, results, readers, examples, growth, batch, memory, validate, startup, backtest.
Peers that are not installed are skipped with a note (`pip install -e '.[bench]'` installs them).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.conditions import Row

SECTIONS = (
    "host",
    "conditions",
    "rules50",
    "compile",
    "full",
    "results",
    "readers",
    "examples",
    "growth",
    "batch",
    "memory",
    "validate",
    "startup",
    "backtest",
)


def machine() -> str:
    """nproc, CPU model, Python and the load when the run started."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{cpus} CPUs ({model}), Python {platform.python_version()} "
        f"({platform.python_implementation()}, {sys.platform}); load average at start: {load}"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _rate_rows(rows: Sequence[Row]) -> list[list[str]]:
    return [
        [
            row.engine,
            f"{row.rate:,.0f}" if row.rate is not None else "-",
            f"{row.ratio:.3f}" if row.ratio is not None else row.note,
        ]
        for row in rows
    ]


def host_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import host

    header = ["engine", "evaluations/s", "ratio to hand-written converting to Decimal"]
    note = (
        "\n\nThe headline: every candidate is called on the host's nested dict (about 25 "
        "fields, items, amounts as text in half the records and numbers in the other half), "
        "conversion counted; medians of interleaved rounds. The `secondary` line times records "
        "converted beforehand, which no host has."
    )
    sections = [
        (
            f"Headline, from the host's dict: {workload.name}",
            _table(header, _rate_rows(host.run_host_workload(workload, rounds=rounds))) + note,
        )
        for workload in host.workloads(500 if quick else 3000)
    ]
    rows = host.run_host_rule_set(300 if quick else 2000, rounds=rounds)
    sections.append(
        (
            "Headline, from the host's dict: 50-rule set (one record, all fifty conditions)",
            _table(
                ["engine", "records/s", "ratio to hand-written converting to Decimal"],
                _rate_rows(rows),
            )
            + note,
        )
    )
    return sections


def conditions_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import conditions

    header = ["engine", "evaluations/s", "ratio to hand-written"]
    return [
        (
            f"Secondary, on records converted beforehand: condition {workload.name}",
            _table(header, _rate_rows(conditions.run_workload(workload, rounds=rounds))),
        )
        for workload in conditions.workloads(500 if quick else 3000)
    ]


def rules50_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import conditions

    rows = conditions.run_rule_set(200 if quick else 1000, rounds=rounds)
    table = _table(["engine", "records/s", "ratio to hand-written"], _rate_rows(rows))
    return [
        (
            "Secondary, on records converted beforehand: 50-rule set (one record, all fifty)",
            table,
        )
    ]


def full_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import full

    rows = full.run_full(100 if quick else 400, rounds=rounds)
    table = _table(["implementation", "customers/s", "ratio to hand-written"], _rate_rows(rows))
    return [("Full ruleset: examples/rules/acme.yaml vs the same program by hand", table)]


def examples_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import full

    rows = full.run_examples(100 if quick else 300, rounds=max(3, rounds // 3))
    table = _table(
        ["ruleset", "rules", "activities/customer", "customers/s"],
        [[r.ruleset, str(r.rules), f"{r.activities:.1f}", f"{r.rate:,.0f}"] for r in rows],
    )
    return [("Bundled examples (generated histories, JSON in)", table)]


def growth_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import full

    del rounds  # each size is one long evaluation: three rounds are plenty
    activity = full.run_growth_activities((100, 1000) if quick else (100, 1000, 10000), rounds=3)
    ledger = full.run_growth_activities(
        (100, 1000) if quick else (100, 1000, 10000), rounds=3, path=full.LEDGER
    )
    tiers = full.run_growth_activities(
        (100, 1000) if quick else (100, 1000, 10000), rounds=3, path=full.TIERS
    )
    points_tiers = full.run_growth_activities(
        (100, 1000) if quick else (100, 1000, 10000), rounds=3, text=full.points_tiers_text()
    )
    rules = full.run_growth_rules((10, 100) if quick else (10, 100, 1000), rounds=3)
    by_activity = _table(
        ["activities (one customer, acme)", "ms per evaluation", "µs per activity"],
        [[f"{r.size:,}", f"{r.seconds * 1e3:.2f}", f"{r.per_unit * 1e6:.1f}"] for r in activity],
    )
    by_activity += "\n\n" + _table(
        ["activities (one customer, maple: the ledger)", "ms per evaluation", "µs per activity"],
        [[f"{r.size:,}", f"{r.seconds * 1e3:.2f}", f"{r.per_unit * 1e6:.1f}"] for r in ledger],
    )
    for label, rows in (
        ("activities (one customer, aurora: tiers on amount spent)", tiers),
        ("activities (one customer, aurora: tiers on points earned)", points_tiers),
    ):
        by_activity += "\n\n" + _table(
            [label, "ms per evaluation", "µs per activity"],
            [[f"{r.size:,}", f"{r.seconds * 1e3:.2f}", f"{r.per_unit * 1e6:.1f}"] for r in rows],
        )
    by_rules = _table(
        ["rules (generated)", "ms per customer (~30 activities)", "µs per rule"],
        [[f"{r.size:,}", f"{r.seconds * 1e3:.2f}", f"{r.per_unit * 1e6:.1f}"] for r in rules],
    )
    return [("Growth", by_activity + "\n\n" + by_rules)]


def batch_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import full

    del rounds
    # A nightly batch is large: the serial start-up (~0.3 s) weighs less the more customers.
    results = [full.run_batch(count) for count in ((1000, 5000) if quick else (10000, 50000))]
    rows = []
    for result in results:
        rows += [
            [
                f"the whole command, {result.customers:,} customers",
                f"{result.one:.2f}",
                f"{result.two:.2f}",
                f"{result.speedup:.2f}x",
            ],
            [
                f"the evaluation alone (`jsonl.eval_lines`, after start-up), {result.customers:,}",
                f"{result.evaluation_one:.2f}",
                f"{result.evaluation_two:.2f}",
                f"{result.evaluation_speedup:.2f}x",
            ],
        ]
    table = _table(["what is timed", "--jobs 1 (s)", "--jobs 2 (s)", "speed-up"], rows)
    capacity = ", ".join(f"{r.capacity:.2f}x" for r in results)
    note = (
        f"Machine capacity during this run: two processes of plain Python work ran {capacity} "
        "as fast as one (measured before each size; 2.00 on two idle cores); the batch cannot "
        "beat it. The whole command includes the serial start-up (imports, loading the ruleset)."
    )
    return [
        ("Batch: ruleengine eval --snapshots (whole command, wall clock)", f"{table}\n\n{note}")
    ]


def memory_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import memory

    del rounds  # one run per size: a peak is a peak
    sizes = (2_000, 20_000, 200_000) if quick else (10_000, 100_000, 1_000_000)
    rows = memory.run_memory(sizes)
    table = _table(
        [
            "lines",
            "input (MiB)",
            "wall (s)",
            "customers/s",
            "peak RSS, largest process (MiB)",
            "parent (MiB)",
            "largest worker (MiB)",
        ],
        [
            [
                f"{r.lines:,}",
                f"{r.megabytes:,.0f}",
                f"{r.seconds:.1f}",
                f"{r.rate:,.0f}",
                f"{r.peak:.1f}",
                f"{r.parent:.1f}",
                f"{r.worker:.1f} ({r.workers} workers)",
            ]
            for r in rows
        ],
    )
    first, last = rows[0], rows[-1]
    note = (
        f"From {first.lines:,} to {last.lines:,} lines ({last.lines // first.lines}x) the peak "
        f"went from {first.peak:.1f} to {last.peak:.1f} MiB ({last.peak - first.peak:+.1f} MiB). "
        "Peak RSS: `getrusage(RUSAGE_CHILDREN).ru_maxrss` of a fresh wrapper process around the "
        "command, the largest single process; parent and worker: `VmHWM` sampled from "
        f"`/proc` every 0.2 s. acme customers with {memory.ACTIVITY[0]}-{memory.ACTIVITY[1]} "
        f"pieces of activity ({memory.DISTINCT} distinct, cycled with fresh ids); every output "
        "line counted."
    )
    return [
        (
            "Memory: ruleengine eval --snapshots FILE --jobs 2 (whole command, one run per size)",
            f"{table}\n\n{note}",
        )
    ]


def validate_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import validation

    del rounds
    result = validation.run_validation(200 if quick else 1000, rounds=2 if quick else 3)
    table = _table(
        ["what is timed", "seconds", "files/s"],
        [
            [
                f"`ruleengine validate` on {result.files:,} files ({result.rules:,} rules), "
                "whole command",
                f"{result.command_seconds:.2f}",
                f"{result.command_rate:,.0f}",
            ],
            [
                "the same files checked in one process (`check_source`)",
                f"{result.in_process_seconds:.2f}",
                f"{result.in_process_rate:,.0f}",
            ],
        ],
    )
    return [("Validating a folder of rule files", table)]


def compile_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import compiling

    rows = compiling.run_compile(400 if quick else 2000, rounds=rounds)
    whats = list(rows[0].rates)
    table = _table(
        ["condition", "tokens", *[f"{w} (per s)" for w in whats], "speed-up, compile"],
        [
            [
                row.workload,
                str(row.tokens),
                *[f"{row.rates[w]:,.0f}" for w in whats],
                f"{row.rates[whats[0]] / row.rates[whats[1]]:.2f}x",
            ]
            for row in rows
        ],
    )
    note = (
        "\n\nEach text distinct (the last constant varied); best of interleaved rounds, CPU "
        "time, garbage collector paused. `lark parse (as before)`: lark's parse and tree builder, "
        "then today's checker and closures and the reader built at once, in the same process."
    )
    return [("Compile speed: distinct condition texts", table + note)]


def results_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import encoding

    timings, notes = encoding.run_results(100 if quick else 400, rounds=rounds)
    table = _table(["what, per acme result", "µs"], [[w, f"{us:.1f}"] for w, us in timings])
    return [
        ("Result JSON: today's writer vs orjson and msgspec", table + "\n\n" + "; ".join(notes))
    ]


def readers_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import encoding

    timings, notes = encoding.run_readers(100 if quick else 400, rounds=rounds)
    table = _table(["reader, per acme snapshot", "µs"], [[w, f"{us:.1f}"] for w, us in timings])
    return [("Snapshot readers: engine vs pydantic vs msgspec", table + "\n\n" + "; ".join(notes))]


def startup_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import startup

    del quick
    return [("Start-up (fresh interpreters, CPU time)", startup.report(rounds))]


BACKTEST_CUSTOMERS = {"quick": 2_000, "full": 20_000}
"""Customers in the generated history of the backtest section (`--customers N` overrides):
the issue's 1M x 20 activities is ~2 hours per command on a shared 2-core machine."""
_SIZE: dict[str, int] = {}


def backtest_report(quick: bool, rounds: int) -> list[tuple[str, str]]:
    from benchmarks import backtest

    del rounds  # whole commands on a large history: a few interleaved runs each
    count = _SIZE.get("customers") or BACKTEST_CUSTOMERS["quick" if quick else "full"]
    timings, activity = backtest.run_commands(count, rounds=1 if quick else 3)
    rows = [
        [
            t.what,
            f"{t.seconds:.1f}",
            f"{t.rate:,.0f}",
            f"{t.cpu_rate:,.0f}",
            f"{t.peak:.0f}",
            f"{t.load:.1f}",
        ]
        for t in timings
    ]
    table = _table(
        [
            "command (whole; median of interleaved runs)",
            "seconds",
            "customers/s",
            "customers per CPU second",
            "peak RSS (MiB)",
            "load",
        ],
        rows,
    )
    one = next(t for t in timings if t.what.startswith("`backtest`, Parquet"))
    diff = next(t for t in timings if t.what.startswith("`diff` old"))
    note = (
        f"{count:,} generated acme customers, {activity:,} activity rows "
        f"({activity / count:.1f} per customer). `diff` costs {diff.seconds / one.seconds:.2f}x "
        "one backtest (it evaluates two rulesets on each customer read once)."
    )
    sections = [("Backtest: DuckDB tables vs JSON Lines vs eval --snapshots", f"{table}\n\n{note}")]
    try:
        spark = backtest.run_spark(min(count, 20_000))
    except Exception as error:  # Java or pyspark missing: say so, keep the rest
        return [*sections, ("Backtest on Spark", f"skipped: {error}")]
    spark_rows = [[t.what, f"{t.seconds:.1f}", f"{t.rate:,.0f}"] for t in spark]
    spark_table = _table(["master", "seconds (the job alone)", "customers/s"], spark_rows)
    speedup = spark[0].seconds / spark[1].seconds
    return [
        *sections,
        (
            "Backtest on Spark: evaluate_dataframe, local[1] vs local[2]",
            f"{spark_table}\n\nlocal[2] is {speedup:.2f}x local[1] on {spark[0].customers:,} "
            "customers (session start-up and a warming run excluded).",
        ),
    ]


REPORTS: dict[str, Callable[[bool, int], list[tuple[str, str]]]] = {
    "host": host_report,
    "conditions": conditions_report,
    "rules50": rules50_report,
    "compile": compile_report,
    "full": full_report,
    "results": results_report,
    "readers": readers_report,
    "examples": examples_report,
    "growth": growth_report,
    "batch": batch_report,
    "memory": memory_report,
    "validate": validate_report,
    "startup": startup_report,
    "backtest": backtest_report,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller inputs and fewer rounds")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--customers", type=int, default=None, help="customers in the backtest section's history"
    )
    args = parser.parse_args(argv)
    if args.customers:
        _SIZE["customers"] = args.customers
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}; choose from {SECTIONS}")
    rounds = 5 if args.quick else 15
    out = sys.stdout
    out.write(f"# ruleengine benchmarks\n\nMachine: {machine()}\n")
    for name in SECTIONS:
        if name in only:
            for title, body in REPORTS[name](args.quick, rounds):
                out.write(f"\n## {title}\n\n{body}\n")
                out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
