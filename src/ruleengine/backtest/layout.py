"""The table layout of a backtest's customers, and its rows as snapshot data.

The `customers` and `activity` tables (docs/batch.md) hold one row per customer and one row
per activity. This module knows their columns (`CUSTOMER_COLUMNS`, `ACTIVITY_COLUMNS`), turns
a record batch into rows (`arrow_rows`), a customers row and its activity rows into a
`Customer` (`assemble_customer`, shared by the Spark path in `ruleengine.spark` and the
DuckDB path for column types without a JSON rendering) and a snapshot back into rows
(`split_snapshot`, for tests and benchmarks). The DuckDB path has DuckDB render each row as
JSON text instead (`cell_json_sql`, `object_json_sql`), which a `Customer` holds and reads
(`TextForm`) with the same conversions. A problem is a `SourceError` naming the file, row
and column. Nothing here imports DuckDB; pyarrow loads only in `arrow_rows`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any


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


class Customer:
    """One customer's snapshot data, ready for `Engine.read_snapshot`: the data itself, or
    the JSON text DuckDB assembled (`text`, read the way `form` says), which `data` reads on
    first use. A text travels to a `--jobs` worker for the price of a string, and the worker
    reads it: the parent is left only DuckDB's part."""

    __slots__ = ("_data", "form", "id", "origin", "text")

    def __init__(
        self,
        id: str,
        data: Mapping[str, Any] | None,
        origin: Origin,
        *,
        text: str | None = None,
        form: TextForm | None = None,
    ) -> None:
        self.id = id
        self.origin = origin
        self.text = text
        self.form = form
        self._data = data

    @property
    def data(self) -> Mapping[str, Any]:
        """The snapshot as JSON-like data; a located `SourceError` when a cell of the text
        does not convert (a CSV `rating` of `five`, `tags` that are not JSON)."""
        if self._data is None:
            assert self.text is not None and self.form is not None
            self._data = self.form.read(self.text, self.origin)
        return self._data

    def __reduce__(self) -> tuple[Any, ...]:
        if self.text is not None:  # the text, unread: the worker reads it
            return _rebuild_customer, (self.id, None, self.origin, self.text, self.form)
        return _rebuild_customer, (self.id, self._data, self.origin, None, None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Customer):
            return NotImplemented
        return (self.id, self.data) == (other.id, other.data)

    __hash__ = None  # type: ignore[assignment]  # mutable cache, compared by value

    def __repr__(self) -> str:
        return f"Customer({self.id!r}, {self.origin!r})"


def _rebuild_customer(
    id: str,
    data: Mapping[str, Any] | None,
    origin: Origin,
    text: str | None,
    form: TextForm | None,
) -> Customer:
    return Customer(id, data, origin, text=text, form=form)


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
    # points_earned, adjustment, redemption
    "points": INT,
    # adjustment
    "affects_tier": BOOL,
    "note": TEXT,
    "message": TEXT,
    # redemption
    "program": TEXT,
    "coupon": TEXT,
    "used_at": TEXT,
    "revoked_at": TEXT,
    # tier_change
    "tier": TEXT,
    "tier_points": TEXT,  # money for an amount_spent tier: DECIMAL, or decimal text
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

BATCH_ROWS = 1024
"""Customers per batch: per record batch fetched from DuckDB, per batch of JSON Lines: enough
to amortise the hand-over, small enough that a batch of long histories stays a few megabytes."""


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


_WHOLE = re.compile(r"-?[0-9]+").fullmatch  # `str.isdigit` takes `²`, and `--5` past lstrip


def _convert(value: Any, kind: str, where: str, row: int, column: str) -> Any:
    """A cell as snapshot JSON would carry it. Typed values (DuckDB's, Parquet's) pass as they
    are; text is converted where the kind needs it."""
    if not isinstance(value, str) or kind == TEXT:
        return _plain(value)
    place = f"`{where}` row {row}, column `{column}`"
    if kind == INT:
        text = value.strip()
        if _WHOLE(text):
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
        at = entry.pop(_ROW, 0)
        rows.append(at)
        activity.append(_assemble_activity(entry, activity_kinds, activity_name, at))
    origin = Origin(customers_name, number, activity_name, tuple(rows))
    data = {"customer": customer, "activity": activity, "granted": granted}
    return Customer(str(customer.get("id", "")), data, origin)


