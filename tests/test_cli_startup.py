"""The command line builds only the parser of the command it runs (start-up, issue #18): the
same help, the same errors and the same arguments as the whole parser gives."""

from __future__ import annotations

import pytest

from caseio import cli_in_a_fresh_process
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


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["backtest", "--help"]])
def test_help_loads_no_rule_or_engine_code(args: list[str]) -> None:
    """Help is the command line alone: no expression, rule or engine module, and not msgspec
    (with what it imports, ~8 ms), which the `--now` parsers used to load for every command."""
    report = "' '.join(sorted(sys.modules))"
    loaded = set(cli_in_a_fresh_process("", report, tuple(args)).split())
    assert "ruleengine.cli.main" in loaded
    unwanted = {
        name
        for name in loaded
        if name.split(".")[0] == "msgspec"
        or name.startswith(("ruleengine.expr", "ruleengine.rules", "ruleengine.engine"))
    }
    assert unwanted == set()


# What `ruleengine eval` may still make as dataclasses: the public API's records (hosts may
# call `dataclasses.asdict`, `replace` or `fields` on them) and what a host receives inside
# them. Every other record is a `msgspec.Struct`, made in C: on Python 3.11 `dataclasses`
# compiles each generated method from source, ~0.4 ms a frozen class, which was ~41 ms of
# the command's ~150 (81 classes).
PUBLIC_DATACLASSES = {
    "ruleengine.diagnostics.diagnostic.Diagnostic",
    "ruleengine.engine.decisions.Decision",
    "ruleengine.engine.decisions.EvaluationResult",
    "ruleengine.engine.decisions.Explanation",
    "ruleengine.engine.decisions.Progress",
    "ruleengine.engine.decisions.RewardGrant",
    "ruleengine.engine.decisions.RuntimeProblem",
    "ruleengine.engine.ledger_types.Balance",
    "ruleengine.engine.ledger_types.LedgerEntry",
    "ruleengine.engine.snapshot.Snapshot",
    "ruleengine.engine.snapshot_json.SnapshotProblem",
    "ruleengine.expr.scope.Scope",
    "ruleengine.limits.Limits",
    "ruleengine.rules.ruleset.CheckResult",
    "ruleengine.rules.ruleset.CompiledExpression",
    "ruleengine.rules.ruleset.RuleSet",
}


def test_eval_makes_dataclasses_only_of_the_public_records() -> None:
    record = (
        "import dataclasses\n"
        "made = []\n"
        "process = dataclasses._process_class\n"
        "def recording(cls, *args):\n"
        "    made.append(f'{cls.__module__}.{cls.__qualname__}')\n"
        "    return process(cls, *args)\n"
        "dataclasses._process_class = recording\n"
    )
    made = set(cli_in_a_fresh_process(record, "' '.join(made)").split())
    assert "ruleengine.engine.decisions.EvaluationResult" in made  # the recording worked
    assert made - PUBLIC_DATACLASSES == set()
