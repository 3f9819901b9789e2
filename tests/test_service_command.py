"""`ruleengine serve` as the CLI sees it: a cheap hook, and a clear exit without the extra."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest

from ruleengine import cli
from service_support import ROOT

WEB_STACK = ("fastapi", "starlette", "uvicorn", "jinja2", "pydantic", "lark")


def test_import_and_help_load_no_web_stack() -> None:
    code = (
        "import sys, ruleengine, ruleengine.cli; ruleengine.cli.build_parser(); "
        f"print(__import__('json').dumps(sorted(m for m in {WEB_STACK!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out) == []


def test_serve_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    assert "--token-file" in capsys.readouterr().out


def test_serve_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def missing_fastapi(name: str, *args: Any) -> Any:
        return None if name == "fastapi" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", missing_fastapi)
    assert cli.main(["serve", "examples/rules/"]) == 2
    assert "pip install 'ruleengine[serve]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "no-such-folder"], "is not a folder of rule files"),
        (["serve", "examples/rules/", "--workers", "0"], "--workers must be 1 or more"),
        (["serve", "examples/rules/", "--token-file", "no-such-file"], "cannot read the token"),
    ],
)
def test_serve_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_serve_today_is_yyyy_mm_dd(capsys: pytest.CaptureFixture[str]) -> None:
    """As `validate --today` (`date.fromisoformat` also takes `20261201`)."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "examples/rules/", "--today", "20261201"])
    assert exited.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err
