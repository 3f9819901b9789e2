"""Diagnostics: what every phase reports, and how it is shown.

- `source`: `SourceFile` and `Span` (offsets), line/column/snippet lookup, expression-to-file
  offset maps.
- `diagnostic`: `Diagnostic`, `Severity`, `RuleSetError`, `DiagnosticSink` (a phase collects
  its problems in one) and the sort order.
- `codes`: the catalogue of codes (`RE100`...), from which `docs/errors.md` is generated
  (`python -m ruleengine.diagnostics.codes > docs/errors.md`).
- `render`: diagnostics as text (ruff-style caret frames), JSON, GitHub annotations, SARIF.

The lowest package: it imports nothing of ruleengine but `errors`, so every phase can report.
This `__init__` is deliberately empty of code; import from the modules.
"""
