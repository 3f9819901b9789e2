"""The expression language: text -> AST -> checked -> `Program`, and the values it runs on.

Phases, each a module, each collecting every problem of its phase:

- `grammar` loads the packaged `grammar/expr.lark`; `parser` (with `build`) turns text and its
  origin span into the typed AST of `ast`; `printer` prints an AST back.
- `types`, `scope`, `type_rules` (operators) and `functions` (the builtin table, shared by
  checker and compiler) are what `checker` uses to turn an AST into a `CheckedExpr` (`checked`),
  or diagnostics.
- `program` compiles a `CheckedExpr` into a `Program` through `compiler` (the specialiser) and
  `closures` (its building blocks); `conditions` compiles several conditions into one
  `ProgramSet` (tiers decided by one search).
- `runtime` (arithmetic context, `EvalContext`, `EvaluationError`), `values` (`Duration`) and
  `coerce` (JSON values -> runtime values, `CoercionError`) are what programs run on.

One name per concept: a compiled expression is a `Program`. `ProgramLike` is the call shape a
`Program` shares with wrappers, and `BoundProgram` is a `Program` bound to a context (a
function of the variables). The public API wraps a `Program` as `ruleengine.CompiledExpression`
(a rule file's expression) and `ruleengine.api.Expression` (one a host compiled from text).

The package knows nothing of rule files (a test enforces it), so hosts can use it on its own;
it imports only `diagnostics` and `errors`. The evaluating modules do no I/O.
"""
