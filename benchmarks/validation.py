"""Validating a folder of rule files: files per second, whole command and in process.

A CI pipeline runs `ruleengine validate rules/` on every push, so what counts is the whole
command on a folder: start-up, reading, YAML, models, expressions. The folder is generated
from the bundled examples (each file a full program with renamed ids), so the files are as
varied as real ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(
    p for p in (ROOT / "examples" / "rules").glob("*.yaml") if not p.name.endswith(".test.yaml")
)


@dataclass(frozen=True)
class ValidationResult:
    files: int
    rules: int
    command_seconds: float  # `ruleengine validate FOLDER`, wall clock, start-up included
    in_process_seconds: float  # `check_source` per file, after start-up

    @property
    def command_rate(self) -> float:
        return self.files / self.command_seconds

    @property
    def in_process_rate(self) -> float:
        return self.files / self.in_process_seconds


def write_folder(folder: Path, files: int) -> int:
    """`files` rule files made from the examples, with unique program and rule ids."""
    texts = [path.read_text(encoding="utf-8") for path in EXAMPLES]
    rules = 0
    for number in range(files):
        text = texts[number % len(texts)].replace("program: ", f"program: n{number}-", 1)
        (folder / f"program-{number:04d}.yaml").write_text(text, encoding="utf-8")
        rules += text.count("\n  - id: ")
    return rules


def run_validation(files: int = 1000, rounds: int = 3) -> ValidationResult:
    from ruleengine.diagnostics.diagnostic import Diagnostic
    from ruleengine.rules.ruleset import check_source, read_source

    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        rules = write_folder(folder, files)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-m", "ruleengine", "validate", str(folder)]
        best_command = best_inline = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            best_command = min(best_command, time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"validation failed: {done.stdout[-500:]}")
            paths = sorted(folder.glob("*.yaml"))
            started = time.process_time()
            for path in paths:
                source = read_source(path)
                if isinstance(source, Diagnostic):
                    raise RuntimeError(source.message)
                check_source(source)
            best_inline = min(best_inline, time.process_time() - started)
        return ValidationResult(files, rules, best_command, best_inline)
