"""The case corpus has no file nobody reads: every YAML file under tests/cases belongs to a
kind in `caseio.KINDS` (whose test reads the whole folder) or is listed in `caseio.LOOSE`."""

from __future__ import annotations

from caseio import CASES_ROOT, KINDS, LOOSE, ROOT, case_files


def test_every_case_file_is_read() -> None:
    claimed = {path for kind in KINDS for path in case_files(kind)}
    claimed |= {CASES_ROOT / name for name in LOOSE}
    unread = sorted(str(p.relative_to(CASES_ROOT)) for p in CASES_ROOT.rglob("*.y*ml"))
    assert [p for p in unread if CASES_ROOT / p not in claimed] == []


def test_every_reader_exists() -> None:
    for reader in [*KINDS.values(), *LOOSE.values()]:
        assert (ROOT / reader).is_file(), reader
