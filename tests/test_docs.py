"""The documentation runs: README code, console transcripts, and every example in the
references is checked by the real checker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ruleengine import check_ruleset, compile_expression

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(fenced(README, "python"))))
def test_readme_python_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = fenced(README, "python")[index]
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {})  # our own docs


def transcripts() -> list[tuple[str, str]]:
    found = []
    for block in fenced(README, "console"):
        command, _, output = block.partition("\n")
        while command.endswith("\\"):
            more, _, output = output.partition("\n")
            command = command[:-1] + more.strip()
        if command.startswith(
            (
                "$ ruleengine eval",
                "$ ruleengine explain",
                "$ ruleengine timeline",
                "$ ruleengine diff",
            )
        ):
            found.append((command.removeprefix("$ "), output))
    return found


@pytest.mark.parametrize(("command", "expected"), transcripts())
def test_readme_transcripts_match_the_cli(command: str, expected: str) -> None:
    args = command.split()[1:]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "ruleengine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    actual = re.sub(r"sha256:[0-9a-f]{64}", "sha256:…", result.stdout)
    assert actual.strip() == expected.strip()


LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "expression",
    [
        line.strip()
        for block in fenced(LANGUAGE, "rule-expr")
        for line in block.splitlines()
        if line.strip()
    ],
)
def test_language_reference_examples_check(expression: str) -> None:
    compile_expression(expression)


@pytest.mark.parametrize("doc", ["rule-files.md", "language.md", "engine.md"])
def test_yaml_examples_in_docs_validate(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    for block in fenced(text, "yaml"):
        if block.lstrip().startswith(("version:", "# yaml-language-server")):
            assert [d for d in check_ruleset(block) if d.is_error] == [], block


def test_architecture_names_every_module() -> None:
    """docs/architecture.md maps the packages: a module it does not mention is a module a
    reader cannot find, so adding one means placing it on the map."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    src = ROOT / "src" / "ruleengine"
    missing = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if path.stem != "__init__"
        and "service" not in path.relative_to(src).parts  # documented in docs/service.md
        and not re.search(rf"\b{re.escape(path.stem)}\b", text)
    )
    assert missing == []
