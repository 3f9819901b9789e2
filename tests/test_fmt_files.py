"""`ruleengine fmt` on files as they are kept: behind symbolic links, with CRLF line endings,
without a final line break (and `--diff` output that `patch` applies)."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.rules.formatter import format_text
from test_cli import run
from test_fmt import FORMATTED, MESSY, rulesets_with_respaced_expressions
from test_fmt_comments import commented_rule_files
from test_fuzz_engine import EXAMPLES


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


def test_fmt_keeps_crlf_line_endings_when_it_respaces(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes(MESSY.replace("\n", "\r\n").encode("utf-8"))
    assert run("fmt", str(path)).returncode == 0
    assert path.read_bytes() == FORMATTED.replace("\n", "\r\n").encode("utf-8")
    assert run("fmt", "--check", str(path)).returncode == 0


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_fmt_keeps_a_byte_order_mark(tmp_path: Path, line_break: str) -> None:
    # Windows editors start UTF-8 files with one; fmt rewrote them without it
    path = tmp_path / "rules.yaml"
    path.write_bytes(codecs.BOM_UTF8 + MESSY.replace("\n", line_break).encode("utf-8"))
    assert run("fmt", "--diff", str(path)).returncode == 1
    assert run("fmt", str(path)).returncode == 0
    assert path.read_bytes() == codecs.BOM_UTF8 + FORMATTED.replace("\n", line_break).encode()
    assert run("fmt", "--check", str(path)).returncode == 0


def test_fmt_keeps_each_line_break_of_a_file_that_mixes_them() -> None:
    text = MESSY.replace("  name: Points\n", "  name: Points\r\n")
    result = format_text(text)  # only the expressions are respaced, where they stand
    respaced = {
        "floor( order.subtotal*5 )": "floor(order.subtotal * 5)",
        'order.subtotal>=20 and order.channel in["online","pos"]': (
            'order.subtotal >= 20 and order.channel in ["online", "pos"]'
        ),
        'not("wholesale" in customer.tags)': 'not ("wholesale" in customer.tags)',
    }
    for written, canonical in respaced.items():
        text = text.replace(written, canonical)
    assert result.text == text


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(text=st.one_of(rulesets_with_respaced_expressions(), commented_rule_files()))
def test_fmt_of_a_crlf_file_is_fmt_of_its_lf_text_with_crlf(text: str) -> None:
    lf = format_text(text)
    crlf = format_text(text.replace("\n", "\r\n"))
    assert crlf.text == (None if lf.text is None else lf.text.replace("\n", "\r\n")), text
