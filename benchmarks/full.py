"""Whole rulesets: customers per second, how time grows, and batches in worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import acme_hand, data
from benchmarks.conditions import Row, _rows
from benchmarks.harness import compare, wall, wall_interleaved
from ruleengine import Engine, load_ruleset
from ruleengine.engine.decisions import EvaluationResult

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "rules"
ACME = EXAMPLES / "acme.yaml"
LEDGER = EXAMPLES / "maple-loyalty.yaml"  # earning, milestones, redeeming and expiry
TIERS = EXAMPLES / "aurora-beauty.yaml"  # VIP tiers (amount spent), tier-based earning rates


def points_tiers_text() -> str:
    """aurora-beauty.yaml with tiers on points earned: the points decide the tier and the
    tier the points, the engine's costliest tier case (rounds until they agree)."""
    text = TIERS.read_text(encoding="utf-8")
    text = text.replace("basis: amount_spent", "basis: points_earned")
    return text.replace(
        "  order_requirements:\n    min_subtotal: 10               # samples and tiny orders do "
        "not count toward the tier\n    refund_hold_days: 14           # an order counts once "
        "its return window has passed\n",
        "",
    )


_BYTECODE = tempfile.mkdtemp(prefix="ruleengine-bench-pycache-")


def child_environment() -> dict[str, str]:
    """The environment of the commands the benchmarks start: ruleengine from this checkout,
    and bytecode cached (in a temporary folder, not the checkout) as an installed package has
    it, even where the caller sets PYTHONDONTWRITEBYTECODE; otherwise every start-up would
    include compiling the sources."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT / "src"), "PYTHONPYCACHEPREFIX": _BYTECODE}


def summary(result: EvaluationResult) -> tuple[list[Any], list[Any]]:
    """The decisions and progress of a result, in the hand-written implementation's terms."""
    decisions = [
        (
            d.key,
            tuple((r.type, _plain(r.to_json().get("value", r.product))) for r in d.rewards),
            d.achieved_at,
            d.status,
        )
        for d in result.decisions
    ]
    progress = [
        (p.rule, p.step, p.current, p.pending, p.target, p.completed) for p in result.progress
    ]
    return decisions, progress


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _hand_summary(snapshot: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    decisions, progress = acme_hand.evaluate(snapshot, data.NOW)
    return [(k, tuple((t, _plain(v)) for t, v in r), at, s) for k, r, at, s in decisions], progress


def run_full(count: int, *, rounds: int) -> list[Row]:
    """examples/rules/acme.yaml on generated customers, against the same program written by
    hand; both start from the snapshot as JSON gives it."""
    engine = Engine(load_ruleset(ACME))
    snapshots = [data.as_json(s) for s in data.customers(count)]
    for snapshot in snapshots:
        assert summary(engine.evaluate(snapshot, now=data.NOW)) == _hand_summary(snapshot), (
            f"the hand-written acme program decides {snapshot['customer']['id']} differently"
        )
    validated = [engine.read_snapshot(s) for s in snapshots]
    now = data.NOW
    timings = compare(
        [
            ("hand-written acme program", lambda s: acme_hand.evaluate(s, now), snapshots),
            (
                "ruleengine Engine.evaluate (JSON in)",
                lambda s: engine.evaluate(s, now=now),
                snapshots,
            ),
            (
                "ruleengine Engine.evaluate (validated Snapshot in)",
                lambda s: engine.evaluate(s, now=now),
                validated,
            ),
            (
                "ruleengine evaluate + result JSON",
                lambda s: engine.evaluate(s, now=now).dumps(indent=None),
                snapshots,
            ),
        ],
        rounds=rounds,
        target=0.1,
    )
    texts = [json.dumps(s) for s in snapshots]

    def engine_text(text: str) -> str:
        return engine.evaluate(engine.read_snapshot_text(text), now=now).dumps(indent=None)

    def hand_text(text: str) -> str:
        return hand_result_text(*acme_hand.evaluate(json.loads(text), now))

    # Issue #18's target: JSON text in, result JSON out, on both sides; medians.
    io = compare(
        [
            ("hand-written acme program, JSON text in, JSON out", hand_text, texts),
            (
                "ruleengine, JSON text in, result JSON out (`dumps(indent=None)`)",
                engine_text,
                texts,
            ),
        ],
        rounds=rounds,
        target=0.1,
        statistic="median",
    )
    return _rows(timings) + _rows(io)


def hand_result_text(decisions: list[Any], progress: list[Any]) -> str:
    """What the hand-written program would write: its decisions and progress as JSON
    (amounts as text, moments in UTC with a `Z`), through the standard library."""
    return json.dumps(
        {
            "decisions": [
                {
                    "key": key,
                    "rewards": [{"type": t, "value": _plain(v)} for t, v in rewards],
                    "achieved_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    "status": status,
                }
                for key, rewards, at, status in decisions
            ],
            "progress": [
                {"rule": r, "step": n, "current": _plain(c), "pending": _plain(p)}
                | {"target": _plain(t), "completed": done}
                for r, n, c, p, t, done in progress
            ],
        }
    )


def _evaluator(engine: Engine) -> Callable[[Any], EvaluationResult]:
    """`engine.evaluate` at the benchmarks' `now`, as a function of the snapshot."""
    return lambda snapshot: engine.evaluate(snapshot, now=data.NOW)


@dataclass
class ExampleRow:
    ruleset: str
    rules: int
    activities: float  # per customer, on average
    rate: float  # customers per second


def run_examples(count: int, *, rounds: int) -> list[ExampleRow]:
    """Customers per second on every bundled example, with generated histories."""
    rows = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name.endswith((".test.yaml", ".test.yml")):
            continue
        engine = Engine(load_ruleset(path))
        model = engine.ruleset.model
        snapshots = [data.as_json(s) for s in data.generic_customers(model, count)]
        (timing,) = compare(
            [(path.name, _evaluator(engine), snapshots)],
            rounds=rounds,
            target=0.1,
        )
        activities = sum(len(s["activity"]) for s in snapshots) / len(snapshots)
        rows.append(
            ExampleRow(
                path.name, len(model.earning) + len(model.milestones), activities, timing.rate
            )
        )
    return rows


@dataclass
class GrowthRow:
    size: int
    seconds: float  # per evaluation

    @property
    def per_unit(self) -> float:
        return self.seconds / self.size


def run_growth_activities(
    sizes: tuple[int, ...], *, rounds: int, path: Path = ACME, text: str | None = None
) -> list[GrowthRow]:
    """One customer with `size` pieces of activity: time per evaluation. With acme, its own
    generated customers; with any other example (the ledger's, `maple-loyalty.yaml`, or the
    tiers', `aurora-beauty.yaml`; or a rule file's `text`), the generic customers of every
    kind of activity its rules read."""
    import random

    engine = Engine(load_ruleset(path if text is None else text))
    if text is not None:
        path = Path("<text>")
    rows = []
    for size in sizes:
        rng = random.Random(size)
        if path == ACME:
            snapshot = data.as_json(data.customer(0, size, rng))
        else:
            snapshot = data.as_json(data.generic_customer(engine.ruleset.model, 0, size, rng))
        (timing,) = compare(
            [(str(size), lambda s: engine.evaluate(s, now=data.NOW), [snapshot])],
            rounds=rounds,
            target=0.05,
        )
        rows.append(GrowthRow(size, timing.seconds))
    return rows


def run_growth_rules(sizes: tuple[int, ...], *, rounds: int) -> list[GrowthRow]:
    """Generated rulesets of `size` rules, on the same 20 customers: time per customer."""
    snapshots = [data.as_json(s) for s in data.customers(20, low=25, high=35)]
    rows = []
    for size in sizes:
        engine = Engine(load_ruleset(data.ruleset_text(size)))
        (timing,) = compare(
            [(str(size), _evaluator(engine), snapshots)],
            rounds=rounds,
            target=0.05,
        )
        rows.append(GrowthRow(size, timing.seconds))
    return rows


@dataclass
class BatchResult:
    customers: int
    one: float  # seconds, wall clock, the whole `ruleengine eval ... --jobs 1`
    two: float  # ... --jobs 2
    evaluation_one: float  # seconds, wall clock, `jsonl.eval_lines` alone (no start-up), 1 job
    evaluation_two: float  # ... 2 jobs
    capacity: float  # what two processes of pure Python work get on this machine now

    @property
    def speedup(self) -> float:
        return self.one / self.two

    @property
    def evaluation_speedup(self) -> float:
        return self.evaluation_one / self.evaluation_two


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def parallel_capacity() -> float:
    """The speed-up two processes of plain CPU work get right now (2.0 on an idle machine
    with two free cores), to read the batch result against."""
    work = [2_000_000] * 4
    serial = wall(lambda: [_spin(n) for n in work], rounds=3)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [10] * 2))  # start the workers first
        parallel = wall(lambda: list(pool.map(_spin, work)), rounds=3)
    return serial / parallel


