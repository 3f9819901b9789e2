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
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 1024
"""Customers per record batch fetched from DuckDB: enough to amortise the hand-over, small
enough that a batch of long histories stays a few megabytes."""

BATCH_EXTRA = "the `ruleengine[batch]` extra: pip install 'ruleengine[batch]'"


class SourceError(Exception):
    """Customer data that cannot be read: the message names the file, row and column."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage  # a missing file or extra (exit 2) rather than bad data (exit 1)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_source_error, (self.message, self.usage)


def _rebuild_source_error(message: str, usage: bool) -> SourceError:
    return SourceError(message, usage=usage)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a customer's data came from: the file, and the row of each part (1-based data
    rows; for JSON Lines, the line)."""

    customers: str
    row: int
    activity: str | None = None
    activity_rows: tuple[int, ...] = ()

    def locate(self, path: str) -> str:
        """A snapshot problem's JSON path (`$.activity[3].subtotal`) as a place in the source:
        `` `activity.parquet` row 12, column `subtotal` ``."""
        if self.activity is None:
            return f"{self.customers}:{self.row}: {path}"
        parts = path.removeprefix("$.").replace("[", ".").replace("]", "").split(".")
        if parts[0] == "activity" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            row = self.activity_rows[index] if index < len(self.activity_rows) else "?"
            column = parts[2] if len(parts) > 2 else "type"
            if len(parts) > 3 or column not in ACTIVITY_COLUMNS:
                column = ACTIVITY_JSON_OWNER.get(column, column)
            return f"`{self.activity}` row {row}, column `{column}`"
        column = parts[1] if len(parts) > 1 else "customer_id"
        column = "customer_id" if column == "id" else column
        if parts[0] == "granted":
            column = "granted"
        return f"`{self.customers}` row {self.row}, column `{column}`"


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer's snapshot data, ready for `Engine.read_snapshot`."""

    id: str
    data: Mapping[str, Any]
    origin: Origin = field(compare=False)


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

# Column kinds: how a CSV cell (text) becomes a value; other sources' typed values pass as is.
TEXT, INT, BOOL, JSON = "text", "int", "bool", "json"

CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": TEXT,
    "email": TEXT,
    "tags": JSON,  # a list of strings: a LIST column, or JSON text (`["vip"]`)
    "tier": TEXT,
    "excluded": BOOL,
    "birthday": TEXT,  # a DATE column, or `YYYY-MM-DD` text
    "birthday_set_at": TEXT,  # TIMESTAMPTZ, or ISO 8601 text with an offset
    "created_at": TEXT,
    "granted": JSON,  # decision keys already carried out: a LIST column, or JSON text
}
"""The built-in customer columns; any other column must be one of the ruleset's attributes."""

ACTIVITY_COLUMNS: dict[str, str] = {
    "customer_id": TEXT,
    "type": TEXT,
    "id": TEXT,
    "at": TEXT,
    # order
    "subtotal": TEXT,  # money: DECIMAL, or decimal text (exact; never through a float)
    "total": TEXT,
    "channel": TEXT,
    "items": JSON,
    "discount_codes": JSON,
    "refunded_at": TEXT,
    "refunded_amount": TEXT,
    "subscription_id": TEXT,  # order, subscription_billing
    # review
    "rating": INT,
    "product_id": TEXT,
    "has_photo": BOOL,
    "verified": BOOL,
    # referral
    "converted_at": TEXT,
    # points_earned
    "points": INT,
    # signup, newsletter_signup, social_follow, website_visit, survey
    "platform": TEXT,
    "url": TEXT,
    "survey_id": TEXT,
    # custom:<name>: the event's declared fields, as a JSON object (or a STRUCT/MAP column)
    "fields": JSON,
}
"""Every activity column: one row per activity, the columns of other types left null."""

REQUIRED_CUSTOMER = ("customer_id",)
REQUIRED_ACTIVITY = ("customer_id", "type", "id", "at")

# A snapshot path below one of these names a field inside a JSON column.
ACTIVITY_JSON_OWNER = {"product_id": "items", "price": "items", "quantity": "items"}

ROW_COLUMN = _ROW = "_ruleengine_row"  # the source row number DuckDB adds


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


def arrow_rows(batch: Any) -> list[dict[str, Any]]:
    """A record batch's rows as dicts of their non-null values, converted a column at a time:
    twice as fast as `to_pylist`, mostly because zone-aware timestamps are read as UTC wall
    times and labelled UTC (instead of a zone lookup per value) and decimals as their exact
    text (which the snapshot reader parses as it parses JSON)."""
    import pyarrow as pa

    columns = []
    for column in batch.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            naive = column.cast(pa.timestamp(kind.unit)).to_pylist()
            columns.append([None if v is None else v.replace(tzinfo=UTC) for v in naive])
        elif pa.types.is_decimal(kind):
            columns.append(column.cast(pa.string()).to_pylist())
        else:
            columns.append(column.to_pylist())
    names = batch.schema.names
    return [
        {name: value for name, value in zip(names, values, strict=True) if value is not None}
        for values in zip(*columns, strict=True)
    ]


