"""Ruleset semantics: the checks that relate values to each other (RE5xx).

The models have already checked every value on its own; this pass checks what only the whole
file can tell: unique ids, `pick` against the rewards offered, windows, milestone structure
and targets, options that only fit some triggers, competing rules without distinct
priorities, custom events without declared fields, empty conditions and constant negative
points. It reports everything it finds, each at the span of the value at fault.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ruleengine.diagnostics.diagnostic import DiagnosticSink, PathPart
from ruleengine.expr.ast import (
    BinaryOp,
    Call,
    Conditional,
    Expr,
    FieldAccess,
    Index,
    ListExpr,
    Name,
    UnaryOp,
)
from ruleengine.expr.checker import check_expression
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.program import compile_program
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.rules.models import (
    EarningRule,
    Expiry,
    ExpiryPolicy,
    RuleSetFile,
    Stacking,
    TierBasis,
    Tiers,
    Window,
)
from ruleengine.rules.semantics_milestones import MilestoneChecks, _is_duration, _round_hint
from ruleengine.rules.vocabulary import CUSTOMER_FIELDS, activity_type, earning_scope
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedScalar, find_node

_ORDER_TRIGGERS = ("order", "subscription_order")
# Functions whose value depends on the moment of evaluation: an expression using them (or any
# name) is not a constant.
_CLOCK_FUNCTIONS = frozenset({"now", "today", "days_since", "days_until"})


class _Semantics(MilestoneChecks):
    def check(self, ruleset: RuleSetFile) -> None:
        self.check_ids(ruleset)
        builtin = {name for name, _ in CUSTOMER_FIELDS}
        for name in ruleset.attributes:
            if name in builtin:
                self.report(
                    ("attributes", name),
                    "RE508",
                    f"attribute `{name}` has the name of the built-in field `customer.{name}`",
                    "rename the attribute",
                    key=True,
                )
        self.check_events(ruleset)
        for index, rule in enumerate(ruleset.earning):
            path = ("earning", index)
            self.check_window(rule.active, (*path, "active"))
            self.check_trigger_options(rule, path)
            self.check_custom_trigger(rule, path, ruleset)
            self.check_empty_when(path)
            self.check_constant_points(rule, path, ruleset)
        self.check_stacking_ties(ruleset)
        for index, milestone in enumerate(ruleset.milestones):
            self.check_milestone(milestone, ("milestones", index))
            self.check_empty_when(("milestones", index))
        if ruleset.points is not None and ruleset.points.expiry is not None:
            self.check_expiry(ruleset.points.expiry, ("points", "expiry"))
        self.check_redeeming(ruleset)
        if ruleset.tiers is not None:
            self.check_tiers(ruleset.tiers, ("tiers",))

    def check_tiers(self, tiers: Tiers, path: tuple[PathPart, ...]) -> None:
        """RE521 (thresholds start at 0, increase strictly, counts are whole numbers), RE522
        (unique level ids), the entry rewards, and RE511 for order requirements on points."""
        seen: dict[str, tuple[PathPart, ...]] = {}
        previous: Decimal | None = None
        for index, level in enumerate(tiers.levels):
            level_path: tuple[PathPart, ...] = (*path, "levels", index)
            if level.id in seen:
                self.report(
                    (*level_path, "id"),
                    "RE522",
                    f"duplicate tier level id `{level.id}`",
                    f"`{level.id}` is first used on line {self.line_of(seen[level.id])}",
                )
            else:
                seen[level.id] = (*level_path, "id")
            threshold = level.threshold
            if index == 0 and threshold != 0:
                self.report(
                    (*level_path, "threshold"),
                    "RE521",
                    f"the first tier level's threshold is {threshold}, not 0",
                    "everyone starts at the first level: set `threshold: 0`",
                )
            elif previous is not None and threshold <= previous:
                self.report(
                    (*level_path, "threshold"),
                    "RE521",
                    f"tier level `{level.id}` has threshold {threshold}, "
                    f"not above the previous level's {previous}",
                    "order the levels by threshold, each above the one before",
                )
            if tiers.basis is not TierBasis.AMOUNT_SPENT and threshold != threshold.to_integral():
                self.report(
                    (*level_path, "threshold"),
                    "RE521",
                    f"a `{tiers.basis}` threshold is a whole number, not {threshold}",
                    _round_hint(threshold),
                )
            previous = threshold
            if level.reward is not None:
                self.check_reward(level.reward, (*level_path, "reward"))
        if tiers.order_requirements is not None and tiers.basis is TierBasis.POINTS_EARNED:
            self.report(
                (*path, "order_requirements"),
                "RE511",
                "`order_requirements` have no effect: `points_earned` tiers count no orders",
                "remove `order_requirements`; they apply to `orders_count` and "
                "`amount_spent` tiers (earning rules decide which orders earn points)",
                key=True,
            )

    def check_events(self, ruleset: RuleSetFile) -> None:
        builtin = set(activity_type("custom:_", {}).field_names)  # `id` and `at`
        for event, fields in ruleset.events.items():
            for name in fields:
                if name in builtin:
                    self.report(
                        ("events", event, name),
                        "RE508",
                        f"event field `{name}` has the name of the built-in field `event.{name}`",
                        "every event has `id` and `at`; rename the field",
                        key=True,
                    )

    def check_trigger_options(self, rule: EarningRule, path: tuple[PathPart, ...]) -> None:
        """`channels` and `pending_days` apply to orders, `birthday` to birthdays; anywhere
        else they would be ignored."""
        on_orders = rule.on in _ORDER_TRIGGERS
        if rule.channels is not None and not on_orders:
            self.report(
                (*path, "channels"),
                "RE512",
                f"`channels` only apply to order rules, not to an `on: {rule.on}` rule",
                f"remove `channels`: `{rule.on}` activity has no channel",
                key=True,
            )
        if rule.pending_days is not None and not on_orders:
            self.report(
                (*path, "pending_days"),
                "RE512",
                f"`pending_days` only apply to order rules, not to an `on: {rule.on}` rule",
                "remove `pending_days`: points for other activity are granted at once",
                key=True,
            )
        if rule.birthday is not None and rule.on != "birthday":
            self.report(
                (*path, "birthday"),
                "RE512",
                f"`birthday` options only apply to `on: birthday` rules, not to an "
                f"`on: {rule.on}` rule",
                "remove `birthday`, or make the rule `on: birthday`",
                key=True,
            )

    def check_custom_trigger(
        self, rule: EarningRule, path: tuple[PathPart, ...], ruleset: RuleSetFile
    ) -> None:
        if not rule.on.startswith("custom:"):
            return
        name = rule.on.removeprefix("custom:")
        if name in ruleset.events:
            return
        import difflib  # only for a problem's hint: not loaded on the valid path

        close = difflib.get_close_matches(name, list(ruleset.events), n=1, cutoff=0.6)
        if close:
            hint = f"did you mean `custom:{close[0]}`? `events` declares `{close[0]}`"
        else:
            hint = f"declare its fields under `events: {{{name}: {{...}}}}`"
        self.report(
            (*path, "on"),
            "RE514",
            f"no fields are declared for the event `{name}` under `events`, so its `event` "
            "has only `id` and `at`",
            hint,
        )

    def check_empty_when(self, path: tuple[PathPart, ...]) -> None:
        """`when:` with nothing after it: an empty condition, not "no condition"."""
        node = find_node(self.root, (*path, "when"))
        if isinstance(node, LocatedScalar) and node.value is None:
            self.report(
                (*path, "when"),
                "RE306",
                "`when` is empty",
                "write a condition, or remove `when:` to have none",
                key=True,
            )

    def check_constant_points(
        self, rule: EarningRule, path: tuple[PathPart, ...], ruleset: RuleSetFile
    ) -> None:
        """A points formula that is a constant below zero would fail (RE603) for every
        activity; say so now. Formulas that do not check are left to the expression phase."""
        node = find_node(self.root, (*path, "points"))
        if not isinstance(node, LocatedScalar) or not node.text.strip():
            return
        source = ExpressionSource.standalone(node.text)
        tree, problems = parse_expression(source)
        if tree is None or problems or not _is_constant(tree):
            return
        scope = earning_scope(rule.on, ruleset.attributes, ruleset.events)
        checked, problems = check_expression(tree, scope, source)
        if checked is None or problems:
            return
        try:
            value = compile_program(checked).bind(EvalContext(_ANY_MOMENT, UTC))({})
        except EvaluationError:
            return
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            self.report(
                (*path, "points"),
                "RE515",
                f"the points formula always gives {value}; points cannot be negative",
                "grant a positive number of points; a rule cannot take points away",
            )

    def check_stacking_ties(self, ruleset: RuleSetFile) -> None:
        """Competing `stacking: best` rules with the same priority: a tie in points is then
        broken by the order of the rules in the file, which an edit can change unnoticed."""
        competing: list[tuple[int, EarningRule]] = []
        for index, rule in enumerate(ruleset.earning):
            if not rule.enabled or rule.stacking is not Stacking.BEST:
                continue
            for earlier_index, earlier in competing:
                if earlier.priority == rule.priority and _compete(earlier, rule):
                    line = self.line_of(("earning", earlier_index, "id"))
                    self.report(
                        (
                            "earning",
                            index,
                            "priority" if "priority" in rule.model_fields_set else "stacking",
                        ),
                        "RE513",
                        f"`{rule.id}` and `{earlier.id}` (line {line}) compete under "
                        f"`stacking: best` with the same priority {rule.priority}; a tie in "
                        "points goes to the rule that comes first in the file",
                        "give them different `priority` values: the higher one wins a tie",
                    )
                    break
            competing.append((index, rule))

    def check_ids(self, ruleset: RuleSetFile) -> None:
        """RE501: rule ids name decisions (`rule`, and keys `<rule>/...`), so earning rules,
        milestones and redeeming programs each need their own, and none may take the id of
        the ruleset's own decisions: `tiers` (tier changes, `tiers/<level>/<period>`) when
        there are tiers, `points.expiry` (expiries and their warnings) when points expire."""
        reserved = {
            "tiers": (
                "the VIP tiers' decisions use it",
                "rename the rule: tier changes are `rule: tiers`, with the keys "
                "`tiers/<level>/<period>`, which this rule's keys could repeat",
            ),
            "points.expiry": (
                "points expiries use it",
                "rename the rule: expiries and their warnings are `rule: points.expiry`",
            ),
        }
        if ruleset.tiers is None:
            del reserved["tiers"]
        if ruleset.points is None or ruleset.points.expiry is None:
            del reserved["points.expiry"]
        seen: dict[str, tuple[PathPart, ...]] = {}
        ids: list[tuple[str, tuple[PathPart, ...]]] = [
            *((r.id, ("earning", i, "id")) for i, r in enumerate(ruleset.earning)),
            *((m.id, ("milestones", i, "id")) for i, m in enumerate(ruleset.milestones)),
            *((p.id, ("redeeming", i, "id")) for i, p in enumerate(ruleset.redeeming)),
        ]
        for rule_id, path in ids:
            section = path[0]
            if rule_id in reserved:
                self.report(
                    path,
                    "RE501",
                    f"duplicate rule id `{rule_id}`: {reserved[rule_id][0]}",
                    reserved[rule_id][1],
                )
            elif rule_id in seen:
                if seen[rule_id][0] == section == "redeeming":
                    continue  # RE519, below
                self.report(
                    path,
                    "RE501",
                    f"duplicate rule id `{rule_id}`",
                    f"`{rule_id}` is first used on line {self.line_of(seen[rule_id])}",
                )
            else:
                seen[rule_id] = path

    def check_expiry(self, expiry: Expiry, path: tuple[PathPart, ...]) -> None:
        """RE517: the policy's own setting is there and well formed, and no other is."""
        durations = "a whole number and a unit: `365d`, `52w`, `12mo`, `1y`"
        if expiry.policy is ExpiryPolicy.FIXED_DATE:
            if expiry.on is None:
                self.report(path, "RE517", "a `fixed_date` expiry needs `on`", 'add `on: "12-31"`')
            elif not is_month_day(expiry.on):
                self.report(
                    (*path, "on"),
                    "RE517",
                    f"`on` is `{expiry.on}`, not a day of the year",
                    'write the month and day, quoted: `on: "12-31"`',
                )
            if expiry.after is not None:
                self.report(
                    (*path, "after"),
                    "RE517",
                    "`after` does not apply to a `fixed_date` expiry",
                    "remove `after`, or choose the `rolling` or `per_award` policy",
                )
        else:
            if expiry.after is None:
                self.report(
                    path, "RE517", f"a `{expiry.policy}` expiry needs `after`", "add `after: 12mo`"
                )
            elif not _is_duration(str(expiry.after)):
                self.report(
                    (*path, "after"),
                    "RE517",
                    f"`after` is `{expiry.after}`, not a duration",
                    f"write {durations}",
                )
            if expiry.on is not None:
                self.report(
                    (*path, "on"),
                    "RE517",
                    f"`on` does not apply to a `{expiry.policy}` expiry",
                    "remove `on`, or choose the `fixed_date` policy",
                )
        for index, text in enumerate(expiry.warn_before):
            if not _is_duration(str(text)):
                self.report(
                    (*path, "warn_before", index),
                    "RE517",
                    f"`warn_before` entry `{text}` is not a duration",
                    f"write {durations}",
                )

    def check_redeeming(self, ruleset: RuleSetFile) -> None:
        """RE518 (what a redemption costs), RE519 (unique ids) and RE525 (its reward in the
        currency's decimals) for each program."""
        seen: dict[str, tuple[PathPart, ...]] = {}
        for index, program in enumerate(ruleset.redeeming):
            path: tuple[PathPart, ...] = ("redeeming", index)
            self.check_amounts(program.reward, (*path, "reward"))
            if program.id in seen:
                self.report(
                    (*path, "id"),
                    "RE519",
                    f"duplicate redeeming program id `{program.id}`",
                    f"`{program.id}` is first used on line {self.line_of(seen[program.id])}",
                )
            else:
                seen[program.id] = (*path, "id")
            if program.cost is not None and program.points_per is not None:
                self.report(
                    (*path, "points_per"),
                    "RE518",
                    "a redeeming program has `cost` or `points_per`, not both",
                    "keep `cost` for a fixed price, `points_per` for increments",
                    key=True,
                )
            elif program.cost is None and program.points_per is None:
                self.report(
                    (*path, "id"),
                    "RE518",
                    f"redeeming program `{program.id}` has neither `cost` nor `points_per`",
                    "add `cost: 500` (a fixed price) or `points_per: 100` (increments)",
                )
            elif program.cost is not None:
                for name in ("min_points", "max_points"):
                    if getattr(program, name) is not None:
                        self.report(
                            (*path, name),
                            "RE518",
                            f"`{name}` applies to `points_per` programs, not to a fixed `cost`",
                            f"remove `{name}`",
                            key=True,
                        )
            low, high = program.min_points, program.max_points
            if low is not None and high is not None and low > high:
                self.report(
                    (*path, "min_points"),
                    "RE518",
                    f"`min_points` ({low}) is above `max_points` ({high})",
                    "swap the values",
                )
            self.check_empty_when(path)


