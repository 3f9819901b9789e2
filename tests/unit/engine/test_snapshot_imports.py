"""The snapshot models (and the pydantic schema they build) load only when a snapshot needs
them: `ruleengine eval` of a well-formed snapshot never does, and pays no start-up for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruleengine.engine import snapshot, snapshot_models

ROOT = Path(__file__).parents[3]

PROGRAM = """
import sys
from datetime import UTC, datetime
from ruleengine import Engine, load_ruleset
from ruleengine.engine.snapshot import SnapshotError

engine = Engine(load_ruleset(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
result = engine.evaluate(engine.read_snapshot_text(text), now=datetime(2026, 6, 1, tzinfo=UTC))
assert result.decisions
print("snapshot_models" in " ".join(sys.modules))
try:  # a snapshot the fast reader declines: the models word the problem, as before
    engine.read_snapshot_text('{"customer": {"id": "c1"}, "activity": [{"type": "ordr"}]}')
except SnapshotError as error:
    print(error.problems[0].code, error.problems[0].message, error.problems[0].hint)
print("snapshot_models" in " ".join(sys.modules))
"""


def test_a_well_formed_snapshot_does_not_load_the_models() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            PROGRAM,
            str(ROOT / "examples" / "rules" / "acme.yaml"),
            str(ROOT / "examples" / "snapshots" / "acme-maria.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    before, problem, after = completed.stdout.splitlines()
    assert before == "False"
    assert problem == "RE613 unknown activity type `ordr` did you mean `order`?"
    assert after == "True"


def test_the_models_stay_importable_from_the_snapshot_module() -> None:
    for name in snapshot._MODEL_NAMES:
        assert getattr(snapshot, name) is getattr(snapshot_models, name)
    assert snapshot.SnapshotIn is snapshot_models.SnapshotIn
