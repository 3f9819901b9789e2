"""Reading the YAML case files: YAML 1.2-style scalars, so timestamps and `on:` stay text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class CaseLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's timestamp and yes/no/on/off booleans."""


CaseLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_cases(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CaseLoader)  # a SafeLoader subclass


EXAMPLE_RULES = Path(__file__).parent.parent / "examples" / "rules"


def example_rule_files() -> list[Path]:
    """The bundled rule files (their `*.test.yaml` rule tests are not rule files)."""
    return sorted(p for p in EXAMPLE_RULES.glob("*.yaml") if not p.name.endswith(".test.yaml"))
