"""The pre-commit hooks and the example CI workflow name commands and options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from ruleengine.cli import build_parser

ROOT = Path(__file__).parent.parent


def parses(command: str) -> bool:
    args = shlex.split(command.replace('"$RULES"', "rules/"))
    assert args[0] == "ruleengine"
    try:
        build_parser().parse_args(args[1:])
    except SystemExit:
        return False
    return True


def test_pre_commit_hooks_run_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {hook["id"] for hook in hooks} == {"ruleengine-validate", "ruleengine-fmt"}
    for hook in hooks:
        assert parses(hook["entry"] + " rules/a.yaml"), hook["entry"]
        assert re.search(hook["files"], "rules/a.yaml")
        assert re.search(hook["exclude"], "rules/a.test.yaml")


def test_workflow_commands_parse() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    runs = [step["run"] for step in workflow["jobs"]["rules"]["steps"] if "run" in step]
    commands = [
        run.split(" > ")[0].split(" || ")[0] for run in runs if run.startswith("ruleengine")
    ]
    assert len(commands) == 4
    for command in commands:
        assert parses(command), command
