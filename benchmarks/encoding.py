"""JSON at the engine's edges: writing results, and reading snapshots (issue #18).

Two measured decisions, each against today's code in the same process, interleaved:

* **Results** (`run_results`): the result JSON of `examples/rules/acme.yaml` on generated
  customers, written by `EvaluationResult.dumps` (straight from the result objects,
  `engine.result_json`) against the standard library on `to_json()`'s dictionaries (the text
  it must equal, checked), and orjson and msgspec encoding the same dictionaries, and
  whether their bytes are the same.
* **Snapshot readers** (`run_readers`): JSON text to a snapshot by the engine's reader
  (`Engine.read_snapshot_text`: msgspec decodes the text straight into the engine's activity
  structs), a host's dict to a snapshot by the same reader (`Engine.read_snapshot`:
  `msgspec.convert`, the dict parsed beforehand and not timed), by the pydantic models alone
  (`SnapshotIn.model_validate_json`, what words the problems of a snapshot the reader refuses),
  and by a msgspec typed decoder into plain structs of the same shape (`SnapshotStruct` below,
  the activity kinds acme customers have): the floor of decoding, without the engine's checks
  and objects. The reader before msgspec is measured by running this section on that code
  (docs/performance.md).

The optional libraries are skipped, with a note, when not installed.
"""

import json  # no `from __future__ import annotations`: msgspec reads the local structs' hints
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from benchmarks import data
from benchmarks.full import ACME
from benchmarks.harness import compare
from ruleengine import Engine, load_ruleset
from ruleengine.engine.snapshot import SnapshotIn


