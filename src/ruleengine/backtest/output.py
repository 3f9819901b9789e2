"""`--out DIR`: the per-decision Parquet file and the report, written all or nothing.

Everything is written into a staging folder beside `DIR` (same file system) and renamed to
`DIR` at the end, so a run that fails (bad data halfway through, an interrupt) leaves nothing
half-written where the results are expected. `DIR` must not exist, or be empty: results are
never mixed with, or written over, older ones. A run that fails removes the staging folder
and the parent folders it created for `DIR`, and leaves an existing `DIR` as it was.

SIGTERM and SIGINT end a run the same way (`interrupts`): each raises `Interrupted` where the
run is, so the staging folder is removed on the way out (the default SIGTERM ends the process
on the spot). Creating, renaming and removing the staging folder hold a signal until they are
done (`held_signals`), so an interrupt never leaves one half-made.

`decisions.parquet` has one row per decision. Money is exact decimal text (`store_credit`,
`discount_amount`), as in the result JSON, since a Parquet DECIMAL would need one scale for
every amount; `rewards` is the decision's rewards as JSON text; times are UTC timestamps.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType
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


class Interrupted(BaseException):
    """SIGTERM or SIGINT during a run (`interrupts`). A `BaseException`, as
    `KeyboardInterrupt` is, so that no `except Exception` stops it and every `finally` and
    `__exit__` on its way out runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


class _Hold:
    """Signals held while the staging folder is made, renamed or removed (`held_signals`)."""

    depth = 0
    pending: int | None = None
    received: int | None = None  # the signal of this run, if one came (`interrupts`)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _Hold.received = signum
    if _Hold.depth:
        _Hold.pending = signum
        return
    raise Interrupted(signum)


@contextmanager
def held_signals() -> Iterator[None]:
    """A signal that comes in the block is raised (as `Interrupted`) when the block is done:
    for work that an exception must not cut in two (making or removing a folder, starting
    a worker process)."""
    _Hold.depth += 1
    try:
        yield
    finally:
        _Hold.depth -= 1
        if not _Hold.depth and _Hold.pending is not None:
            signum, _Hold.pending = _Hold.pending, None
            raise Interrupted(signum)


@contextmanager
def released_signals() -> Iterator[None]:
    """Inside `held_signals`, a block that a signal may stop at once (reading the source
    while a chunk is taken: a DuckDB sort can take a while); one held before is raised
    now."""
    depth, _Hold.depth = _Hold.depth, 0
    try:
        if _Hold.pending is not None:
            signum, _Hold.pending = _Hold.pending, None
            raise Interrupted(signum)
        yield
    finally:
        _Hold.depth = depth


INTERRUPTS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def interrupts() -> Iterator[None]:
    """In the block, SIGTERM and SIGINT raise `Interrupted` (a signal the process ignores,
    as a background job ignores SIGINT, stays ignored); the handlers before are restored
    after. Signals reach only the main thread, so elsewhere this does nothing.

    A library may turn the exception into its own: DuckDB's `execute` raises
    `RuntimeError('Query interrupted')` in its place. Any error after a signal is the
    signal's doing, so it leaves the block as `Interrupted`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {signum: signal.getsignal(signum) for signum in INTERRUPTS}
    _Hold.received = None
    for signum, handler in before.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _interrupt)
    try:
        yield
    except Exception as error:
        if _Hold.received is not None:
            raise Interrupted(_Hold.received) from error
        raise
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


class Staging:
    """A staging folder beside `out` that becomes `out` on `commit()`, or disappears, with
    the parent folders it made, when the block ends without a commit."""

    def __init__(self, out: Path) -> None:
        check_out(out)
        self.out = out
        self.parent = out.resolve().parent
        self.path: Path | None = None
        self.made: list[Path] = []  # the parents this run created, deepest first
        self.committed = False

    def __enter__(self) -> Staging:
        try:
            with held_signals():
                self._make()
        except BaseException:
            with held_signals():
                self._remove()
            raise
        return self

    def _make(self) -> None:
        folder = self.parent
        while not folder.exists():
            self.made.append(folder)
            folder = folder.parent
        self.parent.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.parent / f".{self.out.name}.{secrets.token_hex(4)}"
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:  # another run's
                continue
            self.path = path  # signals are held: no moment where it exists unrecorded
            return

    def commit(self) -> None:
        """Rename the staging folder to `out` (which may be an empty folder: rename replaces
        it at once); `out` written by something else meanwhile is left alone."""
        assert self.path is not None
        with held_signals():
            try:
                self.path.rename(self.out)
            except OSError as error:
                raise OutputError(
                    f"cannot write `{self.out}`: {error.strerror}; it was changed during the "
                    "run, and is left as it is"
                ) from None
            self.committed = True

    def _remove(self) -> None:
        if self.committed:
            return
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:  # something else was put there meanwhile: keep it
                break

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with held_signals():
            self._remove()


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

    def abort(self) -> None:
        """Close the file without writing what is buffered: the run failed, and the staging
        folder holding the file is removed."""
        with contextlib.suppress(Exception):  # its error would hide the run's; it is deleted
            self.writer.close()
