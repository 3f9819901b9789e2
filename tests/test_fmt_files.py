"""`ruleengine fmt` on files as they are kept: behind symbolic links, with CRLF line endings,
without a final line break (and `--diff` output that `patch` applies)."""

from __future__ import annotations

import os
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
