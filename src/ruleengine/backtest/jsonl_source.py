"""Customers from JSON Lines (`*.jsonl`, `*.ndjson`): one snapshot per line, the `eval
--snapshots` format, read lazily in file order. Pure Python: no extra needed (the table
sources, which need DuckDB, are in `sources`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from ruleengine.backtest.layout import BATCH_ROWS, Customer, Origin, SourceError


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
