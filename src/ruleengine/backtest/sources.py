"""Customer sources: where a backtest's customers come from, as snapshot data.

A source yields `Customer`s (an id, the snapshot as JSON-like data, and where each part came
from, so a problem can name the file, row and column) in batches, in a deterministic order:

* **JSON Lines** (`*.jsonl`, `*.ndjson`): one snapshot per line, the `eval --snapshots`
  format; read lazily, in file order (`jsonl_source`). Pure Python: no extra needed.
* **Tables** (`ruleengine[batch]`): a `customers` table and an `activity` table, one row per
  activity (the layout is in docs/batch.md), as a folder holding `customers.parquet` and
  `activity.parquet` (or `.csv`), or a DuckDB database file holding both tables. DuckDB reads
  them, checks the columns, sorts customers and activity rows by `customer_id` and renders
  each row as JSON text (`layout.cell_json_sql`); the two streams come out in record batches
  and are merged here into each customer's snapshot text, read where it is evaluated
  (`Customer.data`; in a worker with `--jobs`): memory is a batch of customers, whatever the
  size of the history.

The texts hold the values the rows hold (exact decimal text, moments in UTC, dates...), and
the engine's snapshot reader validates them exactly as it validates JSON; CSV cells are text,
converted only where text cannot stand for the value (whole numbers, booleans, lists as JSON
text). Column types without a JSON rendering (LIST, STRUCT, DOUBLE...) are read as values
and assembled here instead (`layout.assemble_customer`), with the same result. A problem
becomes a `SourceError` naming the file, row and column.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruleengine.backtest.jsonl_source import JsonLinesSource
from ruleengine.backtest.layout import (
    ACTIVITY_COLUMNS,
    BATCH_ROWS,
    CUSTOMER_COLUMNS,
    REQUIRED_ACTIVITY,
    REQUIRED_CUSTOMER,
    ROW_COLUMN,
    Customer,
    Origin,
    SourceError,
    TextForm,
    arrow_rows,
    assemble_customer,
    attribute_kinds,
    cell_json_sql,
    converts,
    object_json_sql,
    snapshot_text,
    split_snapshot,
)

if TYPE_CHECKING:
    import duckdb

_ROW = ROW_COLUMN

BATCH_EXTRA = "the `ruleengine[batch]` extra: pip install 'ruleengine[batch]'"


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
            if len(present) > 1:  # picking one would silently leave the other's rows out
                raise SourceError(
                    f"`{path}` has both `{present[0]}` and `{present[1]}`: which one is the "
                    f"{table} table is ambiguous; move one of them out of the folder",
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
    connection.execute("SET preserve_insertion_order = true")  # CSV rows numbered in order
    # DuckDB's memory is bounded (its default is 80% of RAM), and a sort larger than that
    # spills to a private folder, removed at exit; one thread (see THREADS).
    connection.execute(f"SET threads = {THREADS}")
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

        for table, where in (
            ("customers", self.tables.customers),
            ("activity", self.tables.activity),
        ):
            try:
                self._relation(table, where)
            except duckdb.Error as error:
                raise _read_error(where, error) from None
        self._customers_view, self._activity_view = "customers_rows", "activity_rows"
        self._types: dict[str, dict[str, str]] = {}
        try:
            self._customer_kinds = self._check_columns(
                self.tables.customers, self._customers_view, CUSTOMER_COLUMNS, REQUIRED_CUSTOMER
            )
            self._activity_kinds = self._check_columns(
                self.tables.activity, self._activity_view, ACTIVITY_COLUMNS, REQUIRED_ACTIVITY
            )
            self._check_keys()
        except duckdb.Error as error:
            raise _read_error(self.name, error) from None
        self._text = self._text_queries()

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
            # The header is read here and the dialect given, not guessed: DuckDB's sniffer
            # takes a file with one ragged row for a one-column file, or its first data
            # row for the header, and the error would name the wrong problem.
            columns = ", ".join(f"'{_quote(c)}': 'VARCHAR'" for c in _csv_header(where))
            select = (
                f"SELECT *, row_number() OVER () AS {_ROW} FROM read_csv('{_quote(where)}', "
                "header = true, auto_detect = false, delim = ',', quote = '\"', "
                f"escape = '\"', strict_mode = true, columns = {{{columns}}})"
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
        described = self.connection.execute(f"DESCRIBE {view}").fetchall()
        types = {str(row[0]): str(row[1]) for row in described if row[0] and row[0] != _ROW}
        self._types[view] = types
        columns = list(types)
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
            f"SELECT min({_ROW}) FROM customers_rows "
            "WHERE customer_id IS NULL OR CAST(customer_id AS VARCHAR) = ''"
        ).fetchone()
        if row is not None and row[0] is not None:
            raise SourceError(
                f"`{self.tables.customers}` row {row[0]}, column `customer_id`: empty customer id"
            )
        # the first second occurrence in row order, and the row of its first (as JSON Lines)
        row = self.connection.execute(
            f"SELECT customer_id, {_ROW}, first FROM (SELECT customer_id, {_ROW}, "
            f"min({_ROW}) OVER (PARTITION BY customer_id) AS first, row_number() OVER "
            f"(PARTITION BY customer_id ORDER BY {_ROW}) AS n FROM customers_rows) "
            f"WHERE n = 2 ORDER BY {_ROW} LIMIT 1"
        ).fetchone()
        if row is not None:
            raise SourceError(
                f"`{self.tables.customers}` row {row[1]}, column `customer_id`: error[RE650] "
                f"customer `{row[0]}` appears more than once (first at row {row[2]})"
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
        merged here: nothing is grouped in memory. (Grouping activity into a list per
        customer in DuckDB held every activity row at once: 500 MiB for 400,000.) Ids are
        compared as text on both sides, so both sorts agree.

        The history is read in passes over ranges of customer ids, each holding about
        `PASS_ROWS` activity rows, so that each sort fits DuckDB's memory limit whatever the
        history's size: one sort of everything made memory grow with the history, and
        beyond a few million rows its merge ran out of a small limit. The ranges come from
        a sample of ids; the order of the customers is the same, by id, whatever they are."""
        import duckdb

        try:
            ranges = self._ranges()
            for low, high in ranges:
                yield from self._batches_between(low, high, rows)
        except duckdb.Error as error:
            raise _read_error(self.name, error) from None

    def _ranges(self) -> list[tuple[str | None, str | None]]:
        """Ranges of customer ids (from, below), about `PASS_ROWS` activity rows each."""
        ((total,),) = self.connection.execute("SELECT count(*) FROM activity_rows").fetchall()
        parts = -(-int(total) // PASS_ROWS)
        if parts <= 1:
            return [(None, None)]
        sample = sorted(
            str(row[0])
            for row in self.connection.execute(
                f"SELECT {_KEY} FROM customers_rows "
                f"USING SAMPLE reservoir({SAMPLE_IDS} ROWS) REPEATABLE (15)"
            ).fetchall()
        )
        bounds = sorted({sample[len(sample) * i // parts] for i in range(1, parts)})
        return list(zip([None, *bounds], [*bounds, None], strict=True))

    def _text_queries(self) -> tuple[str, str, TextForm] | None:
        """What DuckDB selects to render each row as JSON text (`layout.cell_json_sql`):
        customers (id, row, the `customer` object, `granted`) and activity (id, row, the
        entry), and how to read the texts; None when a column's type has no rendering,
        and the rows are read as values instead (`_row_batches`)."""
        customer_cells, activity_cells = [], []
        converting: list[tuple[str, str]] = []
        granted = "NULL"
        for column, kind in self._customer_kinds.items():
            sql = cell_json_sql(column, self._types[self._customers_view][column], kind)
            if sql is None:
                return None
            if converts(self._types[self._customers_view][column], kind):
                converting.append((column, kind))
            if column == "granted":
                granted = f"CASE WHEN granted IS NOT NULL THEN {sql} END"
            else:
                key = "id" if column == "customer_id" else column
                customer_cells.append((key, column, sql))
        activity_converts = "fields" in self._activity_kinds
        for column, kind in self._activity_kinds.items():
            if column == "customer_id":
                continue
            sql = cell_json_sql(column, self._types[self._activity_view][column], kind)
            if sql is None:
                return None
            activity_converts |= converts(self._types[self._activity_view][column], kind)
            activity_cells.append((column, column, sql))
        customers = (
            f"{_KEY} AS customer_id, {_ROW}, {object_json_sql(customer_cells)} AS customer, "
            f"{granted} AS granted"
        )
        activity = f"{_KEY} AS customer_id, {_ROW}, {object_json_sql(activity_cells)} AS entry"
        form = TextForm(
            self.tables.customers,
            self.tables.activity,
            tuple(converting),
            self._activity_kinds if activity_converts else None,
        )
        return customers, activity, form

    def _batches_between(
        self, low: str | None, high: str | None, rows: int
    ) -> Iterator[list[Customer]]:
        conditions = []
        if low is not None:
            conditions.append(f"{_KEY} >= '{_quote(low)}'")
        if high is not None:
            conditions.append(f"{_KEY} < '{_quote(high)}'")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        if self._text is not None:
            yield from self._text_batches(where, rows, *self._text)
        else:
            yield from self._row_batches(where, rows)

    def _text_batches(
        self, where: str, rows: int, customers: str, activity: str, form: TextForm
    ) -> Iterator[list[Customer]]:
        """Customers as snapshot texts: DuckDB renders each row as JSON (in C), and Python
        only joins a customer's texts, so a customer costs a few string operations here;
        the text is read where it is evaluated (`Customer.data`), in a worker with --jobs."""
        customers_query = f"SELECT {customers} FROM customers_rows {where} ORDER BY 1"
        activity_query = f"SELECT {activity} FROM activity_rows {where} ORDER BY 1, 2"
        name, activity_name = self.tables.customers, self.tables.activity
        other = self.connection.cursor()  # a second connection: two results stream at once
        try:
            entries = _text_entries(_arrow_reader(other.sql(activity_query), ACTIVITY_ROWS))
            pending = next(entries, None)
            for batch in _arrow_reader(self.connection.sql(customers_query), rows):
                ids, numbers, texts, granted = (column.to_pylist() for column in batch.columns)
                customers_batch = []
                for ident, number, text, grant in zip(ids, numbers, texts, granted, strict=True):
                    own: list[str] = []
                    own_rows: list[int] = []
                    while pending is not None and pending[0] == ident:
                        own.append(pending[2])
                        own_rows.append(pending[1])
                        pending = next(entries, None)
                    customers_batch.append(
                        Customer(
                            ident,
                            None,
                            Origin(name, number, activity_name, tuple(own_rows)),
                            text=snapshot_text(text, own, grant),
                            form=form,
                        )
                    )
                yield customers_batch
        finally:
            other.close()

    def _row_batches(self, where: str, rows: int) -> Iterator[list[Customer]]:
        """Customers assembled from their rows' values (`layout.assemble_customer`): for
        column types `_text_queries` does not render."""
        customers = (
            f"SELECT * REPLACE ({_KEY} AS customer_id) FROM customers_rows {where} ORDER BY 1"
        )
        activity = (
            f"SELECT * REPLACE ({_KEY} AS customer_id) FROM activity_rows {where} "
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
        finally:
            other.close()


_KEY = "CAST(customer_id AS VARCHAR)"

PASS_ROWS = 1_000_000
"""Activity rows per pass (see `TableSource.batches`): sorting them takes ~150 MiB in
DuckDB, under `MEMORY_LIMIT`; a history of 1M customers x 20 activities is read in 20
passes, each scanning the activity table again (a second or two for 20M Parquet rows, and
less when the export is sorted by customer, as row-group statistics then skip the rest)."""

SAMPLE_IDS = 10_000
"""Customer ids sampled to cut the history into passes of about equal size."""


MEMORY_LIMIT = "256MB"
"""DuckDB's memory limit (`RULEENGINE_DUCKDB_MEMORY` overrides it): room for one pass's sort
(`PASS_ROWS`), beyond which DuckDB spills to disk. The peak no longer follows the history's
size (docs/performance.md, "Backtests")."""

THREADS = 1
"""DuckDB's threads. One: the evaluation, not DuckDB, is what keeps a CPU busy (`--jobs`
spreads that), and each thread's sort buffers count against the memory limit: with two
threads the two sorted streams of one sort of everything ran out of 64 MB at 100,000
customers."""

ACTIVITY_ROWS = 8192
"""Activity rows per record batch of the activity stream."""


def _arrow_reader(relation: Any, rows: int) -> Any:
    # `to_arrow_reader` since DuckDB 1.4; `fetch_arrow_reader` before
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return to_reader(rows)


def _rows(reader: Any) -> Iterator[dict[str, Any]]:
    for batch in reader:
        yield from arrow_rows(batch)


def _text_entries(reader: Any) -> Iterator[tuple[str, int, str]]:
    """(customer id, row, entry text) of each activity row."""
    for batch in reader:
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _suggest(name: str, candidates: Sequence[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _csv_header(where: str) -> list[str]:
    """The column names on a CSV file's first line (RFC 4180, UTF-8; a byte order mark
    before it, as Excel writes, is not part of the first name)."""
    import csv

    try:
        with open(where, encoding="utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), None)
    except UnicodeDecodeError:
        raise SourceError(f"`{where}` line 1: the file is not UTF-8 text") from None
    except csv.Error as error:
        raise SourceError(f"`{where}` line 1: not a CSV header: {error}") from None
    if not header:
        raise SourceError(f"`{where}`: the file is empty; its first line must name the columns")
    unnamed = [number for number, name in enumerate(header, start=1) if not name.strip()]
    if unnamed:  # DuckDB would be handed a column without a name
        raise SourceError(
            f"`{where}` line 1: column {unnamed[0]} has no name (after "
            + (f"`{header[unnamed[0] - 2]}`" if unnamed[0] > 1 else "nothing")
            + "); every column needs one"
        )
    if len(set(header)) != len(header):
        twice = next(name for name in header if header.count(name) > 1)
        raise SourceError(f"`{where}` line 1: column `{twice}` appears twice")
    return header


def _read_error(where: str, error: BaseException) -> SourceError:
    """A DuckDB error as a `SourceError`: bad data (exit 1), or DuckDB's memory limit, which
    is the machine's setting, not the data's fault (exit 2, with the setting to change)."""
    message = f"cannot read `{where}`: {_first_line(error)}"
    if "Out of Memory" in str(error):
        limit = os.environ.get("RULEENGINE_DUCKDB_MEMORY", MEMORY_LIMIT)
        return SourceError(
            f"{message}; raise DuckDB's memory limit with RULEENGINE_DUCKDB_MEMORY (now {limit})",
            usage=True,
        )
    return SourceError(message)


_DETAILS = ("Expected Number of Columns", "Invalid unicode", "Value with unterminated quote")


def _first_line(error: BaseException) -> str:
    """DuckDB's message, shortened to its first line and the line that says what is wrong
    (`CSV Error on Line: 3; Expected Number of Columns: 4 Found: 3`)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    details = [line for line in lines[1:6] if line.startswith(_DETAILS)]
    return "; ".join(lines[:1] + details[:1])


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
