"""Customer sources: where a backtest's customers come from, as snapshot data.

A source yields `Customer`s (an id, the snapshot as JSON-like data, and where each part came
from, so a problem can name the file, row and column) in batches, in a deterministic order:

* **JSON Lines** (`*.jsonl`, `*.ndjson`): one snapshot per line, the `eval --snapshots`
  format; read lazily, in file order. Pure Python: no extra needed.
* **Tables** (`ruleengine[batch]`): a `customers` table and an `activity` table, one row per
  activity (the layout is in docs/batch.md), as a folder holding `customers.parquet` and
  `activity.parquet` (or `.csv`), or a DuckDB database file holding both tables. DuckDB reads
  them, checks the columns and sorts customers and activity rows by `customer_id`; the two
  streams come out in record batches and are merged here: memory is a batch of customers,
  whatever the size of the history.

Values are passed on as DuckDB gives them (Decimal amounts, aware timestamps, dates...), and
the engine's snapshot reader validates them exactly as it validates JSON; CSV cells are text,
converted here only where text cannot stand for the value (whole numbers, booleans, lists as
JSON text). A problem becomes a `SourceError` naming the file, row and column.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruleengine.backtest.layout import (
    ACTIVITY_COLUMNS,
    CUSTOMER_COLUMNS,
    REQUIRED_ACTIVITY,
    REQUIRED_CUSTOMER,
    ROW_COLUMN,
    Customer,
    Origin,
    SourceError,
    arrow_rows,
    assemble_customer,
    attribute_kinds,
    split_snapshot,
)

if TYPE_CHECKING:
    import duckdb

_ROW = ROW_COLUMN

BATCH_ROWS = 1024
"""Customers per record batch fetched from DuckDB: enough to amortise the hand-over, small
enough that a batch of long histories stays a few megabytes."""

BATCH_EXTRA = "the `ruleengine[batch]` extra: pip install 'ruleengine[batch]'"


# -- JSON Lines ---------------------------------------------------------------------------------


class JsonLinesSource:
    """Snapshots one per line (blank lines skipped), in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        if not path.is_file():
            raise SourceError(f"cannot read `{path}`: no such file", usage=True)

    def count(self) -> int | None:
        return None  # counting would read the whole file twice

    def size(self) -> int:
        return self.path.stat().st_size

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[list[Customer]]:
        batch: list[Customer] = []
        with self.path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                batch.append(self._customer(line, number))
                if len(batch) >= rows:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _customer(self, line: str, number: int) -> Customer:
        where = f"{self.name}:{number}"
        try:
            data = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise SourceError(f"{where}: the snapshot is not valid JSON: {error.msg}") from None
        except RecursionError:
            raise SourceError(f"{where}: the snapshot is nested too deeply") from None
        customer = data.get("customer") if isinstance(data, dict) else None
        ident = customer.get("id") if isinstance(customer, dict) else None
        if not isinstance(ident, str) or not ident:
            raise SourceError(f"{where}: $.customer.id: a snapshot needs a customer id")
        return Customer(ident, data, Origin(self.name, number))


# -- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TablePaths:
    """Where a table source's two tables are: files (Parquet or CSV) or a DuckDB database."""

    customers: str  # a file, or `<database>:customers`
    activity: str
    database: Path | None = None


