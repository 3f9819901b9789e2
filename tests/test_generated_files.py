"""Checked-in generated files match their sources: schemas from the models, the error
reference from the code catalogue."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from caseio import example_rule_files
from ruleengine.diagnostics.codes import CODES, render_markdown
from ruleengine.diagnostics.diagnostic import Severity
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.yaml_nodes import to_plain
from ruleengine.rules.yaml_source import read_document
from ruleengine.schema_export import SCHEMAS, schema_text

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_checked_in_schema_is_current(name: str) -> None:
    checked_in = (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert checked_in == schema_text(name), (
        "schemas/ is stale: run `python -m ruleengine.schema_export schemas/`"
    )


def test_error_reference_is_current() -> None:
    checked_in = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert checked_in == render_markdown(), (
        "docs/errors.md is stale: run `python -m ruleengine.diagnostics.codes > docs/errors.md`"
    )


def test_codes_are_unique_and_in_their_phase_ranges() -> None:
    for code, info in CODES.items():
        assert code == info.code
        assert code[:3] in {"RE1", "RE2", "RE3", "RE4", "RE5", "RE6"}
        assert info.severity in {s.value for s in Severity}
    assert len({info.slug for info in CODES.values()}) == len(CODES)


@pytest.mark.parametrize("path", example_rule_files(), ids=lambda p: p.name)
def test_examples_satisfy_the_json_schema(path: Path) -> None:
    """What editors check with the schema agrees with the models on the bundled examples."""
    import json

    root, problems = read_document(SourceFile(path.name, path.read_text(encoding="utf-8")))
    assert root is not None and problems == []
    schema = json.loads(schema_text("ruleset"))
    document = json.loads(json.dumps(to_plain(root), default=str))
    jsonschema.validate(document, schema)
