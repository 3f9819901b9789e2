"""`backtest --jobs N` and `diff --jobs N`: worker processes change nothing in the output (the
report, `report.json` and `decisions.parquet` are the bytes `--jobs 1` writes), and a bad
customer stops the run with the error `--jobs 1` stops at, in source order.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ruleengine.backtest.parallel import CHUNK
from test_backtest import NOW, RULES, backtest_acme, changed_acme, history, run, write_tables


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("command", ["backtest", "diff"])
def test_jobs_write_what_one_job_writes(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshots = history(5 * CHUNK + 7, seed=4)  # several chunks, the last one short
    data = write_tables(tmp_path / "t", snapshots, "parquet")
    rules = [str(RULES / "acme.yaml")]
    if command == "diff":
        rules.append(str(changed_acme(tmp_path)))
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        code, text, err = run(
            command,
            *rules,
            "--customers",
            str(data),
            "--now",
            NOW,
            "--by",
            "month",
            "--format",
            "json",
            "--out",
            str(out),
            "--jobs",
            jobs,
            capsys=capsys,
        )
        assert (code, err) == (0, "")
        outputs[jobs] = (text, _files(out))
    assert outputs["2"] == outputs["1"]
    text, files = outputs["1"]
    assert sorted(files) == ["decisions.parquet", "report.json"]
    assert f'"customers": {len(snapshots)}' in text


def test_jobs_stop_at_the_first_bad_customer_in_source_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two customers with bad data in different chunks: each run names the earlier one, and
    writes nothing."""
    snapshots = history(4 * CHUNK, seed=5)
    folder = write_tables(tmp_path / "t", snapshots, "parquet")
    table = pq.read_table(folder / "activity.parquet")
    owners = table["customer_id"].to_pylist()
    ids = sorted(s["customer"]["id"] for s in snapshots)  # the source's order: ids as text
    subtotals = table["subtotal"].to_pylist()
    types = table["type"].to_pylist()
    early = next(
        i for i, v in enumerate(subtotals) if v is not None and ids.index(owners[i]) > CHUNK + 3
    )
    late = next(i for i, v in enumerate(types) if ids.index(owners[i]) > 3 * CHUNK)
    subtotals[early] = "12,50"
    types[late] = "ordr"
    for name, values in (("subtotal", subtotals), ("type", types)):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(values, pa.string()))
    pq.write_table(table, folder / "activity.parquet")
    errors = {}
    for jobs in ("1", "2"):
        code, out, err = backtest_acme(
            folder, "--out", str(tmp_path / f"out-{jobs}"), "--jobs", jobs, capsys=capsys
        )
        assert (code, out) == (1, "")
        errors[jobs] = err
    assert errors["2"] == errors["1"]
    assert f"activity.parquet` row {early + 1}, column `subtotal`" in errors["1"]
    assert "Traceback" not in errors["1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_negative_jobs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tables(tmp_path / "t", history(3), "parquet")
    code, out, err = backtest_acme(folder, "--jobs", "-1", capsys=capsys)
    assert (code, out) == (2, "")
    assert "--jobs must be 0 (one per CPU) or more, not -1" in err


def test_passes_over_id_ranges_read_what_one_pass_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large history is read in passes over ranges of customer ids (bounded memory); the
    customers, their order and so the report and `--out` are those of a single pass."""
    from ruleengine.backtest import sources

    data = write_tables(tmp_path / "t", history(150, seed=6), "parquet")
    outputs = []
    for pass_rows in (sources.PASS_ROWS, 300):  # one pass; then about ten
        monkeypatch.setattr(sources, "PASS_ROWS", pass_rows)
        out = tmp_path / f"out-{pass_rows}"
        code, text, err = backtest_acme(data, "--format", "json", "--out", str(out), capsys=capsys)
        assert (code, err) == (0, "")
        outputs.append((text, _files(out)))
    assert outputs[1] == outputs[0]
    source = sources.open_source(data, {"region": "string", "lifetime_value": "decimal?"})
    assert len(source._ranges()) > 5
