"""Finding files in folders: what `ruleengine validate`, `fmt` and `test` read when given a
folder instead of files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

RULE_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")  # rule test files (`ruleengine test`)


def is_rule_file(path: Path) -> bool:
    """A rule file by its name: `*.yaml`/`*.yml`, and not a rule test file."""
    return path.suffix in RULE_SUFFIXES and not path.name.endswith(TEST_SUFFIXES)


def files_below(folder: Path, accept: Callable[[Path], bool]) -> list[Path]:
    """The files below `folder`, at any depth, that `accept` takes, sorted; files inside hidden
    folders (`.git`, `.venv`, ...) are left out."""
    return sorted(
        path
        for path in folder.rglob("*")
        if accept(path)
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts[:-1])
    )
