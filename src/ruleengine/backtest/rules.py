"""The rulesets a backtest or diff runs: a rule file, or a rule file at a git revision.

`main:rules/acme.yaml` (what `git show` accepts) names the file as it is at that revision, so
a pull request can be diffed against its base without checking it out. A path that exists is
always read as a file, so a file whose name holds a colon still works.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ruleengine.diagnostics.diagnostic import Diagnostic, RuleSetError
from ruleengine.engine.engine import Engine, engine_for_text
from ruleengine.rules.ruleset import read_source


class RulesError(Exception):
    """Rules that cannot be loaded: unreadable or unknown (`usage`, exit 2), or with
    diagnostics (exit 1)."""

    def __init__(
        self, message: str, diagnostics: tuple[Diagnostic, ...] = (), *, usage: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics
        self.usage = usage


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """A ruleset as given (`name`), its text and its engine."""

    name: str
    text: str
    engine: Engine


def read_rules_text(spec: str) -> tuple[str, str]:
    """(display name, text) of a rule file or of `REVISION:PATH` in the current git
    repository; raises `RulesError` (usage) when neither can be read."""
    path = Path(spec)
    if path.exists() or ":" not in spec:
        source = read_source(path, spec)
        if isinstance(source, Diagnostic):
            raise RulesError(source.message, (source,), usage=source.code == "RE100")
        return source.name, source.text
    revision, _, inside = spec.partition(":")
    if not revision or not inside:
        raise RulesError(f"`{spec}` is neither a file nor REVISION:PATH", usage=True)
    try:
        # `cat-file blob`, not `show`: `show` of a folder lists it, which read as a rule file
        shown = subprocess.run(
            ["git", "cat-file", "blob", f"{revision}:{inside}"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RulesError(f"cannot run `git cat-file blob {spec}`: {error}", usage=True) from None
    if shown.returncode != 0:
        reason = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1].removeprefix("fatal: ") if reason else "git cat-file failed"
        if detail.endswith(": bad file"):
            detail = f"`{inside}` is not a file at `{revision}` (a folder?)"
        raise RulesError(f"cannot read `{spec}` from git: {detail}", usage=True)
    try:
        return spec, shown.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise RulesError(f"`{spec}` is not UTF-8 text", usage=True) from None


def load_rules(spec: str) -> LoadedRules:
    """The engine for a rule file or git revision of one; raises `RulesError`."""
    name, text = read_rules_text(spec)
    try:
        engine = engine_for_text(text, name)
    except RuleSetError as error:
        raise RulesError(f"`{name}` has errors", tuple(error.diagnostics)) from None
    return LoadedRules(name, text, engine)
