"""Rule files: from text to a checked, compiled `RuleSet`, with every problem located.

The phases, in order, each collecting all of its diagnostics behind a gate:

- `yaml_source`: text -> a tree of located YAML nodes (`yaml_nodes`: every scalar knows its
  span and style), composed by `yaml_compose` (PyYAML's composer, or libyaml's events on the
  fast path), with YAML problems (duplicate keys, aliases, tags, bad syntax) worded as RE1xx
  diagnostics by `yaml_wording`.
- `structure`: located tree -> `models` (frozen; declared once on `structure_model.Model`,
  read by a fast reader when the file is valid and by pydantic models built on first use
  otherwise), with structure problems (RE2xx) pointed at the YAML path where they happened.
  It checks structure only.
- `semantics`: ruleset-wide checks (duplicate ids, unreachable milestones, windows; RE5xx),
  evaluating constant expressions through the `expr` package.
- `vocabulary`: the names and types expressions in a rule file may use (`customer`, `order`,
  `stats`, events), as `expr` scopes.
- `ruleset`: the pipeline (`check_source`, `load_ruleset`) and `RuleSet`, whose expressions are
  compiled `Program`s wrapped as the public `CompiledExpression`.

Beside the pipeline: `formatter` (`ruleengine fmt`, comments kept) and `discovery` (which files
in a folder are rule files and rule test files).

Imports `diagnostics`, `expr`, `limits` and `errors`; never the engine or the command line.
"""
