"""The benchmark harness times every candidate from the same starting point.

Without a warm-up, a candidate timed right after another candidate over the same records
found them in the CPU's caches while the first candidate of a round did not: the same
function, timed twice as two candidates, differed by up to 1.6x, which biased every ratio
against the baseline. These tests check the order of calls, not times.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import compare


def test_each_timed_pass_follows_a_pass_of_its_own_candidate() -> None:
    calls: list[str] = []

    def candidate(name: str) -> Any:
        return lambda record: calls.append(name)

    records = list(range(40))
    compare(
        [("a", candidate("a"), records), ("b", candidate("b"), records)],
        rounds=3,
        target=1e-9,  # one pass per timed run
    )
    runs: list[tuple[str, int]] = []  # consecutive calls of one candidate: (name, how many)
    for name in calls:
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + 1)
        else:
            runs.append((name, 1))
    # sizing (a warm pass of the sample, then the measured one), then each round: every
    # candidate's untimed calls right before its timed pass; a quarter of the pass here, since
    # the timed run is a single pass (a slow candidate), else a whole pass
    assert runs == [("a", 80), ("b", 80)] + [("a", 10 + 40), ("b", 10 + 40)] * 3


def test_every_candidate_runs_whole_passes_over_its_records() -> None:
    seen: dict[str, list[int]] = {"a": [], "b": []}

    def recorder(name: str) -> Any:
        return seen[name].append

    records = list(range(7))
    compare([("a", recorder("a"), records), ("b", recorder("b"), records)], rounds=2)
    for values in seen.values():
        assert len(values) % len(records) == 0
        assert all(values[i] == i % len(records) for i in range(len(values)))
