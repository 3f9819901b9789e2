"""The rule files a server serves, reloaded when they change on disk and only when they check.

Each file keeps its last good engine: an edit that does not check leaves the previous version
serving, and the diagnostics of the broken edit are kept beside it for `GET /v1/programs`, the
log and the pages. Files are looked at again (a directory walk and one `stat` per file) at most
once per `interval` seconds, when a request asks; no thread or extra dependency is needed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ruleengine.diagnostics.diagnostic import Diagnostic, Severity
from ruleengine.diagnostics.source import SourceFile
from ruleengine.engine.engine import Engine
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.discovery import RULE_SUFFIXES, TEST_SUFFIXES, files_below
from ruleengine.rules.ruleset import check_source, read_source

log = logging.getLogger("ruleengine.service")


def is_rule_file(path: Path) -> bool:
    """The files `ruleengine validate DIR` reads: `*.yaml`/`*.yml`, not rule test files."""
    return path.suffix in RULE_SUFFIXES and not path.name.endswith(TEST_SUFFIXES)


@dataclass
class RuleFileState:
    """One rule file: its last good engine (None until it first checks) and the latest check."""

    file: str
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the text last checked
    text: str | None = None  # the text last checked, for the pages' code frames and scratch copy
    engine: Engine | None = None
    loaded_at: datetime | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # why the latest text is not serving (None: it is)
    duplicate_of: str | None = None  # the file that serves the same program id

    @property
    def program(self) -> str | None:
        return self.engine.ruleset.program if self.engine is not None else None

    @property
    def serving(self) -> bool:
        return self.engine is not None and self.duplicate_of is None


class Registry:
    """Programs by id, from the rule files below one folder. Thread-safe."""

    def __init__(
        self, folder: Path, *, interval: float = 1.0, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.folder = folder
        self.interval = interval
        self.limits = limits
        self._lock = threading.Lock()
        self._files: dict[str, RuleFileState] = {}
        self._checked_at: float | None = None

    def refresh(self, *, force: bool = False) -> None:
        """Reload every file whose (mtime, size) changed since it was last checked.

        Unless forced, a refresh never waits: when another thread is reloading (checking and
        compiling files takes a while), this request is answered from what is loaded now,
        so a request answered on the event loop cannot be held up by a reload.
        """
        if not force and not self.reload_due():
            return
        if not self._lock.acquire(blocking=force):
            return
        try:
            clock = time.monotonic()
            if not force and not self.reload_due():
                return  # another thread reloaded while this one waited for the lock
            self._checked_at = clock
            paths = files_below(self.folder, is_rule_file) if self.folder.is_dir() else []
            names = {str(path): path for path in paths}
            for gone in set(self._files) - set(names):
                log.warning("%s: removed; its program is no longer served", gone)
                del self._files[gone]
            for name, path in names.items():
                self._reload(self._files.setdefault(name, RuleFileState(name)), path)
            self._check_duplicates()
        finally:
            self._lock.release()

    def reload_due(self) -> bool:
        """Whether the next lookup looks at the rule files again (and may check some)."""
        checked_at = self._checked_at
        return checked_at is None or time.monotonic() - checked_at >= self.interval

    def serving(self) -> list[str]:
        """The program ids served now, sorted."""
        return sorted(s.program for s in self.files() if s.serving and s.program is not None)

    def files(self) -> list[RuleFileState]:
        self.refresh()
        files = dict(self._files)  # one copy: a reload in another thread may change the dict
        return [files[name] for name in sorted(files)]

    def engine(self, program: str) -> Engine | None:
        for state in self.files():
            if state.serving and state.program == program:
                return state.engine
        return None

    def _reload(self, state: RuleFileState, path: Path) -> None:
        try:
            info = path.stat()
        except OSError:
            return  # removed between the walk and now: the next refresh drops it
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == state.stamp:
            return
        state.stamp = stamp
        source = read_source(path, state.file, self.limits)
        if isinstance(source, Diagnostic):
            self._failed(state, [source], None)
            return
        result = check_source(source, limits=self.limits)
        if result.ruleset is None:
            self._failed(state, result.diagnostics, source)
            return
        state.text = source.text
        state.engine = Engine(result.ruleset, limits=self.limits)
        state.loaded_at = datetime.now(UTC)
        state.diagnostics = result.diagnostics
        state.error = None
        log.info("%s: serving %s (%s)", state.file, state.program, result.ruleset.hash)

    def _failed(
        self, state: RuleFileState, found: list[Diagnostic], source: SourceFile | None
    ) -> None:
        state.diagnostics = found
        state.text = source.text if source is not None else state.text
        errors = [d for d in found if d.severity is Severity.ERROR]
        first = errors[0] if errors else found[0]
        state.error = f"{first.file}:{first.line}:{first.column}: {first.code} {first.message}"
        keeps = f"keeps serving {state.program}" if state.engine else "serves nothing"
        log.error("%s: does not check, %s: %s", state.file, keeps, state.error)

    def _check_duplicates(self) -> None:
        """Two files with one program id: the first (by path) serves, the second is an error."""
        owners: dict[str, str] = {}
        for name in sorted(self._files):
            state = self._files[name]
            program = state.program
            if program is None:
                continue
            duplicate_of = owners.setdefault(program, name)
            if duplicate_of == name:
                state.duplicate_of = None
            elif state.duplicate_of != duplicate_of:
                state.duplicate_of = duplicate_of
                log.error("%s: program %s is already served from %s", name, program, duplicate_of)