_NOT_TEXT = frozenset(name for name, kind in ACTIVITY_COLUMNS.items() if kind != TEXT)


def _assemble_activity(
    entry: dict[str, Any], kinds: Mapping[str, str], where: str, number: int
) -> dict[str, Any]:
    """An activity row (its non-null cells, from `arrow_rows` or the row's JSON text; changed
    in place), row `number` of `where`, as a snapshot entry: text columns hold text or a
    typed value the snapshot reader takes, so only the other columns are visited."""
    record = entry
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


# -- snapshots as JSON text, assembled by DuckDB --------------------------------------------------

_INTEGERS = frozenset(
    f"{sign}{name}"
    for sign in ("", "U")
    for name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
)
_MOMENT, _DAY = "TIMESTAMP WITH TIME ZONE", "DATE"


def cell_json_sql(column: str, column_type: str, kind: str) -> str | None:
    """SQL that renders a non-null cell of `column` (of DuckDB type `column_type`) as JSON
    text, the value the row path (`arrow_rows`) gives the snapshot reader: text and decimals
    as JSON strings (decimals as their exact text), whole numbers and booleans as themselves,
    moments as ISO 8601 text in UTC and dates as `YYYY-MM-DD`, which the reader reads as it
    reads the typed values. None for any other type (a DOUBLE, a LIST, a naive TIMESTAMP...)
    or a moment in a column that is not text: the source then takes the row path."""
    name = _identifier(column)
    if column_type in ("VARCHAR", "BOOLEAN"):
        return f"CAST(to_json({name}) AS VARCHAR)"
    if column_type in _INTEGERS:
        return f"CAST({name} AS VARCHAR)"
    if column_type.startswith("DECIMAL") or (column_type == _DAY and kind == TEXT):
        return f"CAST(to_json(CAST({name} AS VARCHAR)) AS VARCHAR)"
    if column_type == _MOMENT and kind == TEXT:
        return f"'\"' || strftime({name} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') || '\"'"
    return None


def object_json_sql(cells: list[tuple[str, str, str]]) -> str:
    """SQL for a JSON object of a row's non-null cells: `(key, column, cell SQL)` each."""
    pairs = ", ".join(
        f"CASE WHEN {_identifier(column)} IS NOT NULL THEN {_literal(json.dumps(key) + ':')} "
        f"|| {sql} END"
        for key, column, sql in cells
    )
    return f"'{{' || concat_ws(',', {pairs}) || '}}'" if pairs else "'{}'"


def _identifier(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def converts(column_type: str, kind: str) -> bool:
    """Whether a cell, rendered by `cell_json_sql`, is text that `_convert` still turns into
    the column's kind (CSV's `5` for a rating, `["vip"]` for tags): as on the row path, text
    and decimals are text there."""
    return kind != TEXT and (column_type == "VARCHAR" or column_type.startswith("DECIMAL"))


@dataclass(frozen=True, slots=True)
class TextForm:
    """How to read the snapshot texts of a table source: the tables' names (for messages),
    the customer columns whose text converts (`converts`), and the activity columns' kinds
    when some activity cell converts or rows carry `fields` (None: entries are final)."""

    customers: str
    activity: str
    customer_converts: tuple[tuple[str, str], ...]  # (column, kind); `granted` included
    activity_kinds: Mapping[str, str] | None

    def read(self, text: str, origin: Origin) -> dict[str, Any]:
        """`{"customer": {...}, "activity": [...], "granted": ...}` as the row path builds
        it: the same values, the same located `SourceError`s."""
        data: dict[str, Any] = json.loads(text)
        customer = data["customer"]
        for column, kind in self.customer_converts:
            holder = data if column == "granted" else customer
            value = holder.get(column)
            if value is not None:
                holder[column] = _convert(value, kind, self.customers, origin.row, column)
        if data["granted"] is None:
            data["granted"] = []
        kinds = self.activity_kinds
        if kinds is not None:
            name = self.activity
            data["activity"] = [
                _assemble_activity(entry, kinds, name, number)
                for entry, number in zip(data["activity"], origin.activity_rows, strict=True)
            ]
        return data


def snapshot_text(customer: str, activity: list[str], granted: str | None) -> str:
    """A snapshot's JSON text from its parts' texts, as DuckDB rendered them."""
    return (
        f'{{"customer":{customer},"activity":[{",".join(activity)}],"granted":{granted or "null"}}}'
    )


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
