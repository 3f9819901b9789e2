"""Backtests and behavioural diffs of rule changes over real customer history.

`ruleengine backtest RULES --customers DATA` evaluates every customer of a history and adds up
what the rules decided, per rule and step (and month); `ruleengine diff OLD NEW --customers
DATA` evaluates two rulesets on each customer in one pass and reports who gains or loses what.

The pieces, each a module with one job (imports point down the list):

* `layout`: the tables' columns, and a customers row with its activity rows as snapshot
  data (shared with `ruleengine.spark`), with located `SourceError`s.
* `sources`: customers in, as snapshot data: JSON Lines (the `eval --snapshots` format), or
  a customers table and an activity table (Parquet, CSV or a DuckDB file) read and assembled
  by DuckDB in record batches ordered by customer id. Needs `ruleengine[batch]` for tables.
* `rules`: a rule file, or a file at a git revision (`main:rules/acme.yaml`), as an engine.
* `tally`: per-rule, per-step (per-month) totals of decisions, streamed with bounded memory.
* `differ`: the per-customer and per-rule differences between two rulesets' decisions.
* `report`: the text, JSON and Markdown renderings (deterministic bytes for the same input).
* `output`: the per-decision Parquet output, written to a staging folder renamed at the end.
* `parallel`: one customer through the rulesets into the totals, here or in `--jobs N`
  worker processes that add up chunks of customers (the same output whatever N).
* `run`: the loop over a source's customers, with the progress line.
* `command`: the `backtest` and `diff` subcommands (argument parsing, exit codes).

Nothing in the core library imports this package (`tests/test_layering.py`), and importing it
does not import DuckDB or pyarrow: they load when a table source or `--out` is used.
"""
