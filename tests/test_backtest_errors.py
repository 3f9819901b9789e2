"""Bad input to `backtest` and `diff` (issue #15, "Done when"): a malformed Parquet or CSV
file, an unknown column, a bad row, a git revision that does not exist. Each gets one clear
line naming the file (and the line or row), exit 1 (bad data) or 2 (usage), no traceback, and
nothing left where `--out` was to be written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_backtest import NOW, RULES, backtest_acme, history, run, write_tables

HEADER = '"customer_id","type","id","at","subtotal","channel"\n'
ROW = '"c1","order","o1","2026-01-02T00:00:00Z","25.00","online"\n'


def _csv_tables(folder: Path, activity: bytes) -> Path:
    folder.mkdir()
    (folder / "customers.csv").write_text(
        '"customer_id","tier","region"\n"c1","gold","eu"\n', "utf-8"
    )
    (folder / "activity.csv").write_bytes(activity)
    return folder


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        (
            HEADER + '"c1","order","o2","2026-01-03T00:00:00Z"\n',
            "cannot read `{folder}/activity.csv`: Invalid Input Error: CSV Error on Line: 2; "
            "Expected Number of Columns: 6 Found: 4",
        ),
        (
            HEADER + ROW.replace('"online"', '"online","extra"'),
            "cannot read `{folder}/activity.csv`: Invalid Input Error: CSV Error on Line: 2; "
            "Expected Number of Columns: 6 Found: 7",
        ),
        (
            "\ufeff".encode("utf-16-le").decode("latin-1") + "customer_id",
            "`{folder}/activity.csv` line 1: the file is not UTF-8 text",
        ),
        ("", "`{folder}/activity.csv`: the file is empty; its first line must name the columns"),
        (
            HEADER.replace('"channel"', '"type"') + ROW,
            "`{folder}/activity.csv` line 1: column `type` appears twice",
        ),
    ],
    ids=["missing-field", "extra-field", "not-utf8", "empty", "duplicate-column"],
)
def test_a_malformed_csv_file_is_named_with_its_line(
    activity: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _csv_tables(tmp_path / "t", activity.encode("latin-1"))
    code, out, err = backtest_acme(folder, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (1, "")
    assert err == f"ruleengine: error: {message.format(folder=folder)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_a_well_formed_csv_still_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The dialect given (not sniffed) reads what a warehouse writes: quoted or bare cells,
    CRLF line ends."""
    lines = HEADER + ROW.replace('"', "") + ROW.replace("o1", "o2").replace("25.00", "30")
    folder = _csv_tables(tmp_path / "t", lines.replace("\n", "\r\n").encode("utf-8"))
    code, out, err = backtest_acme(folder, "--format", "json", capsys=capsys)
    assert (code, err) == (0, "")
    assert '"points": 275' in out  # floor(25.00 * 5) + floor(30 * 5)


def test_a_malformed_parquet_file_leaves_no_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tables(tmp_path / "t", history(5), "parquet")
    (folder / "customers.parquet").write_bytes(b"PAR1 truncated")
    code, out, err = run(
        "diff",
        str(RULES / "acme.yaml"),
        str(RULES / "acme.yaml"),
        "--customers",
        str(folder),
        "--now",
        NOW,
        "--out",
        str(tmp_path / "out"),
        capsys=capsys,
    )
    assert (code, out) == (1, "")
    assert err.startswith(f"ruleengine: error: cannot read `{folder}/customers.parquet`: ")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ("no-such-branch:examples/rules/acme.yaml", "invalid object name 'no-such-branch'."),
        (
            "HEAD:examples/rules/no-such.yaml",
            "path 'examples/rules/no-such.yaml' does not exist in 'HEAD'",
        ),
    ],
)
def test_a_git_revision_that_does_not_exist_is_a_usage_error(
    old: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_tables(tmp_path / "t", history(3), "parquet")
    monkeypatch.chdir(RULES.parent.parent)  # the repository holding the rule files
    code, out, err = run(
        "diff",
        old,
        str(RULES / "acme.yaml"),
        "--customers",
        str(folder),
        "--now",
        NOW,
        "--out",
        str(tmp_path / "out"),
        capsys=capsys,
    )
    assert (code, out) == (2, "")
    assert err == f"ruleengine: error: cannot read `{old}` from git: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_duckdb_out_of_memory_names_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running out of DuckDB's memory is the machine's setting, not bad data: exit 2, and
    the message says which setting to raise."""
    folder = write_tables(tmp_path / "t", history(300), "parquet")
    monkeypatch.setenv("RULEENGINE_DUCKDB_MEMORY", "1MB")
    code, out, err = backtest_acme(folder, "--out", str(tmp_path / "out"), capsys=capsys)
    assert (code, out) == (2, "")
    assert "Out of Memory Error" in err
    assert err.endswith("raise DuckDB's memory limit with RULEENGINE_DUCKDB_MEMORY (now 1MB)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


@pytest.mark.parametrize("command", ["backtest", "diff"])
@pytest.mark.parametrize(
    ("now", "message"),
    [
        ("0001-01-01T00:00:00Z", "is outside the years 1900 to 9000"),
        ("9999-12-31T23:00:00+00:00", "is outside the years 1900 to 9000"),
        ("2026-06-01", "has no time zone offset"),
        ("June 1st", "is not an ISO 8601 timestamp"),
    ],
)
def test_now_is_read_as_eval_reads_it(
    command: str, now: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--now` outside the supported years is a usage error, as for `eval`, not exit 101."""
    rules = [str(RULES / "acme.yaml")] * (2 if command == "diff" else 1)
    folder = write_tables(tmp_path / "t", history(3), "parquet")
    with pytest.raises(SystemExit) as exited:
        run(command, *rules, "--customers", str(folder), "--now", now, capsys=capsys)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