def find_tables(path: Path) -> TablePaths:
    """`DATA` as given on the command line -> the two tables, or `SourceError` (exit 2)."""
    if path.is_dir():
        found: dict[str, Path] = {}
        for table in ("customers", "activity"):
            candidates = [path / f"{table}.{ext}" for ext in ("parquet", "csv")]
            present = [c for c in candidates if c.exists()]
            if not present:
                raise SourceError(
                    f"`{path}` has no `{table}.parquet` or `{table}.csv` (a customers table "
                    "and an activity table; see docs/batch.md)",
                    usage=True,
                )
            found[table] = present[0]
        return TablePaths(str(found["customers"]), str(found["activity"]))
    if path.suffix in (".duckdb", ".db") and path.is_file():
        return TablePaths(f"{path}:customers", f"{path}:activity", database=path)
    raise SourceError(
        f"`{path}` is not a JSON Lines file (.jsonl), a folder with customers and activity "
        "tables (Parquet or CSV), or a DuckDB database (.duckdb)",
        usage=True,
    )


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection. Timestamps with a zone come back as aware datetimes
    (the same instants whatever the session's zone); the engine converts them to UTC."""
    try:
        import duckdb
    except ImportError:
        raise SourceError(f"reading tables needs {BATCH_EXTRA}", usage=True) from None
    connection = duckdb.connect(":memory:")
    connection.execute("SET preserve_insertion_order = true")
    # DuckDB's memory is bounded (its default is 80% of RAM), and a sort larger than that
    # spills to a private folder, removed at exit.
    limit = os.environ.get("RULEENGINE_DUCKDB_MEMORY", MEMORY_LIMIT)
    try:
        connection.execute(f"SET memory_limit = '{_quote(limit)}'")
    except duckdb.Error:
        raise SourceError(
            f"RULEENGINE_DUCKDB_MEMORY=`{limit}` is not a memory size (write it as `1GB`)",
            usage=True,
        ) from None
    spill = tempfile.mkdtemp(prefix="ruleengine-duckdb-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    connection.execute(f"SET temp_directory = '{_quote(spill)}'")
    return connection


class TableSource:
    """A customers table and an activity table, read and grouped by DuckDB.

    `attributes` maps each attribute column the ruleset(s) declare to its type name
    (`int?`, `list[string]`...): other extra columns are an error, as a typo in a column name
    must not silently leave an attribute out.
    """

    def __init__(self, path: Path, attributes: Mapping[str, str]) -> None:
        self.name = str(path)
        self.tables = find_tables(path)
        self.attributes = dict(attributes)
        self.connection = connect()
        import duckdb

        try:
            self._customers_view = self._relation("customers", self.tables.customers)
            self._activity_view = self._relation("activity", self.tables.activity)
            self._customer_kinds = self._check_columns(
                self.tables.customers, self._customers_view, CUSTOMER_COLUMNS, REQUIRED_CUSTOMER
            )
            self._activity_kinds = self._check_columns(
                self.tables.activity, self._activity_view, ACTIVITY_COLUMNS, REQUIRED_ACTIVITY
            )
            self._check_keys()
        except duckdb.Error as error:
            raise SourceError(f"cannot read `{self.name}`: {_first_line(error)}") from None

    # -- reading the tables

    def _relation(self, table: str, where: str) -> str:
        """A view named `table` over the file (or database table), with a 1-based row number
        in source order; CSV cells are all read as text, so nothing is guessed (amounts stay
        exact, a zone-less timestamp stays an error)."""
        database = self.tables.database
        if database is not None:
            try:
                self.connection.execute(f"ATTACH '{_quote(str(database))}' AS source (READ_ONLY)")
            except Exception as error:  # already attached for the first table
                if "already" not in str(error):
                    raise
            source = f"source.main.{table}"
            select = f"SELECT *, row_number() OVER () AS {_ROW} FROM {source}"
        elif where.endswith(".csv"):
            select = (
                f"SELECT *, row_number() OVER () AS {_ROW} FROM read_csv('{_quote(where)}', "
                "all_varchar = true, header = true)"
            )
        else:
            select = (
                f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {_ROW} "
                f"FROM read_parquet('{_quote(where)}', file_row_number = true)"
            )
        view = f"{table}_rows"
        # Parquet row numbers are the file's own, so a view (read as it streams) keeps them;
        # CSV and database rows are numbered once, in a table DuckDB may spill to disk.
        kind = "VIEW" if where.endswith(".parquet") else "TABLE"
        self.connection.execute(f"CREATE {kind} {view} AS {select}")
        return view

    def _check_columns(
        self,
        where: str,
        view: str,
        known: Mapping[str, str],
        required: Sequence[str],
    ) -> dict[str, str]:
        columns = [
            row[0] for row in self.connection.execute(f"DESCRIBE {view}").fetchall() if row[0]
        ]
        columns = [c for c in columns if c != _ROW]
        for name in required:
            if name not in columns:
                raise SourceError(f"`{where}`: missing column `{name}` (see docs/batch.md)")
        kinds: dict[str, str] = {}
        for name in columns:
            if name in known:
                kinds[name] = known[name]
            elif known is CUSTOMER_COLUMNS and name in self.attributes:
                kinds[name] = attribute_kinds(self.attributes)[name]
            else:
                hint = _suggest(
                    name, [*known, *(self.attributes if known is CUSTOMER_COLUMNS else ())]
                )
                raise SourceError(
                    f"`{where}`: unknown column `{name}`"
                    + (f" (did you mean `{hint}`?)" if hint else "")
                    + (
                        "; a customer column must be built in or one of the ruleset's attributes"
                        if known is CUSTOMER_COLUMNS
                        else ""
                    )
                )
        return kinds

    def _check_keys(self) -> None:
        """Each customer once, each activity row with a customer: both would otherwise give
        wrong totals without a word."""
        row = self.connection.execute(
            f"SELECT min({_ROW}) FROM customers_rows WHERE customer_id IS NULL OR customer_id = ''"
        ).fetchone()
        if row is not None and row[0] is not None:
            raise SourceError(
                f"`{self.tables.customers}` row {row[0]}, column `customer_id`: empty customer id"
            )
        row = self.connection.execute(
            f"SELECT customer_id, max({_ROW}) FROM customers_rows GROUP BY customer_id "
            "HAVING count(*) > 1 ORDER BY 2 LIMIT 1"
        ).fetchone()
        if row is not None:
            raise SourceError(
                f"`{self.tables.customers}` row {row[1]}, column `customer_id`: customer "
                f"`{row[0]}` appears more than once"
            )
        row = self.connection.execute(
            f"SELECT a.{_ROW}, a.customer_id FROM activity_rows a ANTI JOIN customers_rows c "
            f"USING (customer_id) ORDER BY a.{_ROW} LIMIT 1"
        ).fetchone()
        if row is not None:
            raise SourceError(
                f"`{self.tables.activity}` row {row[0]}, column `customer_id`: customer "
                f"`{row[1]}` is not in `{self.tables.customers}`"
            )

    def count(self) -> int | None:
        row = self.connection.execute("SELECT count(*) FROM customers_rows").fetchone()
        return int(row[0]) if row is not None else None

    def size(self) -> int | None:
        return None

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[list[Customer]]:
        """Customers in record batches, ordered by `customer_id`, each with its activity.

        Two streams sorted by DuckDB, customers and activity rows both by `customer_id`, are
        merged here: nothing is grouped in memory, and DuckDB's sort spills to disk beyond
        its memory limit, so neither side holds the whole history. (Grouping activity into a
        list per customer in DuckDB held every activity row at once: 500 MiB for 400,000.)
        Ids are compared as text on both sides, so both sorts agree."""
        import duckdb

        key = "CAST(customer_id AS VARCHAR)"
        customers = f"SELECT * REPLACE ({key} AS customer_id) FROM customers_rows ORDER BY 1"
        activity = (
            f"SELECT * REPLACE ({key} AS customer_id) FROM activity_rows "
            f"ORDER BY customer_id, {_ROW}"
        )
        other = self.connection.cursor()  # a second connection: two results stream at once
        try:
            entries = _rows(_arrow_reader(other.sql(activity), ACTIVITY_ROWS))
            pending = next(entries, None)
            for batch in _arrow_reader(self.connection.sql(customers), rows):
                customers_batch = []
                for row in arrow_rows(batch):
                    ident = row.get("customer_id")
                    own = []
                    while pending is not None and pending["customer_id"] == ident:
                        own.append(pending)
                        pending = next(entries, None)
                    row["_activity"] = own
                    customers_batch.append(
                        assemble_customer(
                            row,
                            self._customer_kinds,
                            self._activity_kinds,
                            self.tables.customers,
                            self.tables.activity,
                        )
                    )
                yield customers_batch
        except duckdb.Error as error:
            raise SourceError(f"cannot read `{self.name}`: {_first_line(error)}") from None
        finally:
            other.close()


MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit (`RULEENGINE_DUCKDB_MEMORY` overrides it): sorting the activity of a
large history spills to disk beyond it, so the peak grows with the history up to about this
much (plus ~100 MiB of DuckDB and pyarrow, and the Python side's batch) and no further."""

ACTIVITY_ROWS = 8192
"""Activity rows per record batch of the activity stream."""


def _arrow_reader(relation: Any, rows: int) -> Any:
    # `to_arrow_reader` since DuckDB 1.4; `fetch_arrow_reader` before
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return to_reader(rows)


def _rows(reader: Any) -> Iterator[dict[str, Any]]:
    for batch in reader:
        yield from arrow_rows(batch)


def _suggest(name: str, candidates: Sequence[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def open_source(path: Path, attributes: Mapping[str, str]) -> JsonLinesSource | TableSource:
    """The source `--customers DATA` names: JSON Lines by its suffix, else tables."""
    if path.suffix in (".jsonl", ".ndjson"):
        return JsonLinesSource(path)
    if not path.exists():
        raise SourceError(f"cannot read `{path}`: no such file or folder", usage=True)
    return TableSource(path, attributes)


__all__ = [
    "ACTIVITY_COLUMNS",
    "CUSTOMER_COLUMNS",
    "Customer",
    "JsonLinesSource",
    "Origin",
    "SourceError",
    "TableSource",
    "arrow_rows",
    "assemble_customer",
    "attribute_kinds",
    "open_source",
    "split_snapshot",
]
