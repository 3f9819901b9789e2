"""Memory of a batch: the peak resident memory of `ruleengine eval --snapshots FILE --jobs 2`
on JSON Lines files of increasing size. The batch reads its input lazily and keeps a bounded
number of chunks in flight (`ruleengine.engine.batch`), so the peak should not grow with the file.

Each file is written to a temporary folder a line at a time (never a million snapshots in
memory): a few hundred generated acme customers, cycled, each line with a fresh customer id and
email, so nothing the engine might keep per customer is ever reused. Each command runs under
its own small wrapper process (`_MEASURE`), which

* reads the command's standard output and counts its lines (one per input line, checked);
* samples `VmHWM` (the high-water mark of resident memory) in `/proc/<pid>/status` of the
  command's process and of each of its children, the workers, every few tenths of a second:
  the parent's and the largest worker's peaks, as last seen alive;
* after the command exits, reads `getrusage(RUSAGE_CHILDREN).ru_maxrss`: the exact peak of
  the largest single process among the command and every worker (the kernel keeps the maximum
  over all reaped descendants). A fresh wrapper per command, because that maximum is over the
  whole life of the process that waits.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import data
from benchmarks.full import batch_command, child_environment

DISTINCT = 500  # distinct generated customers, cycled through with fresh ids
ACTIVITY = (2, 12)  # pieces of activity per customer, low and high: a 1M-line run in minutes
_ID = "#ID#"  # in the templates, where the customer number goes (JSON leaves it alone)


@dataclass
class MemoryRow:
    lines: int
    megabytes: float  # the input file, MiB
    seconds: float  # wall clock, the whole command
    outputs: int  # lines the command printed (checked: one per input line)
    peak: float  # MiB, max RSS of the largest process of the command (getrusage, exact)
    parent: float  # MiB, VmHWM of the command's own process (last sample)
    worker: float  # MiB, the largest VmHWM among its workers (last sample)
    workers: int  # worker processes seen

    @property
    def rate(self) -> float:
        return self.lines / self.seconds


def templates(count: int = DISTINCT, *, seed: int = 31) -> list[list[str]]:
    """`count` acme customers as JSON lines split where the customer number goes."""
    rng = random.Random(seed)
    low, high = ACTIVITY
    parts = []
    for _ in range(count):
        snapshot = data.customer(0, rng.randint(low, high), rng)
        snapshot["customer"]["id"] = f"c{_ID}"
        snapshot["customer"]["email"] = f"c{_ID}@example.com"
        parts.append(json.dumps(snapshot).split(_ID))
    return parts


def write_snapshots(path: Path, lines: int, parts: list[list[str]]) -> None:
    """`lines` snapshots, one per line, streamed to `path`; customer `n` is template
    `n % len(parts)` with id `cn`."""
    with path.open("w", encoding="utf-8") as out:
        for number in range(lines):
            out.write(str(number).join(parts[number % len(parts)]) + "\n")


_MEASURE = r"""
import json, os, resource, subprocess, sys, threading, time

def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found

started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
peaks = {}
done = threading.Event()

def sample():
    while not done.wait(0.2):
        for pid in [process.pid, *children(process.pid)]:
            value = hwm(pid)
            if value is not None:
                peaks[pid] = max(peaks.get(pid, 0), value)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
outputs = 0
while block := process.stdout.read(1 << 20):
    outputs += block.count(b"\n")
code = process.wait()
seconds = time.perf_counter() - started
done.set()
sampler.join()
workers = [v for pid, v in peaks.items() if pid != process.pid]
print(json.dumps({
    "code": code,
    "seconds": seconds,
    "outputs": outputs,
    "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "parent": peaks.get(process.pid, 0),
    "worker": max(workers, default=0),
    "workers": len(workers),
}))
"""


def measure(path: Path, lines: int, *, jobs: int = 2) -> MemoryRow:
    """`ruleengine eval acme.yaml --snapshots path --jobs N` under a fresh wrapper process."""
    command = batch_command(path, jobs)
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        text=True,
        env=child_environment(),
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RuntimeError(f"the memory wrapper failed:\n{completed.stderr}")
    found = json.loads(completed.stdout)
    if found["code"] != 0:
        raise RuntimeError(f"`{' '.join(command)}` exited {found['code']}:\n{completed.stderr}")
    if found["outputs"] != lines:
        raise RuntimeError(f"{lines:,} lines in, {found['outputs']:,} lines out")
    mib = 1024.0  # ru_maxrss and VmHWM are in KiB on Linux
    return MemoryRow(
        lines=lines,
        megabytes=path.stat().st_size / 2**20,
        seconds=found["seconds"],
        outputs=found["outputs"],
        # the exact peak; VmHWM can read a few KiB higher than ru_maxrss for the same process
        peak=max(found["peak"], found["parent"], found["worker"]) / mib,
        parent=found["parent"] / mib,
        worker=found["worker"] / mib,
        workers=found["workers"],
    )


def run_memory(sizes: tuple[int, ...], *, jobs: int = 2) -> list[MemoryRow]:
    """Peak memory of the batch command on each size, smallest first; each file is written,
    measured and deleted before the next, so at most one is on disk."""
    parts = templates()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ruleengine-bench-memory-") as folder:
        warm = Path(folder) / "warm.jsonl"
        write_snapshots(warm, 100, parts)
        measure(warm, 100, jobs=jobs)  # fills the bytecode cache: compiling is not measured
        warm.unlink()
        for lines in sorted(sizes):
            path = Path(folder) / f"customers-{lines}.jsonl"
            write_snapshots(path, lines, parts)
            rows.append(measure(path, lines, jobs=jobs))
            path.unlink()
    return rows
