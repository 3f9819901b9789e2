"""The DuckDB path renders each table row as JSON text in DuckDB (`layout.cell_json_sql`) and
reads a customer's text where it is evaluated (`Customer.data`, in a worker with `--jobs`):
the snapshots, and the located errors, must be exactly those of reading the rows' values
(`layout.assemble_customer`, the path for column types that have no rendering) and of the
same customers as JSON Lines.
"""

from __future__ import annotations

import csv
import json
import pickle
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ruleengine import Engine, load_ruleset
from ruleengine.backtest.layout import SourceError
from ruleengine.backtest.sources import TableSource, split_snapshot
from ruleengine.engine.snapshot import Snapshot
from test_backtest import PROGRAMS, RULES, backtest_acme, example_snapshots, history, write_tables


def _engine(program: str) -> Engine:
    return Engine(load_ruleset(RULES / PROGRAMS[program]))


def _attributes(engine: Engine) -> dict[str, str]:
    return {k: str(v) for k, v in engine.ruleset.model.attributes.items()}


def _read(engine: Engine, source: TableSource) -> dict[str, Snapshot]:
    snapshots = {}
    for batch in source.batches(rows=7):  # several batches, so the merge crosses them
        for customer in batch:
            snapshots[customer.id] = engine.read_snapshot(customer.data, name=customer.id)
    return snapshots


def _both_paths(
    engine: Engine, data: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Snapshot], dict[str, Snapshot]]:
    """The snapshots read as text, and as the rows' values."""
    text_source = TableSource(data, _attributes(engine))
    assert text_source._text is not None  # every column of these tables has a rendering
    as_text = _read(engine, text_source)
    with monkeypatch.context() as patch:
        patch.setattr(TableSource, "_text_queries", lambda self: None)
        as_rows = _read(engine, TableSource(data, _attributes(engine)))
    return as_text, as_rows


def _from_json(engine: Engine, snapshots: list[dict[str, Any]]) -> dict[str, Snapshot]:
    return {s["customer"]["id"]: engine.read_snapshot(s) for s in snapshots}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("ext", ["parquet", "csv"])
