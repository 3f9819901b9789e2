"""JSON Schemas generated from the models; `schemas/*.json` are checked-in copies.

Regenerate with `python -m ruleengine.schema_export schemas/`; a test fails when a checked-in
copy differs from what the models produce.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _ruleset_schema() -> dict[str, Any]:
    from ruleengine.rules.models import RuleSetFile

    schema = RuleSetFile.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _snapshot_schema() -> dict[str, Any]:
    from ruleengine.engine.snapshot import SnapshotIn

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **SnapshotIn.model_json_schema(),
    }


def _result_schema() -> dict[str, Any]:
    from ruleengine.engine.result_schema import ResultOut

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ResultOut.model_json_schema(),
    }


def _timeline_schema() -> dict[str, Any]:
    from ruleengine.engine.result_schema import TimelineOut

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **TimelineOut.model_json_schema(),
    }


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "ruleset": _ruleset_schema,
    "snapshot": _snapshot_schema,
    "result": _result_schema,
    "timeline": _timeline_schema,
}


def schema_text(name: str) -> str:
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(path)
