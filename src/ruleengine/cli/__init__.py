"""The command line: `ruleengine validate | eval | explain | test | fmt | schema | serve`.

- `main`: the argument parser and `main()` (the `ruleengine` entry point, exit codes).
- One module per command, each with its `add_*_command(commands)` and its handler:
  `validate`, `evaluate` (`eval` and `explain`), `rule_tests` (`test`), `fmt`, `schema`.
  Edge packages add theirs the same way (`ruleengine.service.command.add_serve_command`).
- `common`: exit codes, `UsageError`, colour, argument types, rule-file discovery.
- `snapshot_input`: snapshot text -> `Snapshot` or its problems, as data.
- `jsonl`: `eval --snapshots FILE.jsonl` (JSON Lines in and out, worker processes).

The edge of the system: the only place that reads the clock, prints problems and picks exit
codes. Heavy modules are imported inside the commands, so `ruleengine --help` starts fast.
"""

from ruleengine.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