def test_text_reads_what_rows_and_json_lines_read(
    program: str, ext: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example customers (items, discount codes, custom events' `fields`, granted keys,
    attributes) and a generated history, from text columns (CSV cells are all text)."""
    engine = _engine(program)
    snapshots = example_snapshots(program) + (history(60) if program == "acme" else [])
    data = write_tables(tmp_path / "t", snapshots, ext)
    as_text, as_rows = _both_paths(engine, data, monkeypatch)
    assert as_text == as_rows == _from_json(engine, snapshots)


def _typed_tables(folder: Path, snapshots: list[dict[str, Any]]) -> Path:
    """A warehouse export's types: DECIMAL amounts, TIMESTAMPTZ moments, a DATE birthday,
    BOOLEAN and BIGINT cells, a DECIMAL attribute; JSON columns stay text."""
    customers, activity = [], []
    for snapshot in snapshots:
        row, rows = split_snapshot(snapshot)
        customers.append(row)
        activity.extend(rows)
    moment = pa.timestamp("us", tz="UTC")

    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

    def money(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([r["customer_id"] for r in customers]),
                "email": pa.array([r.get("email") for r in customers], pa.string()),
                "tags": pa.array([r.get("tags") for r in customers], pa.string()),
                "tier": pa.array([r.get("tier") for r in customers], pa.string()),
                "excluded": pa.array([r.get("excluded") for r in customers], pa.bool_()),
                "birthday": pa.array(
                    [
                        date.fromisoformat(r["birthday"]) if r.get("birthday") else None
                        for r in customers
                    ],
                    pa.date32(),
                ),
                "created_at": pa.array([when(r.get("created_at")) for r in customers], moment),
                "region": pa.array([r.get("region") for r in customers], pa.string()),
                "lifetime_value": pa.array(
                    [money(r.get("lifetime_value")) for r in customers], pa.decimal128(12, 2)
                ),
                "granted": pa.array([r.get("granted") for r in customers], pa.string()),
            }
        ),
        folder / "customers.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([r["customer_id"] for r in activity]),
                "type": pa.array([r["type"] for r in activity]),
                "id": pa.array([r["id"] for r in activity]),
                "at": pa.array([when(r["at"]) for r in activity], moment),
                "subtotal": pa.array(
                    [money(r.get("subtotal")) for r in activity], pa.decimal128(12, 2)
                ),
                "channel": pa.array([r.get("channel") for r in activity], pa.string()),
                "refunded_at": pa.array([when(r.get("refunded_at")) for r in activity], moment),
                "refunded_amount": pa.array(
                    [money(r.get("refunded_amount")) for r in activity], pa.decimal128(12, 2)
                ),
                "rating": pa.array([r.get("rating") for r in activity], pa.int64()),
                "has_photo": pa.array([r.get("has_photo") for r in activity], pa.bool_()),
                "converted_at": pa.array([when(r.get("converted_at")) for r in activity], moment),
            }
        ),
        folder / "activity.parquet",
    )
    return folder


def test_typed_columns_read_as_their_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine("acme")
    snapshots = history(120, seed=7)
    for snapshot in snapshots[::3]:  # some customers with things already granted
        snapshot["granted"] = [f"welcome:{snapshot['customer']['id']}"]
    data = _typed_tables(tmp_path / "t", snapshots)
    as_text, as_rows = _both_paths(engine, data, monkeypatch)
    assert as_text == as_rows == _from_json(engine, snapshots)


def test_a_column_without_a_rendering_reads_its_rows(tmp_path: Path) -> None:
    """`tags` as a LIST column (a DuckDB database): the row path, as before."""
    engine = _engine("acme")
    snapshots = history(30, seed=5)
    data = write_tables(tmp_path / "t", snapshots, "parquet")
    database = tmp_path / "history.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE customers AS SELECT * REPLACE (CAST(tags AS VARCHAR[]) AS tags) "
            f"FROM read_parquet('{data / 'customers.parquet'}')"
        )
        connection.execute(
            f"CREATE TABLE activity AS SELECT * FROM read_parquet('{data / 'activity.parquet'}')"
        )
    source = TableSource(database, _attributes(engine))
    assert source._text is None
    assert _read(engine, source) == _from_json(engine, snapshots)


def test_a_customer_travels_to_a_worker_as_its_text(tmp_path: Path) -> None:
    """What `--jobs` pickles is the text DuckDB rendered, unread: the worker reads it."""
    engine = _engine("acme")
    data = write_tables(tmp_path / "t", history(5), "parquet")
    (customer, *_), *_ = TableSource(data, _attributes(engine)).batches()
    assert customer.text is not None and json.loads(customer.text)["customer"]["id"] == "c0"
    sent = pickle.loads(pickle.dumps(customer))
    assert sent._data is None and sent.text == customer.text and sent.origin == customer.origin
    assert engine.read_snapshot(sent.data) == engine.read_snapshot(customer.data)


BAD_CELLS = [
    ("activity", "rating", "five"),
    ("activity", "rating", "--5"),
    ("activity", "has_photo", "maybe"),
    ("activity", "items", '[{"product_id": "p1",]'),
    ("activity", "fields", "[1, 2]"),
    ("customers", "tags", '["vip"'),
    ("customers", "excluded", "yes"),
    ("customers", "granted", "{"),
]


@pytest.mark.parametrize(("table", "column", "cell"), BAD_CELLS)
def test_a_bad_cell_is_located_as_on_the_row_path(
    table: str, column: str, cell: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine("acme")
    snapshots = history(12, seed=11)
    data = write_tables(tmp_path / "t", snapshots, "csv")
    path = data / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    if column not in header:  # a column this history leaves out, added empty
        header.append(column)
        rows = [[*cells, ""] for cells in rows]
    row = 5
    rows[row - 1][header.index(column)] = cell
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows([header, *rows])

    def first_error() -> str:
        with pytest.raises(SourceError) as raised:
            _read(engine, TableSource(data, _attributes(engine)))
        return raised.value.message

    as_text = first_error()
    with monkeypatch.context() as patch:
        patch.setattr(TableSource, "_text_queries", lambda self: None)
        as_rows = first_error()
    assert as_text == as_rows
    assert as_text.startswith(f"`{path}` row {row}, column `{column}`: ")


def test_a_timestamp_is_read_as_the_same_instant() -> None:
    """`cell_json_sql` renders TIMESTAMPTZ in UTC whatever the session's zone."""
    from ruleengine.backtest.layout import cell_json_sql

    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'America/New_York'")
        sql = cell_json_sql("at", "TIMESTAMP WITH TIME ZONE", "text")
        assert sql is not None
        (rendered,) = connection.execute(
            f"SELECT {sql} FROM (SELECT TIMESTAMPTZ '2026-03-08 01:30:00.25-05' AS at)"
        ).fetchone() or ("",)
    assert json.loads(rendered) == "2026-03-08T06:30:00.250000Z"
    moment = datetime.fromisoformat(json.loads(rendered))
    assert moment == datetime(2026, 3, 8, 6, 30, 0, 250000, tzinfo=UTC)


def test_a_moment_outside_the_years_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB's `infinity` and the year 5 are text the reader refuses with a place; as Arrow
    values, `infinity` ended the command with an internal error."""
    folder = tmp_path / "t"
    folder.mkdir()
    with duckdb.connect() as connection:
        connection.execute(f"COPY (SELECT 'c1' AS customer_id) TO '{folder}/customers.parquet'")
        connection.execute(
            "COPY (SELECT 'c1' AS customer_id, 'order' AS type, id, moment AS \"at\", "
            "CAST(10 AS DECIMAL(12, 2)) AS subtotal FROM (VALUES "
            "('o1', TIMESTAMPTZ 'infinity'), ('o2', TIMESTAMPTZ '0005-01-01 00:00:00+00')) "
            f"v(id, moment)) TO '{folder}/activity.parquet'"
        )
    code, out, err = backtest_acme(folder, capsys=capsys)
    where = f"`{folder}/activity.parquet`"
    assert (code, out) == (1, "")
    assert err == (
        f"ruleengine: error: {where} row 1, column `at`: error[RE610] input should be a valid "
        "datetime or date, input is too short [customer `c1`]\n"
        f"{where} row 2, column `at`: error[RE610] `0005-01-01T00:00:00+00:00` is outside the "
        "years 1900 to 9000 [customer `c1`]\n"
    )