def _optional(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


def run_results(count: int, *, rounds: int) -> tuple[list[tuple[str, float]], list[str]]:
    """(what, µs per result) and notes on the bytes."""
    engine = Engine(load_ruleset(ACME))
    snapshots = [data.as_json(s) for s in data.customers(count)]
    results = [engine.evaluate(s, now=data.NOW) for s in snapshots]
    candidates: list[tuple[str, Any, Any]] = [
        ("evaluate (JSON in), for scale", lambda s: engine.evaluate(s, now=data.NOW), snapshots),
        ("`to_json()` alone (the dictionaries)", lambda r: r.to_json(), results),
        (
            "`json.dumps(to_json())`: the standard library on the dictionaries",
            lambda r: json.dumps(r.to_json(), ensure_ascii=False),
            results,
        ),
        (
            "`dumps(indent=None)`, a batch line (written directly)",
            lambda r: r.dumps(indent=None),
            results,
        ),
        (
            "`json.dumps(to_json(), indent=2)`: the standard library, indented",
            lambda r: json.dumps(r.to_json(), indent=2, ensure_ascii=False),
            results,
        ),
        (
            "`dumps(indent=2)`, `eval` and the service (written directly)",
            lambda r: r.dumps(),
            results,
        ),
    ]
    same_line = all(
        r.dumps(indent=None) == json.dumps(r.to_json(), ensure_ascii=False) for r in results
    )
    same_indented = all(
        r.dumps() == json.dumps(r.to_json(), indent=2, ensure_ascii=False) for r in results
    )
    notes: list[str] = [
        "`dumps` bytes identical to `json.dumps(to_json())`: "
        f"one line {'yes' if same_line else 'NO'}, indented {'yes' if same_indented else 'NO'}"
    ]
    orjson, msgspec = _optional("orjson"), _optional("msgspec")
    if orjson is not None:
        candidates.append(("orjson.dumps(to_json())", lambda r: orjson.dumps(r.to_json()), results))
        indented = [orjson.dumps(r.to_json(), option=orjson.OPT_INDENT_2).decode() for r in results]
        same_line = all(orjson.dumps(r.to_json()).decode() == r.dumps(indent=None) for r in results)
        same_indented = indented == [r.dumps() for r in results]
        notes.append(
            f"orjson: batch line bytes identical to today's: {'yes' if same_line else 'no'}; "
            f"`eval` (indent 2) bytes identical: {'yes' if same_indented else 'no'}"
        )
    else:
        notes.append("orjson: not installed")
    if msgspec is not None:
        encode = msgspec.json.Encoder().encode
        candidates.append(("msgspec encode(to_json())", lambda r: encode(r.to_json()), results))
        same = all(encode(r.to_json()).decode() == r.dumps(indent=None) for r in results)
        notes.append(f"msgspec: batch line bytes identical: {'yes' if same else 'no'}")
    else:
        notes.append("msgspec: not installed")
    compact = all(
        json.dumps(r.to_json(), separators=(",", ":"), ensure_ascii=False)
        == (orjson.dumps(r.to_json()).decode() if orjson else "")
        for r in results
    )
    notes.append(
        "orjson's bytes equal the standard library's with compact separators: "
        + ("yes" if compact else "no")
    )
    timings = compare(candidates, rounds=rounds, target=0.05)
    return [(t.name, t.seconds * 1e6) for t in timings], notes


def _snapshot_decoder(msgspec: Any) -> Any:
    """A msgspec decoder for acme snapshots: structs of the snapshot contract's shape."""
    struct = msgspec.Struct
    meta = msgspec.Meta

    Money = Decimal  # noqa: N806  # msgspec has no bounds on Decimal: checked after decoding
    Moment = Annotated[datetime, meta(tz=True)]  # noqa: N806

    class Customer(struct, frozen=True):
        id: Annotated[str, meta(min_length=1)]
        email: str | None = None
        tags: list[str] = msgspec.field(default_factory=list)
        tier: str | None = None
        excluded: bool = False
        birthday: date | None = None
        created_at: Moment | None = None
        region: str | None = None
        lifetime_value: Decimal | None = None

    class Order(struct, frozen=True, tag_field="type", tag="order"):
        id: Annotated[str, meta(min_length=1)]
        at: Moment
        subtotal: Money
        total: Money | None = None
        channel: str | None = None
        discount_codes: list[str] = msgspec.field(default_factory=list)
        refunded_at: Moment | None = None
        refunded_amount: Money | None = None
        subscription_id: str | None = None

    class Review(struct, frozen=True, tag_field="type", tag="review"):
        id: Annotated[str, meta(min_length=1)]
        at: Moment
        rating: Annotated[int, meta(ge=1, le=5)]
        product_id: str | None = None
        has_photo: bool = False
        verified: bool | None = None

    class Referral(struct, frozen=True, tag_field="type", tag="referral"):
        id: Annotated[str, meta(min_length=1)]
        at: Moment
        converted_at: Moment | None = None

    class Signup(struct, frozen=True, tag_field="type", tag="signup"):
        id: Annotated[str, meta(min_length=1)]
        at: Moment

    class Snapshot(struct, frozen=True, forbid_unknown_fields=True):
        customer: Customer
        activity: list[Order | Review | Referral | Signup] = msgspec.field(default_factory=list)
        granted: list[str] = msgspec.field(default_factory=list)

    return msgspec.json.Decoder(Snapshot)


def run_readers(count: int, *, rounds: int) -> tuple[list[tuple[str, float]], list[str]]:
    """(reader, µs per snapshot) from JSON text or a host's dict, and notes."""
    engine = Engine(load_ruleset(ACME))
    texts = [json.dumps(data.as_json(s)) for s in data.customers(count)]
    dicts = [json.loads(text, parse_float=Decimal) for text in texts]
    SnapshotIn.model_rebuild()  # built on first use anyway; not timed
    validate = SnapshotIn.model_validate_json
    candidates: list[tuple[str, Any, Any]] = [
        ("json.loads alone (reference)", json.loads, texts),
        ("engine reader: read_snapshot_text (JSON text)", engine.read_snapshot_text, texts),
        ("engine reader: read_snapshot (a host's dict)", engine.read_snapshot, dicts),
        ("pydantic models alone: SnapshotIn.model_validate_json", validate, texts),
    ]
    notes = []
    msgspec = _optional("msgspec")
    if msgspec is not None:
        decode = _snapshot_decoder(msgspec).decode
        decoded = decode(texts[0])
        assert decoded.customer.id == json.loads(texts[0])["customer"]["id"]
        candidates.append(("msgspec typed decoder (plain structs only)", decode, texts))
        bad = texts[0].replace('"subtotal": "', '"subtotal": "x', 1)
        try:
            decode(bad)
        except msgspec.ValidationError as error:
            notes.append(f"msgspec's error for a malformed amount: `{error}`")
    else:
        notes.append("msgspec: not installed")
    timings = compare(candidates, rounds=rounds, target=0.05)
    return [(t.name, t.seconds * 1e6) for t in timings], notes
