"""Rule tests: merchants' `*.test.yaml` files, run like unit tests (`ruleengine test`, pytest).

A rule test file names a rule file and lists cases; each case evaluates one customer snapshot at
one moment and states what the engine must decide. The format is in `docs/rule-tests.md`.

The file is read with the project's own located YAML reader (YAML 1.2 scalars: timestamps stay
text, `on` stays a key) and validated strictly by pydantic models that forbid unknown keys, so a
misspelt expectation is an error at its line and column instead of a check that silently never
runs. Checks that need the rule file (does `loyalty-journy/2` name a rule?) run after it has
loaded, for the same reason.

Comparisons are partial where the author wants them to be: a decision or progress expectation
names only the fields it cares about. What is compared is rendered one item per line in a
stable YAML flow style, so a failure is a readable unified diff of expected against actual.

Coverage instruments the compiled `when` conditions of the ruleset (a wrapper around each
compiled `Program` records every value the engine computed), so a condition branch counts as covered
only when the engine itself evaluated it that way; rules and milestone steps are covered by
what the engine's explanations say happened to them (see `docs/rule-tests.md`).
"""

from __future__ import annotations

from ruleengine.rules.discovery import TEST_SUFFIXES
from ruleengine.testing.coverage import CoverageTracker, RulesetCoverage, total_percent
from ruleengine.testing.loader import Case, LoadedTestFile, load_test_file
from ruleengine.testing.output import (
    render_case_text,
    render_coverage_text,
    render_file_errors_text,
    render_summary,
    run_to_json,
)
from ruleengine.testing.rule_files import RulesCache
from ruleengine.testing.runner import CaseResult, run_case
from ruleengine.testing.suite import (
    NoTestFilesError,
    RunReport,
    discover_test_files,
    rule_files_below,
    run_tests,
)

__all__ = [
    "TEST_SUFFIXES",
    "Case",
    "CaseResult",
    "CoverageTracker",
    "LoadedTestFile",
    "NoTestFilesError",
    "RulesCache",
    "RulesetCoverage",
    "RunReport",
    "discover_test_files",
    "load_test_file",
    "render_case_text",
    "render_coverage_text",
    "render_file_errors_text",
    "render_summary",
    "rule_files_below",
    "run_case",
    "run_tests",
    "run_to_json",
    "total_percent",
]
