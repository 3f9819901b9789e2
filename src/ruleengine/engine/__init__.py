"""The engine: a compiled `RuleSet` + a customer snapshot + `now` -> decisions and progress.

- `snapshot` (with `snapshot_reader`, its fast path) validates a customer snapshot against the
  contract and the ruleset's types; `activity` holds the activity records it yields.
- `timeline` orders a customer's activity once per evaluation (refunds, stats).
- `earning` decides earning rules; `milestones` decides milestone steps and their progress.
- `decisions` holds the result types (`Decision`, `Progress`, `Explanation`,
  `EvaluationResult`) with their stable JSON keys; `result_schema` the result's JSON Schema.
- `engine` holds `Engine`, which puts these together; `batch` evaluates many customers, in
  worker processes when asked (`Engine.evaluate_many`).
- `wording` words money, days and counts the same way in every explanation;
  `result_text` shows a result and its explanations as text (the CLI's and service's).

Pure and deterministic: no I/O (snapshots arrive as data), no clock (`now` is passed in).
Imports `rules`, `expr`, `diagnostics`, `limits` and `errors`; never `testing` or `cli`.
"""
