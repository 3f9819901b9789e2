"""The catalogue of diagnostic codes: the stable contract, documented ruff-style.

A code is never reused or renumbered. Ranges: RE1xx reading and YAML, RE2xx file structure,
RE3xx expression syntax, RE4xx names and types, RE5xx ruleset semantics, RE6xx snapshots and
evaluation. `docs/errors.md` is generated from this table
(`python -m ruleengine.diagnostics.codes`), and a test fails when the checked-in copy is stale.
"""

from __future__ import annotations

import msgspec


class CodeInfo(msgspec.Struct, frozen=True, gc=False):
    code: str
    slug: str
    severity: str  # "error", "warning" or "note" (a `Severity` value)
    title: str
    what: str
    example: str
    fix: str


_ENTRIES: tuple[CodeInfo, ...] = (
    # RE1xx: reading the file and YAML
    CodeInfo(
        "RE100",
        "unreadable-file",
        "error",
        "The file cannot be read",
        "The path does not exist, is a directory, or may not be read.",
        "ruleengine validate rules/missing.yaml",
        "Check the path and the file's permissions.",
    ),
    CodeInfo(
        "RE101",
        "yaml-syntax",
        "error",
        "YAML syntax error",
        "The file is not well-formed YAML, so nothing in it can be checked.",
        "earning:\n  - id: a\n   name: b   # indentation does not line up",
        "Fix the indentation or quoting at the reported position.",
    ),
    CodeInfo(
        "RE102",
        "duplicate-key",
        "error",
        "Duplicate mapping key",
        "A key appears twice in the same mapping. YAML loaders silently keep the last one, "
        "which hides mistakes.",
        "id: a\nname: First\nname: Second",
        "Remove one of the two keys.",
    ),
    CodeInfo(
        "RE103",
        "yaml-alias",
        "error",
        "Anchors and aliases are not allowed",
        "Rule files must be readable on their own; aliases make them hard to review and "
        "can expand to huge documents.",
        "base: &b {points: 10}\nother: *b",
        "Write the value out in full.",
    ),
    CodeInfo(
        "RE104",
        "yaml-tag",
        "error",
        "Explicit YAML tags are not allowed",
        "Tags such as `!!python/object` can make unsafe loaders run code; rule files use "
        "plain YAML only.",
        "points: !!int 5",
        "Remove the tag.",
    ),
    CodeInfo(
        "RE105",
        "not-a-mapping",
        "error",
        "The document is not a mapping",
        "A rule file is one YAML mapping with `version`, `program` and rules. An empty "
        "file, a list or a single value is not a rule file.",
        "- id: a",
        "Start the file with `version: 1` and `program: ...`.",
    ),
    CodeInfo(
        "RE106",
        "encoding",
        "error",
        "The file is not UTF-8 text",
        "Rule files are read as UTF-8. Other encodings produce garbled text.",
        "(a file saved as UTF-16 or Latin-1)",
        "Save the file as UTF-8.",
    ),
    CodeInfo(
        "RE107",
        "multiple-documents",
        "error",
        "More than one YAML document",
        "A rule file holds exactly one document; a `---` separator starts a second one, and so "
        "does anything but comments after `...`, the line that ends a document.",
        "version: 1\n---\nversion: 1",
        "Split the documents into separate files.",
    ),
    CodeInfo(
        "RE108",
        "file-too-large",
        "error",
        "The rule file is too large",
        "Rule files are read whole; a file beyond the size limit (1 MiB by default, which holds "
        "thousands of rules) is refused before it is parsed, so no file can exhaust memory.",
        "(a 40 MB rule file)",
        "Split the program into several files, or raise `Limits.max_file_bytes` in the host.",
    ),
    CodeInfo(
        "RE109",
        "nesting-too-deep",
        "error",
        "Lists and mappings nested too deeply",
        "A rule file needs a handful of levels of lists and mappings inside one another; "
        "beyond the limit (64 by default) the file is refused where the limit is crossed, "
        "before the nesting is followed further, so no file can exhaust the reader's stack.",
        "earning: [[[[[[[[ ... ]]]]]]]]  # hundreds of levels",
        "Flatten the structure, or raise `Limits.max_nesting_depth` in the host.",
    ),
    CodeInfo(
        "RE110",
        "too-many-diagnostics",
        "error",
        "Too many diagnostics in one file",
        "The file has more problems than are reported for one file (1,000 by default); the "
        "last diagnostic counts the rest. The limit keeps checking a broken or hostile file "
        "quick and its report readable.",
        "y: [*a, *a, *a, ... 20,000 aliases]",
        "Fix the problems reported and check again, or raise `Limits.max_diagnostics`.",
    ),
    CodeInfo(
        "RE111",
        "yaml-versions-differ",
        "error",
        "YAML that versions 1.1 and 1.2 read differently",
        "Some YAML means one thing to a YAML 1.1 reader and another to a YAML 1.2 reader "
        "(`{?foo: bar}` is the key `?foo` in 1.2 and `foo` in 1.1). Rather than guess which "
        "the author meant, and so read a value other tools read differently, the reader "
        "refuses it. So it refuses the characters U+0085, U+2028 and U+2029, which end a line "
        "in YAML 1.1 (in a comment, the text after one would be read as rules) and are text "
        "in 1.2.",
        "limits: {?max: 5}",
        "Write what you mean unambiguously: `? key` with a space for a key, or quote the text; "
        "write such a character as an escape (`\\u2028`) inside double quotes, or delete it.",
    ),
    CodeInfo(
        "RE112",
        "yaml-unused-construct",
        "error",
        "valid YAML that rule files cannot hold",
        "Some valid YAML 1.2 has no place in a rule file, whose keys are names: an empty key "
        "(`: value`, with no key before the `:`, or `[ : value ]`) is one. The reader reads it "
        "as YAML 1.2 does and, when nothing else in the file is wrong, refuses it by name "
        "rather than with a syntax error.",
        "limits:\n  : 5",
        "Give the key a name: `max: 5`.",
    ),
    # RE2xx: file structure
    CodeInfo(
        "RE201",
        "unknown-key",
        "error",
        "Unknown key",
        "The key is not part of the rule file format at this place. Misspelled keys would "
        "otherwise be ignored silently.",
        "earning:\n  - id: a\n    pionts: 5",
        "Use the key suggested in the hint, or remove it.",
    ),
    CodeInfo(
        "RE202",
        "missing-key",
        "error",
        "Missing required key",
        "A key that this part of the file needs is absent.",
        "earning:\n  - name: No id",
        "Add the key.",
    ),
    CodeInfo(
        "RE203",
        "wrong-type",
        "error",
        "Value of the wrong type",
        "The value has a different YAML type than the format expects (a list where a "
        "mapping belongs, text where a number belongs, ...).",
        "milestones:\n  - id: m\n    target: three",
        "Write a value of the expected type.",
    ),
    CodeInfo(
        "RE204",
        "invalid-choice",
        "error",
        "Value is not one of the allowed choices",
        "The value must be one of a fixed set of words (milestone types, reward logic, "
        "limit periods, ...).",
        "type: order_count",
        "Use one of the listed choices; the hint suggests the closest.",
    ),
    CodeInfo(
        "RE205",
        "invalid-value",
        "error",
        "Value out of range or malformed",
        "The value has the right type but is not acceptable here (a negative number, an "
        "empty text, a malformed id or date).",
        "pending_days: -3",
        "Use a value in the documented range.",
    ),
    CodeInfo(
        "RE206",
        "unsupported-version",
        "error",
        "Unsupported format version",
        "Only version 1 of the rule file format exists.",
        "version: 2",
        "Write `version: 1`.",
    ),
    CodeInfo(
        "RE207",
        "invalid-timezone",
        "error",
        "Unknown time zone",
        "Days, birthdays and windows are computed in the ruleset's time zone, which must "
        "be an IANA name.",
        "timezone: EST5",
        "Use a name such as `America/New_York` or `UTC`.",
    ),
    CodeInfo(
        "RE208",
        "invalid-currency",
        "error",
        "Invalid currency code",
        "The currency must be an ISO 4217 currency code in capitals, one that exists.",
        "currency: usd",
        "Write the code in capitals, such as `USD`; the hint suggests the closest code.",
    ),
    CodeInfo(
        "RE209",
        "invalid-reward",
        "error",
        "A reward must have exactly one type",
        "Each entry under `rewards` is one reward: `points`, `store_credit`, "
        "`discount_amount`, `discount_percentage`, `free_shipping` or `free_gift`.",
        "rewards: [{points: 5, store_credit: 10}]",
        "Split the entry into one reward per list item.",
    ),
    CodeInfo(
        "RE210",
        "invalid-duration",
        "error",
        "Invalid duration",
        "Durations are a whole number and a unit: `s`, `min`, `h`, `d`, `w`, `mo` or `y`.",
        "target: 3 months",
        "Write `3mo`.",
    ),
    CodeInfo(
        "RE211",
        "invalid-trigger",
        "error",
        "Unknown earning trigger",
        "`on:` names the activity that triggers an earning rule: a built-in trigger or "
        "`custom:<name>` for a host-defined event.",
        "on: orders",
        "Use a built-in trigger (the hint suggests the closest) or `custom:<name>`.",
    ),
    CodeInfo(
        "RE212",
        "invalid-attribute-type",
        "error",
        "Unknown attribute type",
        "Custom customer attributes are typed so expressions can be checked. A trailing "
        "`?` marks an attribute the host may leave out.",
        "attributes:\n  region: text",
        "Use `string`, `int`, `decimal`, `money`, `bool`, `date`, `datetime` or "
        "`list[string]` (add `?` for optional).",
    ),
    # RE3xx: expression syntax
    CodeInfo(
        "RE301",
        "unexpected-token",
        "error",
        "Unexpected token in expression",
        "The expression does not parse: a word or symbol appears where it cannot stand.",
        "when: order.subtotal >= and 20",
        "Complete the expression; the message lists what could come here.",
    ),
    CodeInfo(
        "RE302",
        "unexpected-character",
        "error",
        "Unexpected character in expression",
        "The character is not part of the expression language.",
        'when: order.subtotal >= 20 && customer.tier == "gold"',
        "Use `and`, `or`, `not` and `==` (the hint says which).",
    ),
    CodeInfo(
        "RE303",
        "unexpected-end",
        "error",
        "Expression ends too early",
        "The expression stops in the middle: an operator without its right side, or an "
        "unclosed parenthesis or bracket.",
        "points: floor(order.subtotal * 5",
        "Complete the expression.",
    ),
    CodeInfo(
        "RE304",
        "unterminated-string",
        "error",
        "Unterminated string",
        "A string literal has no closing quote.",
        'when: customer.tier == "gold',
        "Close the string with the same quote it starts with.",
    ),
    CodeInfo(
        "RE305",
        "invalid-escape",
        "error",
        "Invalid escape in string",
        "Strings know the escapes `\\\\`, `\\\"`, `\\'`, `\\n` and `\\t`.",
        'when: lower(customer.tier) == "g\\old"',
        "Remove the backslash or double it.",
    ),
    CodeInfo(
        "RE306",
        "empty-expression",
        "error",
        "Empty expression",
        "A condition or formula is empty: an empty text, or a `when:` with nothing after "
        "it, which would otherwise read as no condition at all.",
        'when: ""',
        "Write the expression, or remove the key.",
    ),
    CodeInfo(
        "RE307",
        "expression-too-long",
        "error",
        "Expression too long",
        "One condition or formula is longer than the limit (4,000 characters by default). "
        "Such an expression is unreadable, and the limit keeps parsing cost bounded.",
        "when: a or a or a or ... (thousands of terms)",
        "Split the logic into several rules, or use `in [...]` for long lists of values.",
    ),
    CodeInfo(
        "RE308",
        "list-too-long",
        "error",
        "List literal too long",
        "A list written in an expression has more elements than the limit (1,000 by default).",
        'when: customer.region in ["a", "b", ... ]',
        "Tag customers in the host and test the tag instead.",
    ),
    CodeInfo(
        "RE309",
        "number-too-long",
        "error",
        "Number literal too long",
        "A number has more digits than the limit (30 by default); no loyalty rule needs one, "
        "and huge numbers make arithmetic slow.",
        "points: 1000000000000000000000000000000000000",
        "Use a realistic number.",
    ),
    # RE4xx: names and types
    CodeInfo(
        "RE401",
        "unknown-name",
        "error",
        "Unknown name",
        "The expression uses a name that is not defined. The names a rule can see are "
        "`customer`, `stats`, `now()`, and the activity of its trigger (`order`, `review`, "
        "`event`, ...).",
        'when: custmer.tier == "gold"',
        "Use the name suggested in the hint. Text is written in quotes: when an unknown name "
        "with no close known name stands where text belongs (`customer.tier == gold`, "
        '`order.channel in [online, pos]`), the hint says so: `customer.tier == "gold"`.',
    ),
    CodeInfo(
        "RE402",
        "unknown-field",
        "error",
        "Unknown field",
        "The record has no such field. Customer fields are the built-in ones plus the "
        "ruleset's `attributes`.",
        'when: customer.teir == "gold"',
        "Use the field suggested in the hint, or declare it under `attributes`.",
    ),
    CodeInfo(
        "RE403",
        "unknown-function",
        "error",
        "Unknown function",
        "The function is not one of the built-in functions.",
        "points: flor(order.subtotal)",
        "Use the function suggested in the hint.",
    ),
    CodeInfo(
        "RE404",
        "wrong-argument-count",
        "error",
        "Wrong number of arguments",
        "The function is called with too few or too many arguments.",
        "points: floor(order.subtotal, 2)",
        "Pass the arguments the function takes (see the expression reference).",
    ),
    CodeInfo(
        "RE405",
        "type-mismatch",
        "error",
        "Operand types do not fit the operator",
        "The operator cannot combine these types: adding text to a number, money to points, "
        "comparing a date with a number, ordering lists, comparing months with days, moving "
        "a date by hours.",
        "when: customer.tags > 3",
        "Convert one side explicitly (`floor(...)`, `len(...)`) or compare like with like.",
    ),
    CodeInfo(
        "RE406",
        "wrong-argument-type",
        "error",
        "Argument of the wrong type",
        "A function received an argument of a type it does not accept.",
        'when: lower(order.subtotal) == "x"',
        "Pass a value of the type the function takes.",
    ),
    CodeInfo(
        "RE407",
        "not-boolean",
        "error",
        "Condition is not true/false",
        "A `when` condition must be a boolean expression.",
        "when: order.subtotal",
        "Compare the value: `order.subtotal > 0`.",
    ),
    CodeInfo(
        "RE408",
        "not-points",
        "error",
        "Points formula is not a whole number",
        "`points:` must give a whole number of points. Money and decimals must be rounded "
        "explicitly, so nobody is surprised by how fractions are treated.",
        "points: order.subtotal * 5",
        "Round explicitly: `floor(order.subtotal * 5)`.",
    ),
    CodeInfo(
        "RE409",
        "nullable-value",
        "error",
        "Value may be null",
        "The field is optional (the host may leave it out), and the operation needs a "
        "value. Null handling is explicit: test it or give a default.",
        "when: days_since(customer.birthday) > 30",
        'Use `coalesce(customer.birthday, date("2000-01-01"))`, or test '
        "`customer.birthday != null and ...`.",
    ),
    CodeInfo(
        "RE410",
        "unavailable-in-trigger",
        "error",
        "Name not provided by this trigger",
        "The activity name belongs to another trigger: a `signup` rule has no `order`.",
        "on: signup\nwhen: order.subtotal > 10",
        "Use the names of the rule's own trigger, or change `on:`.",
    ),
    CodeInfo(
        "RE411",
        "invalid-date-literal",
        "error",
        "Invalid date",
        "`date(...)` takes a literal ISO date `YYYY-MM-DD` that exists in the calendar.",
        'when: today() >= date("2026-02-30")',
        "Write a valid date.",
    ),
    CodeInfo(
        "RE412",
        "not-a-record",
        "error",
        "Value has no fields",
        "Field access (`.name`) works on records (customer, order, item, ...), and "
        "indexing (`[0]`) on lists.",
        'when: customer.tier.name == "gold"',
        "Remove the field access or index.",
    ),
    CodeInfo(
        "RE413",
        "mixed-list",
        "error",
        "List elements of different types",
        "All elements of a list literal must have one type.",
        'when: customer.tier in ["gold", 3]',
        "Make every element the same type.",
    ),
    CodeInfo(
        "RE414",
        "not-a-list",
        "error",
        "Value is not a list",
        "`in`, `any`, `all`, `count`, `sum` and `len` work on lists (`len` and `in` also on text).",
        'when: any(customer.tier, item == "gold")',
        "Pass a list.",
    ),
    # RE5xx: ruleset semantics
    CodeInfo(
        "RE501",
        "duplicate-rule-id",
        "error",
        "Duplicate rule id",
        "Rule ids name decisions (`<rule>/<step>`), so they must be unique across earning "
        "rules and milestones; in a ruleset with `tiers`, `tiers` is the tier changes' id.",
        "earning:\n  - id: bonus\n    ...\nmilestones:\n  - id: bonus",
        "Rename one of the rules.",
    ),
    CodeInfo(
        "RE502",
        "pick-out-of-range",
        "error",
        "`pick` out of range",
        "With `logic: customer_picks`, `pick` must be at least 1 and at most the number of "
        "rewards offered.",
        "reward: {logic: customer_picks, pick: 3, rewards: [{points: 5}, {free_shipping: true}]}",
        "Lower `pick` or offer more rewards.",
    ),
    CodeInfo(
        "RE503",
        "window-reversed",
        "error",
        "`until` is before `from`",
        "An active window that ends before it starts never applies.",
        "active: {from: 2026-12-31, until: 2026-01-01}",
        "Swap the dates.",
    ),
    CodeInfo(
        "RE504",
        "non-positive-target",
        "error",
        "Target is not positive",
        "A milestone target must be greater than zero; a target of zero would be reached "
        "by every customer at once.",
        "target: 0",
        "Use a positive target.",
    ),
    CodeInfo(
        "RE505",
        "invalid-step-type",
        "error",
        "Step type not allowed here",
        "Steps of a `mixed` milestone each name their own type (any type except `mixed` "
        "and `inactivity`); steps of a single-type milestone share the milestone's type.",
        "type: orders_count\nsteps:\n  - type: reviews_count\n    target: 2",
        "Make the milestone `mixed`, or remove the step's `type`.",
    ),
    CodeInfo(
        "RE506",
        "steps-not-increasing",
        "error",
        "Step targets do not increase",
        "The steps of a single-type milestone are thresholds on one running total, so each "
        "target must be larger than the one before.",
        "type: orders_count\nsteps: [{target: 5, ...}, {target: 3, ...}]",
        "Order the steps by target.",
    ),
    CodeInfo(
        "RE507",
        "target-or-steps",
        "error",
        "Milestone needs a target or steps",
        "A single-type milestone has either `target` and `reward`, or a list of `steps`; a "
        "`mixed` milestone has `steps`.",
        "type: orders_count\nreward: {rewards: [{points: 5}]}",
        "Add `target`, or move target and reward into `steps`.",
    ),
    CodeInfo(
        "RE508",
        "attribute-shadows-builtin",
        "error",
        "Attribute shadows a built-in field",
        "A custom attribute has the name of a built-in customer field, or a field declared "
        "under `events` is named `id` or `at`, which every event has.",
        "attributes:\n  tier: string",
        "Rename the attribute or field.",
    ),
    CodeInfo(
        "RE509",
        "target-wrong-kind",
        "error",
        "Target does not fit the milestone type",
        "`inactivity` targets are durations (`90d`, `3mo`), `amount_spent` targets are "
        "money amounts, and every other target is a whole count.",
        "type: inactivity\ntarget: 90",
        "Write `target: 90d`.",
    ),
    CodeInfo(
        "RE510",
        "window-ended",
        "note",
        "Active window has already ended",
        "The rule's `active.until` lies in the past, so it will never apply again.",
        "active: {from: 2020-11-27, until: 2020-11-30}",
        "Remove the rule or move its window.",
    ),
    CodeInfo(
        "RE511",
        "order-requirements-unused",
        "warning",
        "Order requirements have no effect",
        "`order_requirements` only apply to `orders_count` and `amount_spent` steps.",
        "type: reviews_count\norder_requirements: {min_subtotal: 30}",
        "Remove `order_requirements`.",
    ),
    CodeInfo(
        "RE512",
        "option-not-for-trigger",
        "error",
        "Option does not apply to the rule's trigger",
        "`channels` and `pending_days` only apply to rules `on: order` and "
        "`on: subscription_order` (other activity has no channel, and its points are granted "
        "at once), and `birthday` options only to rules `on: birthday`. Elsewhere they would "
        "be ignored silently.",
        "on: review\nchannels: [online]",
        "Remove the option, or change the rule's `on:`.",
    ),
    CodeInfo(
        "RE513",
        "stacking-priority-tie",
        "warning",
        "Competing rules share a priority",
        "Two enabled earning rules with `stacking: best` compete for the same activity (the "
        "same trigger, or `order` and `subscription_order`, in overlapping windows) and have "
        "the same `priority`. When they give the same points, the rule that comes first in "
        "the file wins, so moving a rule changes who grants.",
        "earning:\n  - id: base\n    on: order\n    stacking: best\n    ...\n"
        "  - id: promo\n    on: order\n    stacking: best\n    ...",
        "Give the rules different `priority` values; the higher one wins a tie.",
    ),
    CodeInfo(
        "RE514",
        "undeclared-custom-event",
        "warning",
        "Custom event without declared fields",
        "A rule is `on: custom:<name>`, but `events` has no entry for `<name>`, so its "
        "`event` has only `id` and `at`. Often the name under `events` is misspelt.",
        "events:\n  quiz_completed: {score: int}\nearning:\n  - on: custom:quiz_complete",
        "Use the name declared under `events` (the hint suggests the closest), or declare "
        "the event's fields.",
    ),
    CodeInfo(
        "RE515",
        "negative-constant-points",
        "error",
        "Points formula is a negative constant",
        "The points formula does not depend on the activity and is below zero, so the rule "
        "would fail (RE603) for every activity. Rules grant points; they cannot take them "
        "away.",
        "points: -50",
        "Grant a positive number of points.",
    ),
    CodeInfo(
        "RE516",
        "too-many",
        "error",
        "Too many rules, steps or rewards",
        "The file has more rules (2,000), a milestone more steps (100) or a step more rewards "
        "(20) than the limits allow (defaults in brackets). The limits keep evaluation time "
        "bounded for every customer.",
        "steps: [... 500 steps ...]",
        "Split the program, or raise the limit in the host's `Limits`.",
    ),
    CodeInfo(
        "RE517",
        "invalid-expiry",
        "error",
        "Invalid points expiry",
        "`points.expiry` must say when points expire: a `rolling` or `per_award` policy needs "
        "`after`, a duration; a `fixed_date` policy needs `on`, a day of the year written "
        '`"MM-DD"`; every `warn_before` entry is a duration. Without a valid setting the '
        "engine could not date a single expiry.",
        "points:\n  expiry: {policy: rolling, after: 12}",
        'Write a duration with its unit (`365d`, `12mo`, `1y`), or quote the day: `on: "12-31"`.',
    ),
    CodeInfo(
        "RE518",
        "invalid-redeeming-cost",
        "error",
        "A redeeming program's cost is not clear",
        "A redeeming program costs either a fixed `cost` or `points_per` increment of its "
        "reward, never both and never neither; `min_points` and `max_points` belong to "
        "`points_per` programs, and `min_points` may not be above `max_points`. Otherwise "
        "the engine could not say what a redemption spends.",
        "redeeming:\n  - {id: five-off, name: $5 off, cost: 500, points_per: 100, "
        "reward: {discount_amount: 5}}",
        "Keep one of `cost` and `points_per`; order `min_points` <= `max_points`.",
    ),
    CodeInfo(
        "RE519",
        "duplicate-redeeming-id",
        "error",
        "Duplicate redeeming program id",
        "Every redeeming program needs its own id: redemptions in snapshots name the program "
        "by its id, so two programs with one id would make them ambiguous.",
        "redeeming:\n  - {id: five-off, ...}\n  - {id: five-off, ...}",
        "Rename one of the programs.",
    ),
    CodeInfo(
        "RE520",
        "span-too-long",
        "error",
        "Hold, pending time or inactivity target too long",
        "A `refund_hold_days`, `pending_days` or `inactivity` target spans more days than the "
        "limit allows (36,600, about 100 years, by default). The engine adds these spans to "
        "timestamps; thousands of years would leave the calendar.",
        "pending_days: 99999999999",
        "Use a realistic span, or raise `Limits.max_days` in the host.",
    ),
    CodeInfo(
        "RE521",
        "invalid-tier-thresholds",
        "error",
        "Tier thresholds do not start at 0 or do not increase",
        "Everyone starts at the first tier level, so its threshold is 0; each further level "
        "needs more tier progress than the one before, or the engine could not say which "
        "level a customer is in. `points_earned` and `orders_count` thresholds are whole "
        "numbers; `amount_spent` thresholds are exact amounts in the ruleset currency.",
        "tiers:\n  basis: amount_spent\n  levels:\n    - {id: member, name: Member, "
        "threshold: 0}\n    - {id: gold, name: Gold, threshold: 500}\n"
        "    - {id: silver, name: Silver, threshold: 200}",
        "List the levels from the lowest to the highest, starting at `threshold: 0`.",
    ),
    CodeInfo(
        "RE522",
        "duplicate-tier-id",
        "error",
        "Duplicate tier level id",
        "Every tier level needs its own id: `customer.tier`, tier decisions and manual tier "
        "changes name the level by its id.",
        "tiers:\n  levels:\n    - {id: gold, ...}\n    - {id: gold, ...}",
        "Rename one of the levels.",
    ),
    # RE6xx: snapshots and evaluation
    CodeInfo(
        "RE523",
        "unknown-tier-literal",
        "warning",
        "`customer.tier` compared with a text that is no tier level",
        "With a `tiers` section, `customer.tier` is the id of the level the engine computed "
        "for that moment. A comparison with a text that is not a level id (a typo, or the "
        "level's `name` instead of its `id`) can never be true, so the rule silently never "
        "applies (or, with `!=`, always does).",
        "tiers: {basis: amount_spent, levels: [{id: member, name: Member, threshold: 0},\n"
        "  {id: gold, name: Gold, threshold: 500}]}\n"
        'earning:\n  - {id: gold-rate, name: Gold, on: order, when: customer.tier == "Gold",\n'
        "     points: floor(order.subtotal * 2)}",
        "Compare with a level `id` of `tiers.levels` (the hint names the closest one).",
    ),
    CodeInfo(
        "RE524",
        "duplicate-program",
        "error",
        "Two rule files define the same program",
        "A program id names one set of rules: `ruleengine serve` serves one file per program "
        "(the first by path; the other is listed as `duplicate_of` and not served), and "
        "results carry the id. Checked together (`validate` of a folder, or of several "
        "files), a file whose `program` an earlier one already defines is an error, so CI "
        "fails where the service would serve another file than the one you meant.",
        "# rules/spring.yaml\nprogram: acme\n...\n# rules/summer.yaml\nprogram: acme",
        "Give each file its own `program`, or delete the old file.",
    ),
    CodeInfo(
        "RE525",
        "amount-finer-than-currency",
        "error",
        "A money reward has more decimals than its currency",
        "`store_credit` and `discount_amount` are amounts of the ruleset's `currency`, which "
        "has a number of decimals (ISO 4217's minor unit: 2 for USD and EUR, 0 for JPY and "
        "KRW, 3 for KWD and BHD). A reward finer than that (`store_credit: 10.005` in USD, "
        "`discount_amount: 10.5` in JPY) cannot be issued by the shop, so it is a typo or a "
        "wrong currency. Trailing zeros do not count (`10.50` is fine in USD).",
        "currency: USD\nmilestones:\n  - ...\n    reward: {rewards: [{store_credit: 10.005}]}",
        "Write the amount in the currency's decimals.",
    ),
    CodeInfo(
        "RE601",
        "division-by-zero",
        "error",
        "Division by zero",
        "A formula divided by a value that was zero for this customer. The rule is not "
        "applied, and the explanation shows the failure.",
        "points: floor(stats.amount_spent / stats.orders_count)",
        "Guard the division: `if stats.orders_count > 0 then ... else 0`.",
    ),
    CodeInfo(
        "RE602",
        "number-out-of-range",
        "error",
        "Number out of range",
        "A computation produced a number too large to represent exactly.",
        "points: floor(order.subtotal * 1000000000000000000000000000000000)",
        "Use realistic factors.",
    ),
    CodeInfo(
        "RE603",
        "negative-points",
        "error",
        "Points formula gave a negative number",
        "A points formula gave fewer than zero points for an activity. The rule grants "
        "nothing for it, and the result lists the problem: a negative grant is never made "
        "silently.",
        "points: floor(order.subtotal - 50)",
        "Keep the formula non-negative, e.g. `max(floor(order.subtotal - 50), 0)`.",
    ),
    CodeInfo(
        "RE604",
        "date-out-of-range",
        "error",
        "Date out of range",
        "A formula moved a date or timestamp outside the calendar the engine computes in "
        "(years 2 to 9998), for this customer or at this moment. The rule is not applied, "
        "and the result lists the problem.",
        "when: order.at + 99999y > now()",
        "Use realistic durations: `order.at + 1y > now()`.",
    ),
    CodeInfo(
        "RE610",
        "invalid-snapshot",
        "error",
        "Snapshot does not fit the contract",
        "A value in the customer snapshot is missing or has the wrong type. The message "
        "names its JSON path, such as `$.activity[3].at`.",
        '{"type": "order", "id": "o1", "at": "2026-02-01T12:00:00"}',
        "Fix the value at the path; timestamps need a zone offset (`Z` or `+01:00`).",
    ),
    CodeInfo(
        "RE611",
        "invalid-json",
        "error",
        "Snapshot is not valid JSON",
        "The snapshot file or line could not be parsed as JSON.",
        '{"customer": {"id": "c1",}}',
        "Fix the JSON at the reported line and column.",
    ),
    CodeInfo(
        "RE612",
        "duplicate-activity-id",
        "error",
        "Duplicate activity id",
        "Two activities of the same type have the same id. Decision keys are built from "
        "activity ids, so a duplicate would make two grants indistinguishable.",
        '[{"type": "order", "id": "o1"}, {"type": "order", "id": "o1"}]',
        "Give every activity of a type its own id.",
    ),
    CodeInfo(
        "RE613",
        "unknown-activity-type",
        "error",
        "Unknown activity type",
        "The activity's `type` is not one the engine knows. Unknown activity is an error "
        "rather than ignored, so a typo cannot silently cost a customer their rewards.",
        '{"type": "ordr", "id": "o1"}',
        "Use a known type (the hint suggests the closest) or `custom:<name>`.",
    ),
    CodeInfo(
        "RE614",
        "snapshot-too-large",
        "error",
        "Snapshot too large or too deeply nested",
        "The snapshot has more activity entries (100,000), deeper JSON nesting (64 levels) or "
        "more bytes (32 MiB) than the limits allow (defaults in brackets). It is refused "
        "before any work proportional to its size is done.",
        '{"customer": {"id": "c1", "x": [[[[[[...]]]]]]}}',
        "Send only the activity the rules need (e.g. the last two years), or raise the limit.",
    ),
    CodeInfo(
        "RE615",
        "refund-before-order",
        "error",
        "Refund dated before its order",
        "An order's `refunded_at` is earlier than its `at`. No order can be refunded before "
        "it is placed, and replaying activity in time order would take points back before "
        "they were earned, so the snapshot is refused (the path is the order's "
        "`refunded_at`, such as `$.activity[3].refunded_at`).",
        '{"type": "order", "id": "o1", "at": "2026-02-01T12:00:00+01:00", "subtotal": 40,\n'
        ' "refunded_at": "2026-02-01T11:30:00Z"}',
        "Send the moment the refund was made, with its real offset; timestamps with "
        "different offsets are compared as instants.",
    ),
    CodeInfo(
        "RE616",
        "refund-exceeds-order",
        "error",
        "More refunded than the order's amount",
        "An order's `refunded_amount`, the total refunded for the order so far, is larger "
        "than both its `subtotal` and its `total`. More cannot be refunded than was paid, "
        "and the engine would otherwise take back points for money the customer never "
        "spent, so the snapshot is refused (the path is the order's `refunded_amount`).",
        '{"type": "order", "id": "o1", "at": "2026-02-01T12:00:00Z", "subtotal": 40,\n'
        ' "refunded_at": "2026-02-03T09:00:00Z", "refunded_amount": 45}',
        "Send the sum of the order's refunds, at most its `subtotal` (or its `total`, when "
        "shipping and taxes were refunded too).",
    ),
    CodeInfo(
        "RE617",
        "unknown-redeeming-program",
        "error",
        "Redemption of an unknown program",
        "A `redemption` in the snapshot names a `program` the ruleset has no `redeeming` "
        "entry for. The engine does not know what it cost or granted, so it still takes its "
        "points from the balance (the customer did spend them) and reports this problem.",
        '{"type": "redemption", "id": "r1", "at": "2026-02-01T12:00:00Z", '
        '"program": "ten-off", "points": 1000, "coupon": "X1"}',
        "Add the program to `redeeming`, or correct the redemption's `program`.",
    ),
    CodeInfo(
        "RE618",
        "insufficient-points",
        "error",
        "More points taken than were active",
        "A redemption, a negative adjustment or a refund reversal wanted more points than the "
        "customer had active at that moment. Active points never go below zero: the ledger "
        "takes what was active and reports the rest, with the amount, as this problem.",
        '{"type": "adjustment", "id": "a1", "at": "2026-02-01T12:00:00Z", "points": -500}',
        "Check the order of events; a host should not redeem more than `balance.active`.",
    ),
    CodeInfo(
        "RE619",
        "tier-sent-with-tiers",
        "error",
        "`customer.tier` sent to a ruleset with tiers",
        "The snapshot's `customer.tier` is set, but the ruleset has a `tiers` section: then "
        "the engine computes the tier itself, as it stood at each moment of the replay, and "
        "a tier the host sends would contradict it. Rather than pick one silently, the "
        "snapshot is refused (the path is `$.customer.tier`).",
        '{"customer": {"id": "c1", "tier": "gold"}, "activity": []}',
        "Leave `tier` out (or send null); to set a customer's tier by hand, send a "
        '`{"type": "tier_change", "tier": "gold"}` activity at the moment it was changed.',
    ),
    CodeInfo(
        "RE620",
        "unknown-tier",
        "error",
        "Tier activity the ruleset's tiers do not know",
        "A `tier_change` activity names a `tier` that is not a level id of the ruleset's "
        "`tiers`, or the snapshot has `tier_change` or `tier_recalculation` activity for a "
        "ruleset without `tiers`. The engine cannot set a level it does not know, so the "
        "snapshot is refused (the path is the activity's `tier`, or the activity).",
        '{"type": "tier_change", "id": "t1", "at": "2026-02-01T12:00:00Z", "tier": "golden"}',
        "Use one of the level ids of the ruleset's `tiers` (the message lists them).",
    ),
    CodeInfo(
        "RE621",
        "fractional-tier-points",
        "error",
        "Fractional tier points for a points or orders tier",
        "A `tier_change` activity sets `tier_points` to a number with a fraction, but the "
        "ruleset's tiers count points earned or orders, which are whole. Rounding it would "
        "silently move the customer's progress, so the snapshot is refused (the path is the "
        "activity's `tier_points`).",
        '{"type": "tier_change", "id": "t1", "at": "2026-02-01T12:00:00Z", "tier": "gold", '
        '"tier_points": 800.5}',
        "Send a whole number; only `amount_spent` tiers take amounts such as `800.50`.",
    ),
    CodeInfo(
        "RE640",
        "impossible-coupon",
        "error",
        "Coupon used or revoked impossibly",
        "A `redemption`'s coupon is used (`used_at`) or revoked (`revoked_at`) before the "
        "redemption's `at`, or has both: only an unused coupon can be revoked (its points "
        "return), and a revoked coupon cannot be used. Replaying such a coupon would give "
        "points back that the customer also spent, so the snapshot is refused (the path is "
        "the redemption's `used_at` or `revoked_at`).",
        '{"type": "redemption", "id": "rd1", "at": "2026-03-05T00:00:00Z", "program": '
        '"five-off",\n "points": 500, "coupon": "X1", "used_at": "2026-03-06T00:00:00Z",\n'
        ' "revoked_at": "2026-03-07T00:00:00Z"}',
        "Send `used_at` for a coupon that was used, `revoked_at` for one revoked unused, each "
        "after the redemption's `at` (timestamps with different offsets compare as instants).",
    ),
    CodeInfo(
        "RE641",
        "duplicate-coupon",
        "error",
        "Two redemptions with one coupon code",
        "Two `redemption` activities give the same `coupon` code. Each redemption creates "
        "its own coupon, so a repeated code is a redemption sent twice (under two ids) or a "
        "wrong code, and counting both would take the customer's points twice; the snapshot "
        "is refused (the path is the later redemption's `coupon`).",
        '[{"type": "redemption", "id": "rd1", "coupon": "X1", ...},\n'
        ' {"type": "redemption", "id": "rd2", "coupon": "X1", ...}]',
        "Send each redemption once, with the coupon code it created.",
    ),
    CodeInfo(
        "RE650",
        "duplicate-customer",
        "error",
        "A customer appears twice in a backtest's data",
        "Two lines of a JSON Lines history, or two rows of a customers table, have the same "
        "customer id. A backtest or diff would evaluate and count that customer twice, so "
        "the run stops at the second occurrence, naming it and the first, and writes "
        "nothing.",
        '{"customer": {"id": "c1"}, "activity": []}\n{"customer": {"id": "c1"}, "activity": [...]}',
        "Export each customer once, with all of its activity in one snapshot (or one "
        "customers row and its activity rows).",
    ),
    CodeInfo(
        "RE670",
        "snapshot-read-for-another-ruleset",
        "error",
        "A snapshot read for another ruleset",
        "A `Snapshot` (what `Engine.read_snapshot` returns) was given to an engine whose ruleset "
        "reads snapshots differently: other customer `attributes`, custom `events`, `tiers` or "
        "limits. The snapshot holds only what its own ruleset declared, checked by that "
        "ruleset's types, so this engine's attributes would be missing (its rules would "
        "silently not fire) and its checks (`customer.tier` with tiers, RE619) never made; the "
        "snapshot is refused rather than evaluated wrongly.",
        "snapshot = engine_a.read_snapshot(data)\nengine_b.evaluate(snapshot, now=now)",
        "Read the data with the engine that evaluates it (`engine_b.read_snapshot(data)`), or "
        "pass the data itself to `evaluate`.",
    ),
)

CODES: dict[str, CodeInfo] = {entry.code: entry for entry in _ENTRIES}


def render_markdown() -> str:
    """The error reference, `docs/errors.md`, generated from the catalogue."""
    lines = [
        "# Diagnostic codes",
        "",
        "<!-- Generated by `python -m ruleengine.diagnostics.codes > docs/errors.md`; "
        "do not edit. -->",
        "",
        "Every diagnostic has a stable code. Ranges: RE1xx reading and YAML, RE2xx file "
        "structure, RE3xx expression syntax, RE4xx names and types, RE5xx ruleset semantics, "
        "RE6xx snapshots and evaluation.",
        "",
        "| code | name | severity | title |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{c.code}](#{c.code.lower()}) | `{c.slug}` | {c.severity} | {c.title} |"
        for c in _ENTRIES
    ]
    for c in _ENTRIES:
        lines += [
            "",
            f"## {c.code}",
            "",
            f"**{c.title}** (`{c.slug}`, {c.severity})",
            "",
            f"*What:* {c.what}",
            "",
            "*Example:*",
            "",
            "```yaml",
            c.example,
            "```",
            "",
            f"*Fix:* {c.fix}",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
