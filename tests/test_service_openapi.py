"""The OpenAPI document: its snapshot and result schemas are the files in schemas/, and
requests generated from it (schemathesis) never get a 500 and always match it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ruleengine.service.app import create_app
from ruleengine.service.config import ServeConfig
from service_support import EXAMPLE_SNAPSHOTS, ROOT, copy_rules, make_client


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    client = make_client(copy_rules(tmp_path_factory.mktemp("openapi")))
    response = client.get("/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def as_schema_file(components: dict[str, Any], name: str) -> dict[str, Any]:
    """The component `name` and everything it refers to, put back in one file with `$defs`."""

    def back(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else back(v)
                for k, v in node.items()
            }
        return [back(item) for item in node] if isinstance(node, list) else node

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        return set().union(*(refs(v) for v in node)) if isinstance(node, list) else set()

    wanted, seen = refs(components[name]), set()
    while wanted - seen:
        item = (wanted - seen).pop()
        seen.add(item)
        wanted |= refs(components[item])
    schema = back(components[name])
    if seen:
        schema["$defs"] = {item: back(components[item]) for item in sorted(seen)}
    return dict(schema)


@pytest.mark.parametrize(
    ("component", "file"),
    [("Snapshot", "snapshot"), ("Result", "result"), ("Timeline", "timeline")],
)
def test_openapi_schemas_are_the_checked_in_schemas(
    document: dict[str, Any], component: str, file: str
) -> None:
    expected = json.loads((ROOT / "schemas" / f"{file}.schema.json").read_text(encoding="utf-8"))
    for key in ("$schema", "$id"):
        expected.pop(key, None)
    assert as_schema_file(document["components"]["schemas"], component) == expected


def test_openapi_lists_every_endpoint(document: dict[str, Any]) -> None:
    assert sorted(document["paths"]) == [
        "/healthz",
        "/v1/programs",
        "/v1/programs/{program}/evaluate",
        "/v1/programs/{program}/explain",
        "/v1/programs/{program}/timeline",
        "/v1/validate",
    ]
    for action in ("evaluate", "explain", "timeline"):
        body = document["paths"][f"/v1/programs/{{program}}/{action}"]["post"]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{action.capitalize()}Request"
        }


def test_program_parameter_names_the_programs_served(document: dict[str, Any]) -> None:
    """So a reader, a client generator or schemathesis uses programs that exist."""
    operation = document["paths"]["/v1/programs/{program}/evaluate"]["post"]
    (parameter,) = operation["parameters"]
    assert parameter["schema"]["enum"] == [
        "acme-rewards",
        "aurora-beauty",
        "greenleaf-market",
        "maple-loyalty",
        "northwind-coffee",
        "urban-threads",
    ]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["acme-maria"]["value"]["now"] == "2026-06-01T00:00:00Z"
    assert examples["acme-maria"]["value"]["snapshot"]["customer"]["id"]


def test_document_follows_the_programs_served(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    client = make_client(rules)
    (rules / "maple-loyalty.yaml").unlink()
    document = client.get("/openapi.json").json()
    (parameter,) = document["paths"]["/v1/programs/{program}/timeline"]["post"]["parameters"]
    assert "maple-loyalty" not in parameter["schema"]["enum"]


def _app() -> Any:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ruleengine-schemathesis-"))
    config = ServeConfig(
        rules_dir=str(copy_rules(folder)),
        snapshots_dir=str(EXAMPLE_SNAPSHOTS),
        reload_interval=60,
    )
    return create_app(config)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_requests_get_no_500_and_match_the_document(case: Any) -> None:
    """The program parameter is an enum of the served programs and the bodies have examples,
    so nearly every generated request reaches a handler rather than a 404 (docs/service.md)."""
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
