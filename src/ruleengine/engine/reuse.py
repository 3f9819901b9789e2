"""What a second ruleset's evaluation of a snapshot may take from the first's (`ruleengine
diff`: OLD, then NEW, on the same customer).

`Pairing.of(old, new)` works out once per pair of rulesets which parts of an evaluation do
not depend on anything that differs between them; `Trace` is what OLD's evaluation of one
customer leaves for NEW's (`Engine.evaluate_sharing`, paired by `engine.paired`). What is
shared, and why that is exact:

* **The rulesets are the same** (same content hash and limits, and OLD's result has no runtime
  problems, which name the rule file and line): NEW's result is OLD's. A result is a function
  of the ruleset's content (which the hash covers), the snapshot and `now`.
* **The activity index** (`Timeline`: the activity known at `now`, sorted by kind) depends only
  on the snapshot, `now` and the ruleset's timezone: shared when the timezones are equal.
* **Earning** depends on the earning rules, the timezone, the currency, `max_points` and the
  customer record, which with VIP tiers carries `customer.tier` as it stood at each moment.
  Shared when every earning rule is the same (compared as their exact JSON form), neither
  ruleset's expressions read the tier (then the record is the host's throughout), and OLD's
  earning reported no runtime problems (they name OLD's file).
* **A milestone** depends on its own definition, the activity index, the timezone, the currency,
  the snapshot's `granted` and `excluded`, whether its condition held (and the reasons, when not:
  the condition itself is evaluated again for NEW, it is cheap and may read the tier), and, for a
  `points_earned` step, on every point the ruleset granted before it (earning and earlier
  milestones). A milestone with the same definition (same id, exact JSON form) and no
  `points_earned` step reuses OLD's outcome when its condition came out the same.

Everything else is evaluated again for NEW: earning that differs, milestones counting points,
tiers (their points basis and tier-dependent rates feed each other), the points ledger (fed by
every award), redeeming and the result's fields. Nothing is shared when the rulesets declare
different attributes, custom events or limits, since the snapshot itself may then differ.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ruleengine.engine.earning_plan import EarningOutcome
from ruleengine.engine.milestones.plan import MilestoneOutcome
from ruleengine.engine.timeline import Timeline
from ruleengine.limits import Limits
from ruleengine.rules.models import MilestoneType
from ruleengine.rules.ruleset import RuleSet


def _exact(model: Any) -> Any:
    """A rule's exact form: its JSON values as written (`10` and `10.0` differ, as they do in
    the results), not pydantic equality (under which they are equal)."""
    return model.model_dump(mode="json", by_alias=True)


def _reads_tier(ruleset: RuleSet) -> bool:
    """Whether an expression may read `customer.tier` (as `Engine` decides it: by the text)."""
    return any("tier" in e.text for e in ruleset.expressions.values())


class Pairing(msgspec.Struct, frozen=True):
    """Which parts of OLD's evaluation NEW's may reuse (see the module's docstring)."""

    identical: bool = False  # the whole result
    timeline: bool = False
    earning: bool = False
    # For each of NEW's milestones, the index of OLD's milestone whose outcome it may reuse.
    milestones: tuple[int | None, ...] = ()

    @classmethod
    def of(cls, old: RuleSet, new: RuleSet, old_limits: Limits, new_limits: Limits) -> Pairing:
        a, b = old.model, new.model
        if a.attributes != b.attributes or a.events != b.events or old_limits != new_limits:
            return cls(milestones=(None,) * len(b.milestones))
        if old.hash == new.hash:
            return cls(identical=True, milestones=(None,) * len(b.milestones))
        if a.timezone != b.timezone or a.currency != b.currency:
            return cls(milestones=(None,) * len(b.milestones))
        earning = (
            [_exact(r) for r in a.earning] == [_exact(r) for r in b.earning]
            and not _reads_tier(old)
            and not _reads_tier(new)
        )
        by_id = {m.id: (index, _exact(m)) for index, m in enumerate(a.milestones)}
        milestones: list[int | None] = []
        for milestone in b.milestones:
            found = by_id.get(milestone.id)
            counts_points = any(
                step.type is MilestoneType.POINTS_EARNED for step in milestone.steps or ()
            ) or (milestone.type is MilestoneType.POINTS_EARNED)
            same = found is not None and found[1] == _exact(milestone)
            milestones.append(found[0] if same and found and not counts_points else None)
        return cls(timeline=True, earning=earning, milestones=tuple(milestones))


class Trace(msgspec.Struct):
    """What one evaluation (OLD's) leaves for the next on the same snapshot and `now`."""

    timeline: Timeline | None = None
    earning: EarningOutcome | None = None  # None when it reported problems
    # By OLD's milestone index: the reasons its condition gave (none: it held) and the outcome.
    milestones: dict[int, tuple[tuple[str, ...], MilestoneOutcome]] = msgspec.field(
        default_factory=dict
    )


class Reuse(msgspec.Struct, frozen=True):
    """What NEW's evaluation takes from OLD's `trace`, as `pairing` allows."""

    pairing: Pairing
    trace: Trace

    def timeline(self) -> Timeline | None:
        return self.trace.timeline if self.pairing.timeline else None

    def earning(self) -> EarningOutcome | None:
        return self.trace.earning if self.pairing.earning else None

    def milestone(self, index: int, blockers: list[str]) -> MilestoneOutcome | None:
        """OLD's outcome for NEW's milestone `index`, when it may be reused."""
        old = self.pairing.milestones[index]
        if old is None:
            return None
        found = self.trace.milestones.get(old)
        if found is None or found[0] != tuple(blockers):
            return None
        return found[1]
