"""A whole `ruleengine test` run: find the test files, run every case, collect coverage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ruleengine.errors import RuleEngineError
from ruleengine.rules.discovery import TEST_SUFFIXES, files_below, is_rule_file
from ruleengine.testing.coverage import CoverageTracker, RulesetCoverage
from ruleengine.testing.loader import LoadedTestFile, load_test_file
from ruleengine.testing.rule_files import RulesCache
from ruleengine.testing.runner import CaseResult, run_case


class NoTestFilesError(RuleEngineError):
    """A folder named on the command line holds no rule test files."""


def discover_test_files(paths: Sequence[str]) -> list[Path]:
    """Rule test files named by `paths`: files as given, folders searched recursively for
    `*.test.yaml`/`*.test.yml` (hidden folders are skipped). A path that does not exist is
    returned as is, to be reported as unreadable with the others' results."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = files_below(path, lambda p: p.name.endswith(TEST_SUFFIXES))
            if not matches:
                raise NoTestFilesError(
                    f"no rule test files (*.test.yaml, *.test.yml) found in `{text}`"
                )
            found.extend(matches)
        else:
            found.append(path)
    return found


def rule_files_below(paths: Sequence[str]) -> list[Path]:
    """The rule files (`*.yaml`/`*.yml`, not test files) in the folders among `paths`, at any
    depth: what coverage counts besides the rule files the test files name."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(files_below(path, is_rule_file))
    return found


@dataclass
class RunReport:
    """Everything one `ruleengine test` run found."""

    files: list[LoadedTestFile]
    results: list[CaseResult]
    coverage: list[RulesetCoverage] | None = None

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        """Failed and errored cases, and one for each test file that could not run at all."""
        broken_files = sum(1 for f in self.files if not f.ok)
        return sum(1 for r in self.results if not r.passed) + broken_files

    @property
    def unreadable(self) -> bool:
        return any(f.unreadable for f in self.files)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def run_tests(
    paths: Sequence[Path], *, coverage: bool = False, rule_files: Sequence[Path] = ()
) -> RunReport:
    """Load and run every case of the given test files (in order), with coverage on request.

    With coverage, each of `rule_files` that no test file uses counts too, with nothing
    covered: a rule file without tests is 0% covered, not left out of the total. A file there
    that does not load as a ruleset (another YAML file, or a broken rule file, which
    `ruleengine validate` reports) is not counted."""
    cache = RulesCache(coverage=coverage)
    files: list[LoadedTestFile] = []
    results: list[CaseResult] = []
    tracker = CoverageTracker() if coverage else None
    for path in paths:
        test_file = load_test_file(path, cache, str(path))
        files.append(test_file)
        if tracker is not None and test_file.rules is not None:
            tracker.register(test_file.rules)
        if not test_file.ok:
            continue
        for case in test_file.cases:
            assert test_file.rules is not None
            test_file.rules.conditions.clear()
            result = run_case(test_file, case)
            results.append(result)
            if tracker is not None and result.result is not None:
                tracker.add(test_file.rules, result.result)
    if tracker is None:
        return RunReport(files, results)
    for path in rule_files:
        tracker.register(cache.get(path, str(path)), tested=False)
    return RunReport(files, results, tracker.report())
