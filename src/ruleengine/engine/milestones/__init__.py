"""Milestone rules: which steps a customer has reached, which to decide now, and why.

A milestone's metric (orders, amount spent, reviews, ...) is a running total built from the
customer's activity as it happened. Each piece of activity is a `Contribution` at its own
moment; a refund is a negative contribution at the refund's moment, tied to the order it
refunds: it lowers only a step that order counted for. A step is *achieved* at
the first moment the total reaches its target, by the contribution that got it there (the
*qualifying* activity), and stays achieved. It is *decided* once every contribution counted for
it has passed its refund hold. Single-type milestones count one running total for all of their
steps; `mixed` journeys count each step from the moment the previous step was achieved.
Inactivity milestones count time since each order instead (one decision per spell).

This runs for every milestone of every evaluation, so the hot path is kept lean: what depends
only on the ruleset (steps, window, order requirements) is worked out once per milestone (a
`MilestonePlan`), contributions are plain tuples, and the notes on activity that did not count
are written only when explanations are asked for.

Modules, in import order: `ledgers` (activity -> contributions), `steps` (running totals ->
step states), `plan` (per-milestone plan, context, decisions), `wording` (explanations and
progress text), `inactivity` (the inactivity metric), `evaluate` (`evaluate_milestone`). To
add a milestone type, see docs/architecture.md.
"""
