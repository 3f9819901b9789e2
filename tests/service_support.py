"""Shared pieces of the service tests: an app over a copy of the example rules, and helpers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ruleengine.limits import DEFAULT_LIMITS, Limits

ROOT = Path(__file__).parent.parent
EXAMPLE_RULES = ROOT / "examples" / "rules"
EXAMPLE_SNAPSHOTS = ROOT / "examples" / "snapshots"
NOW = "2026-06-01T00:00:00Z"
TOKEN = "s3cret-token-for-tests-only"


def copy_rules(folder: Path) -> Path:
    """The example rule files (without their test files) in a folder a test may edit."""
    rules = folder / "rules"
    rules.mkdir()
    for path in sorted(EXAMPLE_RULES.glob("*.yaml")):
        if not path.name.endswith(".test.yaml"):
            shutil.copy(path, rules / path.name)
    return rules


def make_client(
    rules: Path,
    *,
    token: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    reload_interval: float = 0,
) -> Any:
    """A test client of the app over `rules`; `reload_interval` 0 (a reload due on every
    request) sends every program request to the thread pool."""
    from fastapi.testclient import TestClient

    from ruleengine.service.app import create_app
    from ruleengine.service.config import ServeConfig

    config = ServeConfig(
        rules_dir=str(rules),
        snapshots_dir=str(EXAMPLE_SNAPSHOTS),
        token=token,
        reload_interval=reload_interval,
    )
    # Requests say what they send, as the service requires (415 otherwise): JSON by default.
    return TestClient(
        create_app(config, limits=limits),
        raise_server_exceptions=False,
        headers={"content-type": "application/json"},
    )


def snapshot(name: str) -> Any:
    from decimal import Decimal

    return json.loads((EXAMPLE_SNAPSHOTS / name).read_text(encoding="utf-8"), parse_float=Decimal)


def rule_file_for(snapshot_name: str) -> Path:
    """examples/snapshots/acme-maria.json -> examples/rules/acme.yaml (by the first word)."""
    word = snapshot_name.split("-")[0]
    (match,) = [p for p in EXAMPLE_RULES.glob(f"{word}*.yaml") if not p.name.endswith(".test.yaml")]
    return match
