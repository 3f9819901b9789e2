"""`--out DIR`: the per-decision Parquet file and the report, written all or nothing.

Everything is written into a staging folder beside `DIR` (same file system) and renamed to
`DIR` at the end, so a run that fails (bad data halfway through, an interrupt) leaves nothing
half-written where the results are expected. `DIR` must not exist, or be empty: results are
never mixed with, or written over, older ones.

`decisions.parquet` has one row per decision. Money is exact decimal text (`store_credit`,
`discount_amount`), as in the result JSON, since a Parquet DECIMAL would need one scale for
every amount; `rewards` is the decision's rewards as JSON text; times are UTC timestamps.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ruleengine.backtest.sources import BATCH_EXTRA, SourceError
from ruleengine.backtest.tally import value_of
from ruleengine.engine.decisions import Decision

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

FLUSH_ROWS = 16384
"""Decisions buffered before a row group is written: bounded memory, few row groups."""


class OutputError(Exception):
    """`--out` cannot be used (exit 2)."""


def check_out(out: Path) -> None:
    """Refuse an `--out` that holds anything, before any work is done."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"`{out}` exists and is not an empty folder; choose a new --out")


class Staging:
    """A staging folder that becomes `out` on `commit()`, or disappears."""

    def __init__(self, out: Path) -> None:
        check_out(out)
        self.out = out
        parent = out.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))

    def commit(self) -> None:
        if self.out.exists():
            self.out.rmdir()  # empty, checked at the start
        self.path.rename(self.out)

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)


def decision_schema() -> pa.Schema:
    """The columns of `decisions.parquet` (and of the Spark decisions DataFrame)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("ruleset", pa.string()),
            ("customer_id", pa.string()),
            ("key", pa.string()),
            ("rule", pa.string()),
            ("step", pa.int32()),
            ("status", pa.string()),
            ("logic", pa.string()),
            ("pick", pa.int32()),
            ("achieved_at", pa.timestamp("us", tz="UTC")),
            ("available_at", pa.timestamp("us", tz="UTC")),
            ("qualifying", pa.string()),
            ("points", pa.int64()),
            ("store_credit", pa.string()),
            ("discount_amount", pa.string()),
            ("rewards", pa.string()),
            ("decision_kind", pa.string()),
            ("tier_change", pa.string()),
        ]
    )


class DecisionColumns:
    """Decisions as columns (lists of values) in `decision_schema()` order."""

    NAMES = (
        "ruleset",
        "customer_id",
        "key",
        "rule",
        "step",
        "status",
        "logic",
        "pick",
        "achieved_at",
        "available_at",
        "qualifying",
        "points",
        "store_credit",
        "discount_amount",
        "rewards",
        "decision_kind",  # `reward`, `points_expired`, `expiry_warning`, `tier_change`
        "tier_change",  # a tier change's levels as JSON, `{"from": ..., "to": ...}`; else null
    )

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {name: [] for name in self.NAMES}

    def __len__(self) -> int:
        return len(self.rows["key"])

    def add(self, ruleset: str, customer: str, decisions: tuple[Decision, ...]) -> None:
        rows = self.rows
        for decision in decisions:
            value = value_of(decision)
            rows["ruleset"].append(ruleset)
            rows["customer_id"].append(customer)
            rows["key"].append(decision.key)
            rows["rule"].append(decision.rule)
            rows["step"].append(decision.step)
            rows["status"].append(decision.status)
            rows["logic"].append(decision.logic)
            rows["pick"].append(decision.pick)
            rows["achieved_at"].append(decision.achieved_at)
            rows["available_at"].append(decision.available_at)
            rows["qualifying"].append(decision.qualifying)
            rows["points"].append(value.points)
            rows["store_credit"].append(format(value.store_credit, "f"))
            rows["discount_amount"].append(format(value.discount_amount, "f"))
            rows["rewards"].append(
                json.dumps([r.to_json() for r in decision.rewards], separators=(",", ":"))
            )
            rows["decision_kind"].append(decision.kind)
            tier = decision.tier
            rows["tier_change"].append(
                None
                if tier is None
                else json.dumps({"from": tier[0], "to": tier[1]}, separators=(",", ":"))
            )


def decision_columns() -> DecisionColumns:
    return DecisionColumns()


class DecisionWriter:
    """Appends decisions to `decisions.parquet`, a row group every `FLUSH_ROWS` rows."""

    def __init__(self, path: Path) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise SourceError(f"--out needs {BATCH_EXTRA}", usage=True) from None
        self.schema = decision_schema()
        self.writer: pq.ParquetWriter = pq.ParquetWriter(str(path), self.schema)
        self.columns = DecisionColumns()
        self.count = 0

    def add(self, ruleset: str, customer: str, decisions: tuple[Decision, ...]) -> None:
        self.columns.add(ruleset, customer, decisions)
        self.count += len(decisions)
        if len(self.columns) >= FLUSH_ROWS:
            self.flush()

    def extend(self, columns: DecisionColumns) -> None:
        """Append decisions already in columns (a chunk of `--jobs N`)."""
        for name, values in columns.rows.items():
            self.columns.rows[name].extend(values)
        self.count += len(columns)
        if len(self.columns) >= FLUSH_ROWS:
            self.flush()

    def flush(self, *, last: bool = False) -> None:
        """Write row groups of exactly `FLUSH_ROWS` rows (and, `last`, the rest): the file
        is the same whether decisions came a customer or a chunk at a time."""
        import pyarrow as pa

        rows = self.columns.rows
        while len(self.columns) >= FLUSH_ROWS or (last and len(self.columns)):
            part = {name: values[:FLUSH_ROWS] for name, values in rows.items()}
            self.writer.write_table(pa.Table.from_pydict(part, schema=self.schema))
            for values in rows.values():
                del values[:FLUSH_ROWS]

    def close(self) -> None:
        self.flush(last=True)
        self.writer.close()