def batch_command(path: Path, jobs: int) -> list[str]:
    """`ruleengine eval acme.yaml --snapshots path --jobs N`, at the benchmarks' `now`."""
    return [
        *(sys.executable, "-m", "ruleengine", "eval", str(ACME)),
        *("--snapshots", str(path), "--jobs", str(jobs), "--now", "2026-06-01T00:00:00Z"),
    ]


def run_batch(count: int) -> BatchResult:
    """`ruleengine eval --snapshots FILE --jobs 1` vs `--jobs 2`, wall clock, whole command."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for snapshot in data.customers(count, seed=21):
                out.write(json.dumps(snapshot) + "\n")
        results = {jobs: Path(folder) / f"results-{jobs}.jsonl" for jobs in (1, 2)}

        def command(jobs: int) -> None:
            # Results go to a file, as a batch's do (`> results.jsonl`): reading them through a
            # pipe here would take CPU from the workers on a two-core machine.
            with results[jobs].open("wb") as out:
                subprocess.run(
                    batch_command(path, jobs),
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    check=True,
                    env=child_environment(),
                )

        capacity = parallel_capacity()
        command(1)  # the first run fills the bytecode cache
        one, two = wall_interleaved([lambda: command(1), lambda: command(2)], rounds=3)
        same = results[1].read_bytes() == results[2].read_bytes()
        assert same, "--jobs 2 printed something else than --jobs 1"
        timings: dict[int, float] = {1: float("inf"), 2: float("inf")}
        for _ in range(3):  # interleaved, best of three, as above
            for jobs in (1, 2):
                timings[jobs] = min(timings[jobs], _eval_lines_seconds(path, jobs))
    return BatchResult(count, one, two, timings[1], timings[2], capacity)


_EVAL_LINES = """
import io, os, sys, time
from datetime import UTC, datetime
from ruleengine.cli import jsonl
from ruleengine.engine.engine import engine_for_text
engine = engine_for_text(open(sys.argv[1]).read(), sys.argv[1])
started = time.perf_counter()
with open(sys.argv[2]) as lines, open(os.devnull, "w") as out:
    jsonl.eval_lines(engine, lines, name="x", now=datetime(2026, 6, 1, tzinfo=UTC),
                     jobs=int(sys.argv[3]), out=out, err=io.StringIO())
