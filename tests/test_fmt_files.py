"""`ruleengine fmt` on files as they are kept: behind symbolic links, with CRLF line endings,
without a final line break (and `--diff` output that `patch` applies)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_cli import run
from test_fmt import FORMATTED, MESSY


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_fmt_writes_through_a_symbolic_link_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(MESSY, encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to("real.yaml")
    result = run("fmt", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "real.yaml"
    assert real.read_text(encoding="utf-8") == FORMATTED
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.yaml", "real.yaml"]


def test_fmt_diff_applies_with_patch(tmp_path: Path) -> None:
    text = MESSY.rstrip("\n")  # no line break at the end
    path = tmp_path / "rules.yaml"
    path.write_bytes(text.encode("utf-8"))
    diff = run("fmt", "--diff", "rules.yaml", cwd=tmp_path)
    assert diff.returncode == 1, diff.stderr
    assert "\n\\ No newline at end of file\n" in diff.stdout
    assert "}+  " not in diff.stdout and "}-" not in diff.stdout  # no lines run together
    assert run("fmt", "rules.yaml", cwd=tmp_path).returncode == 0
    formatted = path.read_bytes()
    path.write_bytes(text.encode("utf-8"))
    if shutil.which("patch") is None:
        pytest.skip("`patch` is not installed; the marker is checked above")
    patched = subprocess.run(
        ["patch", "-p0", "--quiet", "--no-backup-if-mismatch"],
        input=diff.stdout.encode("utf-8"),
        cwd=tmp_path,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert patched.returncode == 0, patched.stdout + patched.stderr
    assert path.read_bytes() == formatted
