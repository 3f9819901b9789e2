"""Customers from JSON Lines (`*.jsonl`, `*.ndjson`): one snapshot per line, the `eval
--snapshots` format, read lazily in file order. Pure Python: no extra needed (the table
sources, which need DuckDB, are in `sources`).

A customer appears once, as in the customers table (`sources.TableSource._check_keys`): a
second line with the same id would be counted twice and is refused (RE650). The ids seen are
kept in one set for the run, the one piece of memory that grows with the input; the line of
the first occurrence is looked up again only when a duplicate is found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ruleengine.backtest.layout import BATCH_ROWS, Customer, Origin, SourceError
from ruleengine.engine.snapshot_json import LongIntegerError, loads_exact, undecodable_byte
from ruleengine.limits import AMOUNT_DIGITS


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
        """Customers in batches of `rows`. A line that cannot be read ends the stream in its
        place: the customers before it come first, so a problem with one of them (found when
        it is evaluated) is the one reported, the first in the file, with any --jobs."""
        batch: list[Customer] = []
        seen: set[str] = set()  # every id so far: a customer twice would be counted twice
        # bytes that are not UTF-8 are kept as escapes and refused at their line (`_customer`)
        with self.path.open(encoding="utf-8", errors="surrogateescape") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    customer = self._customer(line, number)
                    if customer.id in seen:
                        raise self._duplicate(customer.id, number)
                except SourceError:
                    if batch:
                        yield batch
                    raise
                seen.add(customer.id)
                batch.append(customer)
                if len(batch) >= rows:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _duplicate(self, ident: str, number: int) -> SourceError:
        """RE650 for the second line of customer `ident`, naming the line of the first (read
        again, up to `number`: the ids are kept without their lines)."""
        first = None
        with self.path.open(encoding="utf-8", errors="surrogateescape") as stream:
            for earlier, line in enumerate(stream, start=1):
                if earlier >= number:
                    break
                if line.strip() and self._customer(line, earlier).id == ident:
                    first = earlier
                    break
        return SourceError(
            f"{self.name}:{number}: $.customer.id: error[RE650] customer `{ident}` appears "
            f"more than once (first on line {first or '?'})"
        )

    def _customer(self, line: str, number: int) -> Customer:
        where = f"{self.name}:{number}"
        undecodable = undecodable_byte(line)
        if undecodable is not None:
            column, byte = undecodable
            raise SourceError(f"{where}:{column}: the line is not UTF-8 text (byte 0x{byte:02X})")
        try:
            data = loads_exact(line)  # numbers exact; an integer of 4,300 digits is refused
        except LongIntegerError as error:
            _, column = error.position(line)
            digits = len(error.digits.lstrip("-"))
            raise SourceError(
                f"{where}:{column}: RE614 a number of {digits:,} digits; at most "
                f"{AMOUNT_DIGITS} are allowed"
            ) from None
        except json.JSONDecodeError as error:
            raise SourceError(f"{where}: the snapshot is not valid JSON: {error.msg}") from None
        except RecursionError:
            raise SourceError(f"{where}: the snapshot is nested too deeply") from None
        customer = data.get("customer") if isinstance(data, dict) else None
        ident = customer.get("id") if isinstance(customer, dict) else None
        if not isinstance(ident, str) or not ident:
            raise SourceError(f"{where}: $.customer.id: a snapshot needs a customer id")
        return Customer(ident, data, Origin(self.name, number))