_ANY_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)  # constants do not depend on it


def _is_constant(node: Expr) -> bool:
    """Whether an expression reads no names and no clock: the same value for every activity."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Name):
            return False
        if isinstance(current, Call) and current.name in _CLOCK_FUNCTIONS:
            return False
        stack.extend(_children(current))
    return True


def _children(node: Expr) -> tuple[Expr, ...]:
    match node:
        case FieldAccess():
            return (node.target,)
        case Index():
            return (node.target, node.index)
        case UnaryOp():
            return (node.operand,)
        case BinaryOp():
            return (node.left, node.right)
        case Call():
            return node.args
        case ListExpr():
            return node.items
        case Conditional():
            return (node.condition, node.then_branch, node.else_branch)
    return ()


def _compete(a: EarningRule, b: EarningRule) -> bool:
    """Whether two rules can match the same activity: the same occasion, windows that share
    a day, and (for orders) channels that share one."""
    if _occasion(a.on) != _occasion(b.on) or not _overlap(a.active, b.active):
        return False
    return a.channels is None or b.channels is None or bool(set(a.channels) & set(b.channels))


def _occasion(trigger: str) -> str:
    """The activity a trigger fires on: a subscription order is also an order, so rules on
    `order` and `subscription_order` compete for it."""
    return "order" if trigger in _ORDER_TRIGGERS else trigger


def _overlap(a: Window | None, b: Window | None) -> bool:
    """Whether two active windows (None: always) share a day."""
    starts = [w.from_ for w in (a, b) if w is not None and w.from_ is not None]
    ends = [w.until for w in (a, b) if w is not None and w.until is not None]
    return not starts or not ends or max(starts) <= min(ends)


def is_month_day(text: str) -> bool:
    """Whether `text` is a day of the year, `MM-DD` (`02-29` included: in common years the
    expiry falls on 28 February)."""
    if len(text) != 5 or text[2] != "-" or not (text[:2] + text[3:]).isdigit():
        return False
    try:
        date(2024, int(text[:2]), int(text[3:]))
    except ValueError:
        return False
    return True


def check_semantics(
    ruleset: RuleSetFile,
    root: LocatedMapping,
    sink: DiagnosticSink,
    today: date | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Report the RE5xx problems of a structurally valid ruleset into `sink`.

    `today` (a day in the ruleset's time zone) or `now` (an aware moment, whose day is taken
    in the ruleset's time zone) enables the warning for windows that have already ended;
    `today` wins when both are given. Without either (the default for deterministic library
    use) that warning is not given.
    """
    if today is None and now is not None:
        today = local_today(now, ruleset.timezone)
    _Semantics(root, sink, today, ruleset.currency).check(ruleset)


def local_today(now: datetime, timezone: str) -> date:
    """The day of the moment `now` in `timezone`; `now` must be aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be an aware datetime (with a time zone)")
    return now.astimezone(ZoneInfo(timezone)).date()
