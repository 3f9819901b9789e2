"""Timing that stays meaningful on a busy machine.

Ratios are what the benchmarks report, and both sides of a ratio are measured in the same
process, interleaved: every round times each candidate once, in turn, and each candidate's best
round counts. A burst of load from another process then slows one round of every candidate
rather than all rounds of one, and the minimum (the run least disturbed) estimates what the code
itself costs. CPU time of this process (`time.process_time`) is used, not wall time, so time
other processes take from the CPU is not charged to the code; wall time is used only where
several processes work together (the batch benchmark).

A candidate is a function of one record and the records to call it on; the calls are driven by
`map` into a zero-length `deque`, a loop in C, so the harness adds next to nothing per call and
ratios between fast functions are not squeezed towards 1 by the harness's own overhead.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Candidate = tuple[str, Callable[[Any], Any], Sequence[Any]]


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: float  # best time per call

    @property
    def rate(self) -> float:
        return 1 / self.seconds if self.seconds else float("inf")


def _run(function: Callable[[Any], Any], records: Sequence[Any]) -> float:
    started = time.process_time()
    deque(map(function, records), maxlen=0)
    return time.process_time() - started


def _sized(function: Callable[[Any], Any], records: Sequence[Any], target: float) -> Sequence[Any]:
    """The records repeated so that a timed run takes about `target` seconds: whole passes,
    so that every fast candidate runs on the same mix of records; a candidate slower than
    that (a peer) on the first records only, as many as fit in `target`."""
    sample = list(records[: min(len(records), 50)])
    _run(function, sample)  # warm, as the timed runs are
    elapsed = max(_run(function, sample), 1e-7) / len(sample)
    wanted = target / elapsed
    if wanted < len(records):  # a slow candidate: the first records, as many as fit
        return list(records[: max(len(sample), int(wanted))])
    return list(records) * round(wanted / len(records))


def compare(
    candidates: Sequence[Candidate],
    *,
    rounds: int = 15,
    target: float = 0.02,
    statistic: str = "best",
) -> list[Timing]:
    """Time each candidate in interleaved rounds; the best (or, with `statistic="median"`,
    the median) time per call of each, in order."""
    sized = [
        (name, function, _sized(function, records, target))
        for name, function, records in candidates
    ]
    # one pass over a candidate's records, or a quarter of its timed run where that is less
    # (a slow candidate, whose timed run is one pass: the warm-up must not double the run)
    warm = [
        records[: min(len(records), max(1, len(timed) // 4))]
        for (_, _, records), (_, _, timed) in zip(candidates, sized, strict=True)
    ]
    best = [float("inf")] * len(sized)
    times: list[list[float]] = [[] for _ in sized]
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # a collection triggered by one candidate's garbage must not land on another
    try:
        for _ in range(rounds):
            for index, (_, function, records) in enumerate(sized):
                # An untimed pass first: each timed run starts with the caches holding what
                # its own candidate reads, not what the candidate before it left there (a
                # candidate following another over the same records was up to 1.6x faster).
                _run(function, warm[index])
                seconds = _run(function, records) / len(records)
                best[index] = min(best[index], seconds)
                times[index].append(seconds)
            gc.collect()
    finally:
        if enabled:
            gc.enable()
    if statistic == "median":
        best = [statistics.median(t) for t in times]
    return [Timing(name, seconds) for (name, _, _), seconds in zip(sized, best, strict=True)]


def wall(function: Callable[[], Any], *, rounds: int = 3) -> float:
    """Best wall-clock seconds of `function()` over `rounds` runs."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def wall_interleaved(functions: list[Callable[[], Any]], *, rounds: int = 3) -> list[float]:
    """Best wall-clock seconds of each function over `rounds` rounds, each round running every
    function once in turn, so a burst of load from elsewhere slows one round of each rather
    than every run of one."""
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - started)
    return best
