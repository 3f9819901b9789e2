"""Edges of the backtest's input and output, as a user meets them: a customer twice in a
JSON Lines history (RE650, as in a customers table), CSV files as spreadsheets write them
(a byte order mark, a column without a name), a folder holding a table twice, and `--out`
left clean when a run fails or is stopped by SIGTERM or SIGINT (no staging folder, no parent
folder it made, an existing `DIR` as it was, no DuckDB spill folder).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ruleengine.backtest.layout import Customer, Origin
from test_backtest import (
    NOW,
    RULES,
    backtest_acme,
    example_snapshots,
    history,
    run,
    write_jsonl,
    write_tables,
)

ROOT = Path(__file__).parent.parent
ACME_HISTORY = ROOT / "examples/history/acme.jsonl"
PROPOSED = ROOT / "examples/history/acme-proposed.yaml"


def _tree(folder: Path) -> list[str]:
    """Every file and folder under `folder`, relative, sorted (hidden staging folders too)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- 1. a customer twice in JSON Lines ------------------------------------------------------------


def _history_with_a_customer_twice(path: Path) -> Path:
    """The bundled acme history, then a blank line and customer c4 again, exported a second
    time with one more order (an export job that ran twice): line 102 repeats line 5."""
    lines = ACME_HISTORY.read_text(encoding="utf-8").splitlines()
    again = json.loads(lines[4])
    assert again["customer"]["id"] == "c4"
    again["activity"].append(
        {"type": "order", "id": "o-late", "at": "2026-05-01T10:00:00Z", "subtotal": "80.00"}
    )
    path.write_text("\n".join([*lines, "", json.dumps(again)]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["backtest", "diff"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_customer_twice_in_json_lines_is_refused(
    command: str, jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _history_with_a_customer_twice(tmp_path / "history.jsonl")
    rules = [str(RULES / "acme.yaml")] + ([str(PROPOSED)] if command == "diff" else [])
    code, out, err = run(
        command, *rules, "--customers", str(data), "--now", NOW, "--jobs", jobs,
        "--out", str(tmp_path / "out"), capsys=capsys,
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: {data}:102: $.customer.id: error[RE650] customer `c4` appears "
        "more than once (first on line 5)\n"
    )
    assert _tree(tmp_path) == ["history.jsonl"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_first_problem_in_the_file_is_reported(
    jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A customer without an order amount on line 5 and a repeated customer on line 10: the
    run stops at line 5. (Reading a batch of lines found line 10 before line 5 was
    evaluated, so the later problem was reported.)"""
    lines = ACME_HISTORY.read_text(encoding="utf-8").splitlines()
    bad = {
        "customer": {"id": "late", "region": "EU"},
        "activity": [{"type": "order", "id": "o1", "at": "2026-02-01T00:00:00Z"}],
    }
    data = tmp_path / "h.jsonl"
    data.write_text(
        "\n".join([*lines[:4], json.dumps(bad), *lines[4:8], lines[0], *lines[8:]]) + "\n",
        encoding="utf-8",
    )
    code, out, err = backtest_acme(data, "--jobs", jobs, capsys=capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: {data}:5: $.activity[0].subtotal: error[RE610] missing field "
        "`subtotal` [customer `late`]\n"
    )


def test_each_customer_once_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ids that differ only in case, or are a prefix of another, are different customers."""
    snapshots = history(3)
    for snapshot, ident in zip(snapshots, ["C1", "c1", "c10"], strict=True):
        snapshot["customer"]["id"] = ident
    code, out, err = backtest_acme(write_jsonl(tmp_path / "h.jsonl", snapshots), capsys=capsys)
    assert (code, err) == (0, "")
    assert "3 customers from" in out


def test_a_customer_twice_in_a_customers_table_names_both_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = history(4)
    snapshots.append(json.loads(json.dumps(snapshots[1], default=str)))  # c1 again, row 5
    folder = write_tables(tmp_path / "t", snapshots, "csv")
    code, out, err = backtest_acme(folder, capsys=capsys)
    ident = snapshots[1]["customer"]["id"]
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: `{folder}/customers.csv` row 5, column `customer_id`: "
        f"error[RE650] customer `{ident}` appears more than once (first at row 2)\n"
    )


# -- 2. CSV as spreadsheets write it --------------------------------------------------------------


def _acme_csv(folder: Path) -> Path:
    """The acme example customers as CSV tables, cells quoted, as pyarrow writes them."""
    return write_tables(folder, example_snapshots("acme"), "csv")


def test_csv_with_a_byte_order_mark_reads_as_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel's "CSV UTF-8" puts U+FEFF before the header; it is not part of `customer_id`."""
    plain = _acme_csv(tmp_path / "plain")
    code, expected, err = backtest_acme(plain, "--format", "json", capsys=capsys)
    assert (code, err) == (0, "")
    marked = _acme_csv(tmp_path / "marked")
    for table in ("customers.csv", "activity.csv"):
        text = (marked / table).read_text(encoding="utf-8")
        (marked / table).write_text("\ufeff" + text.replace("\n", "\r\n"), encoding="utf-8")
    code, out, err = backtest_acme(marked, "--format", "json", capsys=capsys)
    assert (code, err) == (0, "")
    assert out.replace(str(marked), str(plain)) == expected
    report = json.loads(out)
    assert (report["customers"], report["totals"]["points"] > 0) == (
        len(example_snapshots("acme")),
        True,
    )


@pytest.mark.parametrize(
    ("table", "header", "message"),
    [
        (
            "customers.csv",
            '"customer_id","","tier"',
            "column 2 has no name (after `customer_id`); every column needs one",
        ),
        ("activity.csv", ',"customer_id"', "column 1 has no name (after nothing); every column"),
        ("activity.csv", '"customer_id", ,"type"', "column 2 has no name (after `customer_id`)"),
    ],
    ids=["customers-middle", "activity-first", "blank"],
)
def test_a_csv_column_without_a_name_is_named(
    table: str, header: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _acme_csv(tmp_path / "t")
    lines = (folder / table).read_text(encoding="utf-8").splitlines()
    (folder / table).write_text("\n".join([header, *lines[1:]]) + "\n", encoding="utf-8")
    code, out, err = backtest_acme(folder, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"ruleengine: error: `{folder}/{table}` line 1: {message}"), err
    assert err.count("\n") == 1
    assert _tree(tmp_path) == sorted(["t", *(f"t/{t}" for t in ("activity.csv", "customers.csv"))])


def test_a_table_both_as_parquet_and_csv_is_ambiguous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older Parquet export left beside a newer CSV one: reading either would silently
    drop the other's rows."""
    snapshots = example_snapshots("acme")
    folder = write_tables(tmp_path / "t", snapshots[:3], "parquet")
    write_tables(folder, snapshots, "csv")
    code, out, err = backtest_acme(folder, capsys=capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"ruleengine: error: `{folder}` has both `{folder}/customers.parquet` and "
        f"`{folder}/customers.csv`: which one is the customers table is ambiguous; move one "
        "of them out of the folder\n"
    )


# -- 3. --out after a failure ---------------------------------------------------------------------


def _bad_last_line(path: Path) -> Path:
    """The acme history with a last customer whose order has no amount: found after 100
    customers were evaluated and their decisions buffered."""
    bad = {
        "customer": {"id": "late", "region": "EU"},
        "activity": [{"type": "order", "id": "o1", "at": "2026-02-01T00:00:00Z"}],
    }
    text = ACME_HISTORY.read_text(encoding="utf-8") + json.dumps(bad) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failed_run_removes_the_folders_it_made(
    jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _bad_last_line(tmp_path / "h.jsonl")
    out = tmp_path / "runs" / "2026-06" / "acme"
    code, stdout, err = backtest_acme(data, "--out", str(out), "--jobs", jobs, capsys=capsys)
    assert (code, stdout) == (1, "")
    assert f"{data}:101: $.activity[0].subtotal: error[RE610]" in err, err
    assert _tree(tmp_path) == ["h.jsonl"]


def test_a_failed_run_leaves_an_existing_empty_out_and_its_parents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _bad_last_line(tmp_path / "h.jsonl")
    (tmp_path / "runs" / "acme").mkdir(parents=True)
    code, _, _ = backtest_acme(data, "--out", str(tmp_path / "runs/acme"), capsys=capsys)
    assert code == 1
    assert _tree(tmp_path) == ["h.jsonl", "runs", "runs/acme"]


def test_output_written_meanwhile_at_out_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run that wrote `DIR` while this one ran keeps its files: this run's rename
    fails, and it says so (exit 2) and removes its staging folder."""
    from ruleengine.backtest import command

    out = tmp_path / "out"
    evaluate = command._evaluate

    def other_run_finishes_first(*args: Any) -> Any:
        result = evaluate(*args)
        out.mkdir()
        (out / "report.json").write_text('{"other": "run"}', encoding="utf-8")
        return result

    monkeypatch.setattr(command, "_evaluate", other_run_finishes_first)
    data = write_jsonl(tmp_path / "h.jsonl", history(5))
    code, stdout, err = backtest_acme(data, "--out", str(out), capsys=capsys)
    assert (code, stdout) == (2, "")
    assert err.startswith(f"ruleengine: error: cannot write `{out}`: "), err
    assert _tree(tmp_path) == ["h.jsonl", "out", "out/report.json"]
    assert (out / "report.json").read_text(encoding="utf-8") == '{"other": "run"}'


# -- 3. --out after SIGTERM or SIGINT, in a real process ------------------------------------------

CUSTOMERS = 4000
"""Customers in the interrupted runs' input: a few seconds of evaluation at least, while the
signal is sent within a poll of the output file appearing. (A run that finished first would
fail the test on its exit code, not pass it.)"""


def _long_history(folder: Path, kind: str) -> Path:
    """`CUSTOMERS` customers of the acme history (copies under new ids), as JSON Lines or
    Parquet tables."""
    lines = ACME_HISTORY.read_text(encoding="utf-8").splitlines()
    snapshots = []
    for number in range(CUSTOMERS):
        snapshot = json.loads(lines[number % len(lines)])
        snapshot["customer"]["id"] = f"g{number:05d}"
        snapshots.append(snapshot)
    if kind == "jsonl":
        return write_jsonl(folder / "history.jsonl", snapshots)
    return write_tables(folder / "history", snapshots, "parquet")


def _wait_for(pattern: str, folder: Path, process: subprocess.Popen[bytes]) -> None:
    """Until a file matching `pattern` is under `folder` (bounded; not a timing)."""
    for _ in range(12_000):
        if any(folder.glob(pattern)):
            return
        if process.poll() is not None:
            break
        time.sleep(0.01)
    process.kill()
    _, err = process.communicate()
    pytest.fail(f"the run never wrote {pattern}: exit {process.returncode}, {err.decode()}")


@pytest.mark.parametrize(
    ("kind", "stop", "jobs", "existing"),
    [
        ("jsonl", signal.SIGTERM, "1", False),
        ("jsonl", signal.SIGINT, "2", False),
        ("parquet", signal.SIGTERM, "1", True),
    ],
    ids=["jsonl-sigterm", "jsonl-sigint-jobs2", "parquet-sigterm-existing-out"],
)
def test_an_interrupted_run_leaves_nothing(
    kind: str, stop: signal.Signals, jobs: str, existing: bool, tmp_path: Path
) -> None:
    inputs, temp, work = tmp_path / "in", tmp_path / "tmp", tmp_path / "work"
    for folder in (inputs, temp, work):
        folder.mkdir()
    data = _long_history(inputs, kind)
    out = work / "out" if existing else work / "runs" / "june" / "out"
    if existing:
        out.mkdir()
    argv = [
        sys.executable, "-m", "ruleengine", "backtest", str(RULES / "acme.yaml"),
        "--customers", str(data), "--now", NOW, "--out", str(out), "--jobs", jobs,
    ]  # fmt: skip
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(temp)},  # DuckDB's spill folder goes here
        start_new_session=True,  # its own process group, as a shell gives a command
    )
    _wait_for(f"**/.{out.name}.*/decisions.parquet", work, process)
    if stop == signal.SIGINT:
        os.killpg(process.pid, stop)  # Ctrl-C: the whole group, --jobs workers too
    else:
        process.send_signal(stop)
    stdout, err = process.communicate()
    assert (process.returncode, stdout) == (128 + stop, b"")
    assert err.decode() == f"ruleengine: error: interrupted by {stop.name} (--out not written)\n"
    assert _tree(work) == (["out"] if existing else [])
    assert _tree(temp) == []


def test_workers_leave_ctrl_c_to_the_command() -> None:
    """The fork server and the --jobs workers ignore SIGINT (a worker stopped by Ctrl-C
    mid-chunk printed a KeyboardInterrupt traceback); the command still takes it. In a
    fresh process, since a server already running is left as it is."""
    script = (
        "import signal\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from ruleengine.backtest.parallel import start_workers_without_ctrl_c\n"
        "from ruleengine.engine.batch import _worker_context\n"
        "if __name__ == '__main__':\n"
        "    start_workers_without_ctrl_c()\n"
        "    with ProcessPoolExecutor(1, mp_context=_worker_context()) as pool:\n"
        "        worker = pool.submit(signal.getsignal, signal.SIGINT).result()\n"
        "    print(worker is signal.SIG_IGN, signal.getsignal(signal.SIGINT).__name__)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert (shown.stdout, shown.stderr) == ("True default_int_handler\n", "")


def test_a_signal_that_duckdb_turns_into_its_own_error_is_still_an_interrupt() -> None:
    """DuckDB's `execute` runs our handler while it checks for signals and raises
    `RuntimeError('Query interrupted')` instead of what the handler raised (seen with a long
    CREATE TABLE): the run must still end as interrupted (143), not as an internal error
    (101). Here the library's part is played by the `except` clause."""
    from ruleengine.backtest.output import Interrupted, interrupts

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as caught, interrupts():
        try:
            signal.raise_signal(signal.SIGTERM)  # to this thread; handled before it returns
        except Interrupted:
            raise RuntimeError("Query interrupted") from None
    assert (caught.value.signum, caught.value.name) == (signal.SIGTERM, "SIGTERM")
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_stops_reading_the_source_at_once_with_jobs() -> None:
    """With --jobs the pool takes each chunk with signals held (not to stop a worker
    half-started), but reading the source (a DuckDB sort of a large history can take a
    while) is stopped at once, not after it."""
    from ruleengine.backtest.output import Interrupted, held_signals, interrupts
    from ruleengine.backtest.parallel import _in_order

    def source() -> Iterator[list[Customer]]:
        signal.raise_signal(signal.SIGTERM)  # comes while the source is being read
        yield [Customer("c1", {"customer": {"id": "c1"}, "activity": []}, Origin("h", 1))]

    read = []
    with pytest.raises(Interrupted), interrupts(), held_signals():
        read.append(next(_in_order(source())))
    assert read == []
