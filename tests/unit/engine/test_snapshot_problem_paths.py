"""A problem inside any activity is named at the activity's own field: the tag pydantic
puts after the index for its union member (`order`, `tier_change`, `event`, ...) never shows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.engine.snapshot_models import ACTIVITY_TYPES

RULES = """\
version: 1
program: paths
currency: USD
timezone: UTC
events:
  webinar: {topic: string}
earning:
  - {id: per-order, name: A point an order, on: order, points: 1}
tiers:
  basis: orders_count
  levels:
    - {id: member, name: Member, threshold: 0}
    - {id: gold, name: Gold, threshold: 5}
"""
ENGINE = Engine(load_ruleset(RULES))
TYPES = [t for t in ACTIVITY_TYPES if t != "custom:<name>"] + ["custom:webinar"]


@pytest.mark.parametrize("kind", TYPES)
@given(index=st.integers(min_value=0, max_value=3), at=st.sampled_from(["soon", "", "2026-13-01"]))
def test_a_bad_timestamp_is_named_at_its_field_for_every_activity_type(
    kind: str, index: int, at: str
) -> None:
    good = {"type": "review", "at": "2026-01-01T00:00:00Z"}
    activity = [{**good, "id": f"r{i}"} for i in range(index)]
    activity.append({"type": kind, "id": "x1", "at": at})
    with pytest.raises(SnapshotError) as raised:
        ENGINE.read_snapshot({"customer": {"id": "c1"}, "activity": activity})
    paths = {p.path for p in raised.value.problems}
    assert f"$.activity[{index}].at" in paths
    assert not any(p.startswith(f"$.activity[{index}].{kind.split(':')[0]}") for p in paths)
