"""A pytest plugin that collects rule test files (`*.test.yaml`) as test items.

A host application's test suite can include a merchant's rule tests: run pytest with
`--ruleengine-tests`, or set `ruleengine_tests = true` in the pytest configuration. Each case
is one item named after the case, and a failure shows the same diff as `ruleengine test`.

Collection is opt-in because the plugin is registered for every pytest run in an environment
where ruleengine is installed (the `pytest11` entry point): installing a library must never
change which tests a host's suite collects, or make a stray `*.test.yaml` fixture fail it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ruleengine.testing import (
    TEST_SUFFIXES,
    Case,
    CaseResult,
    LoadedTestFile,
    RulesCache,
    load_test_file,
    render_case_text,
    render_file_errors_text,
    run_case,
)

_CACHE = pytest.StashKey[RulesCache]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ruleengine", "ruleengine rule tests")
    group.addoption(
        "--ruleengine-tests",
        action="store_true",
        default=False,
        help="collect ruleengine rule test files (*.test.yaml, *.test.yml) as tests",
    )
    parser.addini(
        "ruleengine_tests",
        type="bool",
        default=False,
        help="collect ruleengine rule test files (*.test.yaml, *.test.yml) as tests",
    )


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("ruleengine_tests") or config.getini("ruleengine_tests"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> RuleTestFile | None:
    if file_path.name.endswith(TEST_SUFFIXES) and _enabled(parent.config):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


def _cache(config: pytest.Config) -> RulesCache:
    """One cache per session: test files sharing a rule file compile it once."""
    cache = config.stash.get(_CACHE, None)
    if cache is None:
        cache = config.stash[_CACHE] = RulesCache()
    return cache


class RuleTestFileError(Exception):
    """A rule test file that cannot run (invalid, or its rule file has errors)."""

    def __init__(self, test_file: LoadedTestFile) -> None:
        super().__init__(test_file.display)
        self.test_file = test_file


class RuleCaseFailedError(Exception):
    """A case whose result differs from its expectations, or that could not run."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.name)
        self.result = result


class RuleTestFile(pytest.File):
    """A `*.test.yaml` file; its cases are the items."""

    def collect(self) -> Iterator[RuleTestItem]:
        display = _relative(self.path, self.config.rootpath)
        test_file = load_test_file(self.path, _cache(self.config), display)
        if not test_file.ok:
            raise RuleTestFileError(test_file)
        for case in test_file.cases:
            yield RuleTestItem.from_parent(self, name=case.name, test_file=test_file, case=case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """The test file's diagnostics, as `ruleengine test` prints them, instead of a traceback
        through the loader. (`style` is accepted because pytest's typed `Node.repr_failure`
        has it, although `Collector.repr_failure` does not pass it on.)"""
        if isinstance(excinfo.value, RuleTestFileError):
            return render_file_errors_text(excinfo.value.test_file)
        return super().repr_failure(excinfo)


class RuleTestItem(pytest.Item):
    """One case of a rule test file."""

    def __init__(self, *, test_file: LoadedTestFile, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test_file = test_file
        self.case = case

    def runtest(self) -> None:
        result = run_case(self.test_file, self.case)
        if not result.passed:
            raise RuleCaseFailedError(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """The same diff `ruleengine test` prints: a traceback into the runner would say
        nothing about the rules."""
        if isinstance(excinfo.value, RuleCaseFailedError):
            return render_case_text(excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"rule test: {self.case.name}"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
