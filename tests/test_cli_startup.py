"""The command line builds only the parser of the command it runs (start-up, issue #18): the
same help, the same errors and the same arguments as the whole parser gives."""

from __future__ import annotations

import pytest

from ruleengine.cli import build_parser
from ruleengine.cli.main import _COMMANDS, _command_of

NAMES = [name for names, _ in _COMMANDS for name in names]


def _output(command: str | None, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        build_parser(command).parse_args(args)
    captured = capsys.readouterr()
    return f"{stop.value.code}\n{captured.out}\n{captured.err}"


@pytest.mark.parametrize("name", NAMES)
def test_a_command_alone_has_the_help_and_errors_it_has_among_all(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in ([name, "--help"], [name, "--no-such-option"]):
        assert _output(name, args, capsys) == _output(None, args, capsys)


def test_a_command_alone_reads_its_arguments_as_among_all() -> None:
    args = ["eval", "acme.yaml", "--snapshot", "maria.json", "--now", "2026-06-01T00:00:00Z"]
    assert build_parser(_command_of(args)).parse_args(args) == build_parser().parse_args(args)


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["eval", "x.yaml"], "eval"),
        (["diff", "a", "b"], "diff"),
        (["--debug", "eval"], None),  # an option first: the whole parser
        (["--help"], None),
        (["evl"], None),  # a mistyped command: the whole parser lists the commands
        ([], None),
    ],
)
def test_the_command_is_the_first_argument_when_it_names_one(
    args: list[str], command: str | None
) -> None:
    assert _command_of(args) == command
