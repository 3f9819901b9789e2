"""Batch evaluation: `Engine.evaluate_many` and `ruleengine eval --snapshots --jobs N`.

Worker processes must change nothing but the speed: the same results, in input order, with
bad snapshots reported in place, and bounded memory however long the input.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.cli import jsonl
from ruleengine.engine import batch
from ruleengine.engine.engine import engine_for_text
from test_cli_engine import PER_VISIT  # a rule that divides by a customer's visits

ROOT = Path(__file__).parent.parent
ACME = ROOT / "examples/rules/acme.yaml"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def customers(count: int) -> list[dict[str, Any]]:
    """Varied acme customers: orders (some refunded), reviews, a referral now and then."""
    result = []
    for number in range(count):
        activity: list[dict[str, Any]] = []
        for index in range(number % 6):
            at = datetime(2026, 1, 3, tzinfo=UTC) + timedelta(days=9 * index + number % 7)
            order: dict[str, Any] = {
                "type": "order",
                "id": f"o{index}",
                "at": at.isoformat(),
                "subtotal": str(Decimal(15 + 11 * index + number % 17)),
                "channel": ("online", "pos", "phone")[(number + index) % 3],
            }
            if (number + index) % 5 == 0:
                order["refunded_at"] = (at + timedelta(days=4)).isoformat()
            activity.append(order)
        for index in range(number % 3):
            at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=6 * index + number % 4)
            activity.append(
                {"type": "review", "id": f"r{index}", "at": at.isoformat(), "rating": 4}
            )
        result.append(
            {
                "customer": {"id": f"c{number}", "region": "EU", "tags": []},
                "activity": activity,
                "granted": [] if number % 2 else ["order-points/o0"],
            }
        )
    return result


BAD = {"customer": {"id": "bad"}, "activity": [{"type": "ordr", "id": "x", "at": "2026-01-01"}]}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(ACME))


def test_evaluate_many_is_evaluate_one_by_one_with_errors_in_place(engine: Engine) -> None:
    snapshots: list[Any] = customers(30)
    snapshots.insert(7, BAD)
    snapshots.insert(12, engine.read_snapshot(snapshots[3]))  # validated snapshots are fine too
    results = list(engine.evaluate_many(snapshots, now=NOW))
    assert len(results) == len(snapshots)
    error = results[7]
    assert isinstance(error, SnapshotError)
    assert error.name == "snapshots[7]"
    assert [p.code for p in error.problems] == ["RE613"]  # an unknown activity type
    for snapshot, result in zip(snapshots, results, strict=True):
        if snapshot is not BAD:
            assert not isinstance(result, SnapshotError)
            assert result == engine.evaluate(snapshot, now=NOW)


def _parent_of_worker(items: list[int]) -> list[int]:
    return [os.getppid() for _ in items]


def test_workers_are_not_forked_from_this_process(engine: Engine) -> None:
    # This process may run threads (DuckDB's in a backtest, a host's own): a child forked from
    # it can inherit a lock held mid-operation by another thread, and a worker crashed in the
    # garbage collector that way. Workers come from a fork server instead.
    source = batch.source_of(engine, engine_for_text)
    parents = [
        pid
        for chunk in batch.ordered_map(_parent_of_worker, range(8), jobs=2, source=source, chunk=2)
        for pid in chunk
    ]
    assert os.getpid() not in parents


def test_two_jobs_give_exactly_the_results_of_one(engine: Engine) -> None:
    snapshots: list[Any] = customers(150)
    snapshots.insert(40, BAD)
    one = list(engine.evaluate_many(snapshots, now=NOW))
    two = list(engine.evaluate_many(iter(snapshots), now=NOW, jobs=2))
    assert [_show(r) for r in two] == [_show(r) for r in one]
    assert len({_show(r) for r in one}) > 100  # the customers really differ


def _show(result: Any) -> str:
    if isinstance(result, SnapshotError):
        return f"error {result}"
    return str(result.dumps(indent=None))


def test_a_snapshot_error_survives_pickling_with_its_problems(engine: Engine) -> None:
    import pickle

    with pytest.raises(SnapshotError) as caught:
        engine.read_snapshot(BAD, name="snapshots[3]")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is SnapshotError
    assert (copy.name, copy.problems, str(copy)) == (
        "snapshots[3]",
        caught.value.problems,
        str(caught.value),
    )


def test_evaluate_many_reads_its_input_lazily_with_a_bounded_window(engine: Engine) -> None:
    pulled = 0
    one = customers(1)[0]

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        while True:
            pulled += 1
            yield one

    results = engine.evaluate_many(endless(), now=NOW, jobs=2)
    first = list(itertools.islice(results, 10))
    assert len(first) == 10
    window = 2 * batch.WINDOW_PER_JOB * batch.CHUNK
    assert pulled <= window + batch.CHUNK  # never the whole (endless) input
    results.close()  # stops the workers


def test_evaluate_many_checks_its_arguments_at_once(engine: Engine) -> None:
    with pytest.raises(ValueError, match="aware"):
        engine.evaluate_many([], now=datetime(2026, 6, 1))
    with pytest.raises(ValueError, match="jobs"):
        engine.evaluate_many([], now=NOW, jobs=0)
    assert list(engine.evaluate_many([], now=NOW, jobs=2)) == []


def test_compiled_rulesets_are_cached_by_content() -> None:
    text = ACME.read_text(encoding="utf-8")
    first = engine_for_text(text, "acme.yaml")
    assert engine_for_text(text, "acme.yaml") is first
    assert engine_for_text(text + "\n# a comment\n", "acme.yaml") is not first
    assert engine_for_text(text, "other.yaml").ruleset.source.name == "other.yaml"


def test_the_progress_bar_draws_only_on_a_terminal(engine: Engine) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    lines = [json.dumps(c) + "\n" for c in customers(3)]
    out, terminal = io.StringIO(), Terminal()
    size = sum(len(line) for line in lines)
    counts = jsonl.eval_lines(engine, lines, name="x", now=NOW, out=out, err=terminal, size=size)
    assert counts == jsonl.Counts(lines=3, invalid=0, with_problems=0)
    assert "3 customers" in terminal.getvalue() and "100%" in terminal.getvalue()
    quiet = io.StringIO()
    jsonl.eval_lines(engine, lines, name="x", now=NOW, out=io.StringIO(), err=quiet)
    assert quiet.getvalue() == ""
    assert out.getvalue().count("\n") == 3


# -- the command line ---------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruleengine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def test_jobs_2_prints_byte_for_byte_what_jobs_1_prints(tmp_path: Path) -> None:
    lines = [json.dumps(c) for c in customers(120)]
    lines.insert(5, "{broken")
    lines.insert(9, "")
    lines.insert(60, json.dumps(BAD))
    path = tmp_path / "customers.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    now = "--now=2026-06-01T00:00:00Z"
    one = run("eval", str(ACME), "--snapshots", str(path), now, "--jobs", "1")
    two = run("eval", str(ACME), "--snapshots", str(path), now, "--jobs", "2")
    assert one.returncode == two.returncode == 1  # two lines are invalid
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
    outputs = one.stdout.splitlines()
    assert len(outputs) == len(lines) - 1  # the blank line has no output
    assert json.loads(outputs[5])["error"] == "invalid snapshot"
    assert [p["code"] for p in json.loads(outputs[59])["problems"]] == ["RE613"]
    assert json.loads(outputs[6])["customer"] == "c5"
    assert one.stderr.splitlines()[0].startswith(f"{path}:6:2: error[RE611]")
    assert f"{path}:61: $.activity[0].type: error[RE613]" in one.stderr


REFUNDED_BEFORE_ORDER = {
    "customer": {"id": "c-refund", "region": "EU"},
    "activity": [
        {
            "type": "order",
            "id": "o1",
            "at": "2026-02-05T12:00:00Z",
            "subtotal": "40.00",
            "refunded_at": "2026-02-01T12:00:00Z",
        }
    ],
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_invalid_line_carries_its_problems(tmp_path: Path, jobs: str) -> None:
    lines = [
        json.dumps(customers(2)[1]),
        '{"customer": {"id": "c1", "region": "EU"},, "activity": []}',  # not JSON
        json.dumps(BAD),  # breaks the schema: an unknown activity type
        json.dumps(REFUNDED_BEFORE_ORDER),  # impossible (RE615)
        json.dumps(customers(3)[2]),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(
        "eval", str(ACME), "--snapshots", str(path), "--now=2026-06-01T00:00:00Z", "--jobs", jobs
    )
    assert result.returncode == 1
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("customer") for o in outputs] == ["c1", None, None, None, "c2"]
    assert outputs[1:4] == [
        {
            "line": 2,
            "error": "invalid snapshot",
            "problems": [
                {
                    "code": "RE611",
                    "path": "$",
                    "message": "the snapshot is not valid JSON: Expecting property name "
                    "enclosed in double quotes",
                    "line": 2,
                    "column": 43,
                }
            ],
        },
        {
            "line": 3,
            "error": "invalid snapshot",
            "problems": [
                {
                    "code": "RE613",
                    "path": "$.activity[0].type",
                    "message": "unknown activity type `ordr`",
                    "hint": "did you mean `order`?",
                }
            ],
        },
        {
            "line": 4,
            "error": "invalid snapshot",
            "problems": [
                {
                    "code": "RE615",
                    "path": "$.activity[0].refunded_at",
                    "message": "order `o1` is refunded at 2026-02-01T12:00:00+00:00, before it "
                    "was placed at 2026-02-05T12:00:00+00:00",
                    "hint": "a refund comes after its order: check both timestamps and their "
                    "offsets",
                }
            ],
        },
    ]
    # The same problems, once each, as text on stderr.
    assert result.stderr.splitlines() == [
        f"{path}:2:43: error[RE611] the snapshot is not valid JSON: Expecting property name "
        "enclosed in double quotes",
        f"{path}:3: $.activity[0].type: error[RE613] unknown activity type `ordr` (hint: did "
        "you mean `order`?)",
        f"{path}:4: $.activity[0].refunded_at: error[RE615] order `o1` is refunded at "
        "2026-02-01T12:00:00+00:00, before it was placed at 2026-02-05T12:00:00+00:00 (hint: a "
        "refund comes after its order: check both timestamps and their offsets)",
    ]


def test_a_line_that_is_not_an_object_says_so_in_the_contracts_words(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('[]\n5\nnull\n"x"\n', encoding="utf-8")
    result = run("eval", str(ACME), "--snapshots", str(path), "--now=2026-06-01T00:00:00Z")
    assert result.returncode == 1
    problem = {"code": "RE610", "path": "$", "message": "a snapshot must be a JSON object"}
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"line": n, "error": "invalid snapshot", "problems": [problem]} for n in range(1, 5)
    ]
    assert "SnapshotIn" not in result.stderr


def test_one_snapshot_and_many_are_a_usage_error_together(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(customers(1)[0]), encoding="utf-8")
    many = tmp_path / "many.jsonl"
    many.write_text(json.dumps(customers(2)[1]) + "\n", encoding="utf-8")
    now = "--now=2026-06-01T00:00:00Z"
    for args in (
        ("--snapshot", str(one), "--snapshots", str(many)),
        ("--snapshots", str(many), "--snapshot", str(one)),
    ):
        result = run("eval", str(ACME), *args, now)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.splitlines()[-1].startswith(
            "ruleengine eval: error: argument --snapshot"
        )


def test_jobs_must_not_be_negative(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(customers(1)[0]) + "\n", encoding="utf-8")
    result = run("eval", str(ACME), "--snapshots", str(path), "--jobs", "-1")
    assert result.returncode == 2 and "--jobs" in result.stderr
    assert run("eval", str(ACME), "--snapshots", str(path), "--jobs", "0").returncode == 0


def _visitor(visits: int) -> str:
    order = {"type": "order", "id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": "5"}
    return json.dumps({"customer": {"id": f"v{visits}", "visits": visits}, "activity": [order]})


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_strict_fails_a_batch_whose_results_have_runtime_problems(
    tmp_path: Path, jobs: str
) -> None:
    rules = tmp_path / "per-visit.yaml"
    rules.write_text(PER_VISIT, encoding="utf-8")
    path = tmp_path / "visitors.jsonl"
    path.write_text(f"{_visitor(4)}\n{_visitor(0)}\n", encoding="utf-8")  # 100 / 0: RE601
    args = ("eval", str(rules), "--snapshots", str(path), "--now", "2026-06-01T00:00:00Z")
    default = run(*args, "--jobs", jobs)
    strict = run(*args, "--jobs", jobs, "--strict")
    assert (default.returncode, strict.returncode) == (0, 1)
    assert strict.stdout == default.stdout  # the same results; only the exit code differs
    assert [
        [p["code"] for p in json.loads(line)["problems"]] for line in strict.stdout.splitlines()
    ] == [[], ["RE601"]]
    path.write_text(f"{_visitor(4)}\n", encoding="utf-8")
    assert run(*args, "--jobs", jobs, "--strict").returncode == 0  # no problems: clean
    path.write_text(f"{_visitor(4)}\n{{broken\n", encoding="utf-8")
    assert run(*args, "--jobs", jobs).returncode == 1  # an invalid line fails either way


def test_text_output_is_refused_for_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(customers(1)[0]) + "\n", encoding="utf-8")
    result = run("eval", str(ACME), "--snapshots", str(path), "--format", "text")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "ruleengine: error: --format text is for one customer; --snapshots writes JSON Lines\n"
    )
    help_text = " ".join(run("eval", "--help").stdout.split())  # as wrapped for any width
    assert "text is for one customer, so it cannot be used with --snapshots" in help_text


def test_workers_run_with_the_engine_limits() -> None:
    from ruleengine.limits import Limits

    limits = Limits(max_activity=2)
    engine = Engine(load_ruleset(ACME, limits=limits), limits=limits)
    snapshots = customers(12)  # some have more than two pieces of activity
    one = [_show(r) for r in engine.evaluate_many(snapshots, now=NOW)]
    two = [_show(r) for r in engine.evaluate_many(snapshots, now=NOW, jobs=2)]
    assert two == one
    assert any("RE614" in shown for shown in one)


class _RecordingStream(io.StringIO):
    """A text stream that remembers the longest piece it ever handed out."""

    longest = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        line = super().readline(size)
        self.longest = max(self.longest, len(line))
        return line


def test_a_giant_line_is_refused_without_being_read_whole() -> None:
    from ruleengine.limits import Limits

    limits = Limits(max_snapshot_bytes=2_000)
    engine = Engine(load_ruleset(ACME, limits=limits), limits=limits)
    small = json.dumps(customers(1)[0])
    giant = json.dumps({**customers(1)[0], "granted": ["x" * 50] * 4_000})  # ~200 KB
    stream = _RecordingStream(f"{small}\n{giant}\n{small}\n{giant}")  # the last has no newline
    out, err = io.StringIO(), io.StringIO()
    counts = jsonl.eval_lines(
        engine,
        jsonl.bounded_lines(stream, limits.max_snapshot_bytes),
        name="in.jsonl",
        now=NOW,
        out=out,
        err=err,
    )
    assert stream.longest <= limits.max_snapshot_bytes + 1
    assert counts.invalid == 2
    outputs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [o.get("error") for o in outputs] == [None, "invalid snapshot", None, "invalid snapshot"]
    assert [o["line"] for o in outputs if "line" in o] == [2, 4]
    assert outputs[1]["problems"] == [
        {"code": "RE614", "path": "$", "message": "the snapshot is larger than 2,000 bytes"}
    ]
    assert err.getvalue().count("error[RE614] the snapshot is larger than 2,000 bytes") == 2
    assert "in.jsonl:2:" in err.getvalue() and "in.jsonl:4:" in err.getvalue()


def test_bounded_lines_keeps_lines_within_the_limit_as_they_are() -> None:
    text = "a\n" + "b" * 10 + "\n" + "c" * 11 + "\n\nd"
    assert list(jsonl.bounded_lines(io.StringIO(text), 10)) == [
        "a\n",
        "b" * 10 + "\n",
        "c" * 11,
        "\n",
        "d",
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_line_that_is_not_utf8_is_that_lines_problem(tmp_path: Path, jobs: str) -> None:
    """It ended the run in an internal error (UnicodeDecodeError, exit 101)."""
    good = json.dumps(customers(1)[0]).encode()
    path = tmp_path / "customers.jsonl"
    path.write_bytes(b'{"customer": {"id": "z\xe9"}}\n' + good + b"\n")
    done = run(
        "eval", str(ACME), "--snapshots", str(path), "--now=2026-06-01T00:00:00Z", "--jobs", jobs
    )
    assert done.returncode == 1, done.stderr
    first, second = done.stdout.splitlines()
    assert json.loads(first)["problems"][0]["message"].startswith("the line is not UTF-8 text")
    assert "decisions" in json.loads(second)
    assert ":1:23: error[RE611] the line is not UTF-8 text: byte 0xE9" in done.stderr