print(time.perf_counter() - started)
"""


def _eval_lines_seconds(path: Path, jobs: int) -> float:
    """`jsonl.eval_lines` alone, timed inside a fresh process after the ruleset is loaded: the
    part of the command that worker processes can share."""
    completed = subprocess.run(
        [sys.executable, "-c", _EVAL_LINES, str(ACME), str(path), str(jobs)],
        capture_output=True,
        text=True,
        check=True,
        env=child_environment(),
    )
    return float(completed.stdout.strip())


def startup() -> dict[str, float]:
    """Seconds for `import ruleengine`, `ruleengine --help`, loading acme, and `ruleengine eval`
    of one acme customer end to end, each in a fresh interpreter (best of five: wall time, so
    the machine's load shows; the CPU time of the whole command is given beside it)."""
    env = child_environment()

    def fresh(*args: str) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([sys.executable, *args], capture_output=True, check=True, env=env)
            best = min(best, time.perf_counter() - started)
        return best

    bare = fresh("-c", "pass")
    return {
        "python -c pass": bare,
        "import ruleengine": fresh("-c", "import ruleengine"),
        "ruleengine --help": fresh("-m", "ruleengine", "--help"),
        "load_ruleset(acme.yaml)": fresh(
            "-c", f"import ruleengine; ruleengine.load_ruleset({str(ACME)!r})"
        ),
        "ruleengine eval acme.yaml --snapshot (one customer)": fresh(*EVAL_ONE),
        "the same, CPU time (user + system) of the command": _cpu(EVAL_ONE, env),
    }


EVAL_ONE = (
    "-m",
    "ruleengine",
    "eval",
    str(ACME),
    "--snapshot",
    str(ACME.parent.parent / "snapshots" / "acme-maria.json"),
    "--now",
    "2026-06-01T00:00:00Z",
)


def _cpu(args: tuple[str, ...], env: dict[str, str]) -> float:
    """Least CPU seconds (user + system) of a fresh `python *args` over five runs."""
    best = float("inf")
    for _ in range(5):
        before = os.times()
        subprocess.run([sys.executable, *args], capture_output=True, check=True, env=env)
        after = os.times()
        used = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        best = min(best, used)
    return best
