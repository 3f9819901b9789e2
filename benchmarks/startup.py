"""Start-up: what a fresh `ruleengine` process costs before and while it evaluates one customer.

    python -m benchmarks.startup                          # 15 interleaved rounds
    python -m benchmarks.startup --rounds 31 --against /work/main   # the same, beside a checkout

Every figure is the CPU time (user + system, from `os.wait4`: microseconds, not the 10 ms
ticks of `os.times`) of a fresh interpreter, bytecode cached (as an installed package has it),
the commands interleaved round by round so the machine's load falls on all of them alike;
minimum and median over the rounds. CPU time, not wall time: on a shared machine a process
waits for a CPU for longer than it runs. `--against DIR` runs the eval command from another
checkout's `src/` in the same rounds (the same interpreter and packages), for a same-run
comparison.

`modules()` gives the cost of each module the eval command imports: its own CPU time
(children excluded), measured in-process with the thread's CPU clock around each import, the
median over fresh processes. Unlike `-X importtime`, it counts no time the process spent
waiting for a CPU (importtime's wall clock, inflated on a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "examples" / "rules" / "acme.yaml"
MARIA = ROOT / "examples" / "snapshots" / "acme-maria.json"
EVAL_ARGS = ("eval", str(ACME), "--snapshot", str(MARIA), "--now", "2026-06-01T00:00:00Z")

COMMANDS: dict[str, tuple[str, ...]] = {
    "python -c pass": ("-c", "pass"),
    "import ruleengine": ("-c", "import ruleengine"),
    "ruleengine --help": ("-m", "ruleengine", "--help"),
    "import ruleengine.rules.ruleset": ("-c", "import ruleengine.rules.ruleset"),
    "import ruleengine.engine.engine": ("-c", "import ruleengine.engine.engine"),
    "load_ruleset(acme.yaml)": ("-c", f"import ruleengine; ruleengine.load_ruleset({str(ACME)!r})"),
    "ruleengine eval, one acme customer": ("-m", "ruleengine", *EVAL_ARGS),
    "for reference: from pydantic import BaseModel": ("-c", "from pydantic import BaseModel"),
    "for reference: import yaml": ("-c", "import yaml"),
}
EVAL = "ruleengine eval, one acme customer"

_BYTECODE = {}  # source folder -> its bytecode cache folder, for this run


def environment(src: Path) -> dict[str, str]:
    """ruleengine from `src`, bytecode cached in a folder of this run (even where the caller
    sets PYTHONDONTWRITEBYTECODE: otherwise every start-up would compile the sources)."""
    cache = _BYTECODE.setdefault(str(src), tempfile.mkdtemp(prefix="ruleengine-startup-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": cache}


def cpu_seconds(args: tuple[str, ...], env: dict[str, str]) -> float:
    """CPU time (user + system) of `python *args`, a fresh process; it must exit 0."""
    process = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"`python {' '.join(args)}` exited {process.returncode}")
    return usage.ru_utime + usage.ru_stime


def measure(
    rounds: int, against: Path | None = None, names: list[str] | None = None
) -> dict[str, list[float]]:
    """CPU seconds of each command per round, interleaved; with `against`, the eval command
    from that checkout too (as `EVAL + " (against)"`)."""
    runs: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
        (name, COMMANDS[name], environment(ROOT / "src")) for name in names or COMMANDS
    ]
    if against is not None:
        runs.append((f"{EVAL} (against)", COMMANDS[EVAL], environment(against / "src")))
    for _, args, env in runs:  # warm: bytecode written, files in the page cache
        cpu_seconds(args, env)
    found: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for name, args, env in runs:
            found[name].append(cpu_seconds(args, env))
    return dict(found)


_MODULE_COSTS = r"""
import builtins, json, runpy, sys, time
clock, real_import, stack, own = time.thread_time_ns, builtins.__import__, [[0, set()]], {}
def timed_import(name, globals=None, locals=None, fromlist=(), level=0):
    known = len(sys.modules)
    start = clock()
    stack.append([0, set()])
    try:
        return real_import(name, globals, locals, fromlist, level)
    finally:
        took = clock() - start
        children, claimed = stack.pop()
        stack[-1][0] += took
        if len(sys.modules) != known:  # charged to the last module it loaded itself
            loaded = list(sys.modules)[known:]
            mine = [m for m in loaded if m not in claimed] or loaded
            own[mine[-1]] = own.get(mine[-1], 0) + took - children
            stack[-1][1].update(loaded)
builtins.__import__ = timed_import
sys.argv = ["ruleengine", *sys.argv[1:]]
start = clock()
try:
    runpy.run_module("ruleengine", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
total = clock() - start
builtins.__import__ = real_import
sys.stderr.write("\n" + json.dumps({"total": total, "own": own}) + "\n")
"""


def modules(runs: int = 9) -> tuple[float, dict[str, float]]:
    """The eval command's CPU seconds in-process (after the interpreter's own start-up) and the
    own CPU seconds of each import, medians over `runs` fresh processes."""
    env = environment(ROOT / "src")
    totals: list[float] = []
    costs: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-c", _MODULE_COSTS, *EVAL_ARGS],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(completed.stderr.strip().splitlines()[-1])
        totals.append(found["total"] / 1e9)
        for name, ns in found["own"].items():
            costs[name].append(ns / 1e9)
    padded = {name: values + [0.0] * (runs - len(values)) for name, values in costs.items()}
    return statistics.median(totals), {n: statistics.median(v) for n, v in padded.items()}


def by_package(costs: dict[str, float]) -> dict[str, float]:
    """Module costs summed by package: ruleengine's by subpackage, others by top level."""
    sums: dict[str, float] = defaultdict(float)
    for name, seconds in costs.items():
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "ruleengine" else parts[0]
        sums[key] += seconds
    return dict(sorted(sums.items(), key=lambda item: -item[1]))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(rounds: int, against: Path | None = None) -> str:
    found = measure(rounds, against)
    lines = [
        f"CPU time of a fresh process (user + system), {rounds} interleaved rounds; load "
        f"average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end.",
        "",
        "| command | min ms | median ms |",
        "|---|---|---|",
    ]
    for name, values in found.items():
        lines.append(f"| {name} | {_ms(min(values))} | {_ms(statistics.median(values))} |")
    if against is not None:
        ours, theirs = statistics.median(found[EVAL]), statistics.median(found[f"{EVAL} (against)"])
        lines += ["", f"eval: {_ms(theirs)} ms ({against}) -> {_ms(ours)} ms here, median CPU."]
    total, costs = modules()
    lines += [
        "",
        f"What the eval command's {_ms(total)} ms of in-process CPU go to (median of 9 "
        "processes; own CPU time of each import, by package; the rest is reading the file, "
        "checking and compiling the rules, and evaluating):",
        "",
        "| package | ms |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_ms(s)} |" for name, s in list(by_package(costs).items())[:20]]
    lines += [f"| all imports | {_ms(sum(costs.values()))} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout, for its eval command")
    parser.add_argument("--modules", action="store_true", help="print every module's cost")
    args = parser.parse_args(argv)
    if args.modules:
        total, costs = modules()
        print(f"in-process total {_ms(total)} ms; imports {_ms(sum(costs.values()))} ms")
        for name, seconds in sorted(costs.items(), key=lambda item: -item[1]):
            print(f"{_ms(seconds):>7} {name}")
        return 0
    print(report(args.rounds, args.against))
    return 0


if __name__ == "__main__":
    sys.exit(main())
