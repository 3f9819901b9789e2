"""What the program preview tells customers about points that wait and points that expire."""

from __future__ import annotations

from pathlib import Path

import pytest

from ruleengine import load_ruleset
from ruleengine.service.wording import duration_words, expiry_words, program_view

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"


def test_the_bundled_programs_say_when_points_wait_and_expire() -> None:
    maple = load_ruleset(EXAMPLES / "maple-loyalty.yaml").model
    assert expiry_words(maple) == (
        "Points expire 12 months after your last earned points: earning any points keeps them "
        "all. Reminders come 30 days and 7 days before."
    )
    urban = load_ruleset(EXAMPLES / "urban-threads.yaml").model
    assert expiry_words(urban) is None
    pending = {rule.id: rule.pending for rule in program_view(urban)[0]}
    assert "pending for 28 days before they can be spent" in pending.values()


RULES = """version: 1
program: p
currency: USD
timezone: Europe/Berlin
points:
  expiry: {expiry}
earning:
  - {{id: a, name: A, on: order, points: 5}}
"""


@pytest.mark.parametrize(
    ("expiry", "words"),
    [
        (
            "{policy: per_award, after: 1y, warn_before: [30d]}",
            "Points expire 1 year after they are earned; spending uses the oldest first. "
            "A reminder comes 30 days before.",
        ),
        (
            '{policy: fixed_date, on: "02-29"}',
            "Points expire at the end of 29 February (28 February in other years) each year.",
        ),
        (
            "{policy: rolling, after: 52w}",
            "Points expire 52 weeks after your last earned points: earning any points keeps "
            "them all.",
        ),
    ],
)
def test_each_expiry_policy_in_words(expiry: str, words: str) -> None:
    assert expiry_words(load_ruleset(RULES.format(expiry=expiry)).model) == words


@pytest.mark.parametrize(
    ("text", "words"), [("12mo", "12 months"), ("1y", "1 year"), ("1d", "1 day"), ("90 d", "90 d")]
)
def test_durations_in_words(text: str, words: str) -> None:
    assert duration_words(text) == words
