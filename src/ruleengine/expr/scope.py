"""What an expression can see: root names and their types, and the functions' context."""

from __future__ import annotations

from dataclasses import dataclass, field

from ruleengine.expr.types import Type


@dataclass(frozen=True)
class Scope:
    """The root names visible to an expression.

    `elsewhere` names roots that exist in the language but not here (`order` in a `signup`
    rule), with the reason, so the checker can say so instead of "unknown name".
    `context` describes where the expression stands ("a `signup` rule"), for messages.
    """

    roots: dict[str, Type]
    elsewhere: dict[str, str] = field(default_factory=dict)
    context: str = "this expression"