def _convert(value: Any, kind: str, where: str, row: int, column: str) -> Any:
    """A cell as snapshot JSON would carry it. Typed values (DuckDB's, Parquet's) pass as they
    are; text is converted where the kind needs it."""
    if not isinstance(value, str) or kind == TEXT:
        return _plain(value)
    place = f"`{where}` row {row}, column `{column}`"
    if kind == INT:
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        raise SourceError(f"{place}: `{value}` is not a whole number")
    if kind == BOOL:
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise SourceError(f"{place}: `{value}` is not `true` or `false`")
    try:
        return json.loads(value, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise SourceError(f"{place}: not valid JSON: {error.msg}") from None
    except RecursionError:
        raise SourceError(f"{place}: nested too deeply") from None


def _plain(value: Any) -> Any:
    """Nested typed values (a LIST of STRUCTs for `items`, a MAP for `fields`) as JSON-like
    lists and dicts; DuckDB gives a MAP as a list of (key, value) pairs."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {k: _plain(v) for k, v in value}
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value


def attribute_kinds(attributes: Mapping[str, str]) -> dict[str, str]:
    """The column kind of each attribute, from its declared type (`int?`, `list[string]`)."""
    kinds = {}
    for name, type_name in attributes.items():
        base = type_name.removesuffix("?").strip()
        if base == "int":
            kinds[name] = INT
        elif base == "bool":
            kinds[name] = BOOL
        elif base.startswith("list"):
            kinds[name] = JSON
        else:
            kinds[name] = TEXT
    return kinds


def assemble_customer(
    row: dict[str, Any],
    customer_kinds: Mapping[str, str],
    activity_kinds: Mapping[str, str],
    customers_name: str,
    activity_name: str,
) -> Customer:
    """A customers row, with its activity rows as a list under `_activity`, as a snapshot.
    Shared by the DuckDB and Spark paths, so both read a row alike."""
    entries = row.pop("_activity", None) or []
    number = row.pop(_ROW, 0)
    customer: dict[str, Any] = {}
    granted: Any = []
    for column, value in row.items():
        if value is None:
            continue
        value = _convert(value, customer_kinds[column], customers_name, number, column)
        if column == "customer_id":
            customer["id"] = value
        elif column == "granted":
            granted = value
        else:
            customer[column] = value
    activity: list[dict[str, Any]] = []
    rows: list[int] = []
    for entry in entries:
        rows.append(entry.get(_ROW, 0))
        activity.append(_assemble_activity(entry, activity_kinds, activity_name))
    origin = Origin(customers_name, number, activity_name, tuple(rows))
    data = {"customer": customer, "activity": activity, "granted": granted}
    return Customer(str(customer.get("id", "")), data, origin)


_NOT_TEXT = frozenset(name for name, kind in ACTIVITY_COLUMNS.items() if kind != TEXT)


def _assemble_activity(
    entry: dict[str, Any], kinds: Mapping[str, str], where: str
) -> dict[str, Any]:
    """An activity row (its non-null cells, from `arrow_rows`; changed in place) as a
    snapshot entry: text columns hold text or a typed value the snapshot reader takes, so
    only the other columns are visited."""
    record = entry
    number = record.pop(_ROW, 0)
    record.pop("customer_id", None)
    for column in _NOT_TEXT.intersection(record):
        record[column] = _convert(record[column], kinds[column], where, number, column)
    fields = record.pop("fields", None)
    if fields is not None:
        if not isinstance(fields, dict):
            raise SourceError(
                f"`{where}` row {number}, column `fields`: expected a JSON object "
                "of the event's fields"
            )
        for key, inner in fields.items():
            record.setdefault(key, inner)
    return record


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


def split_snapshot(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A snapshot as table rows: its customers row and its activity rows, in the layout this
    module reads (lists and objects as JSON text, amounts as exact decimal text, a custom
    event's own fields in `fields`). The inverse of what `TableSource` assembles; tests and
    benchmarks use it to export JSON snapshots as tables."""

    def text(value: Any) -> Any:
        if isinstance(value, list | dict):
            return json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)
        if isinstance(value, Decimal):
            return format(value, "f")
        return value

    customer = dict(data["customer"])
    row: dict[str, Any] = {"customer_id": customer.pop("id")}
    row.update({k: text(v) for k, v in customer.items()})
    if data.get("granted"):
        row["granted"] = text(list(data["granted"]))
    activity = []
    for entry in data.get("activity", []):
        record: dict[str, Any] = {"customer_id": row["customer_id"]}
        extra: dict[str, Any] = {}
        for key, value in entry.items():
            if key in ACTIVITY_COLUMNS and key not in ("customer_id", "fields"):
                record[key] = text(value)
            else:
                extra[key] = value
        if extra:
            record["fields"] = text(extra)
        activity.append(record)
    return row, activity
