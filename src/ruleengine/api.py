"""Conditions on their own: `compile_expression` for hosts that only want expressions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from ruleengine.diagnostics.diagnostic import Diagnostic, RuleSetError
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.checker import check_expression
from ruleengine.expr.codegen import generate
from ruleengine.expr.coerce import coerce
from ruleengine.expr.conditions import ProgramSet
from ruleengine.expr.functions import BOUND_NAME
from ruleengine.expr.parse_tables import KEYWORDS
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.program import Env, Program, ProgramLike, context_free
from ruleengine.expr.program import compile_program as compile_checked
from ruleengine.expr.reader import Reader, lazy_reader, view_reader
from ruleengine.expr.runtime import NOT_ZONES, EvalContext, EvaluationError, check_now
from ruleengine.expr.scope import Scope
from ruleengine.expr.size import expression_size_problems, length_problem
from ruleengine.expr.types import (
    DateTimeType,
    ListType,
    OptionalType,
    RecordType,
    Type,
    parse_type_name,
)
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.vocabulary import earning_scope

_UNBUILT: Any = object()
_ANY_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Expression:
    """A checked, compiled expression. Immutable; `evaluate` may be called from any thread."""

    text: str
    checked: CheckedExpr
    scope: Scope
    _evaluate: ProgramLike
    _read: Reader
    # The host's path reads through this view: each value converted when evaluation reaches
    # it (`reader.view_reader`), so a malformed value on a branch not taken is not reported.
    _view: Reader
    # `evaluate`'s function of the host's data, made on first use (so compiling, which an
    # editor or `validate` does many times, does not pay for generating code), and the last
    # moment and zone it checked, so a host calling it with the same `now` checks it once.
    # One slot each, replaced whole: safe to share between threads (a race builds twice).
    _host: list[Any] = field(default_factory=lambda: [_UNBUILT], compare=False, repr=False)
    _checked: list[tuple[Any, Any]] = field(
        default_factory=lambda: [(None, None)], compare=False, repr=False
    )

    @property
    def type(self) -> Type:
        return self.checked.type

    def evaluate(
        self, variables: Mapping[str, Any], *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> Any:
        """Evaluate with `variables` (the host's own data for each root name it uses).

        Only the values the expression reads are converted (decimal strings and numbers to
        `Decimal`, ISO timestamps to `datetime`), each when evaluation reaches it, so a call
        costs what the expression reads, not the size of `variables`. A value read that does
        not fit raises `CoercionError` naming its JSON path; one on a branch not taken
        (`customer.tier == "gold" or order.subtotal > 50` for a gold customer) is not read,
        so not reported. A failure such as division by zero raises `RuleSetError` with a
        located diagnostic. To evaluate many records at one moment, bind once:
        `bind(now=..., convert=True)`.
        """
        fast = self._host[0]
        if fast is _UNBUILT:
            program = self._evaluate
            fast = self._host[0] = (
                _host_function(program, self.scope, self._view)
                if isinstance(program, Program)
                else None
            )
        if fast is not None:  # the expression never reads the context: only check it
            last = self._checked[0]
            if last[0] is not now or last[1] is not timezone:
                check_now(now)
                zone_of(timezone)  # an unknown zone is an error here too
                self._checked[0] = (now, timezone)
            return fast(variables)
        ctx = EvalContext(now, zone_of(timezone))
        if not isinstance(variables, Mapping):
            raise not_a_mapping(variables, self.scope)
        values = self._view(variables)
        program = self._evaluate
        try:
            if isinstance(program, Program):  # the view is this call's own: no copy of it
                return program.run_on_view(ctx, values)
            return program(Env(ctx, values))
        except EvaluationError as error:
            source = self.checked.source
            raise RuleSetError([source.report(error.span, error.code, error.message)]) from None

    def convert(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-like values -> the runtime values `bind`'s function takes (exact decimals,
        aware datetimes), every root of the scope checked whole against its types; raises
        `CoercionError`. `read` converts only what the expression reads."""
        if not isinstance(variables, Mapping):
            raise not_a_mapping(variables, self.scope)
        return {
            name: coerce(variables[name], root_type, (name,))
            for name, root_type in self.scope.roots.items()
            if name in variables
        }

    def read(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The values the expression can read, converted from the host's data (as `convert`
        would convert them, with the same errors), and nothing else: every one of them,
        whichever branch would run, for `bind()` on converted data."""
        if not isinstance(variables, Mapping):
            raise not_a_mapping(variables, self.scope)
        return self._read(variables)

    def bind(
        self, *, now: datetime, timezone: str | tzinfo = "UTC", convert: bool = False
    ) -> Callable[[dict[str, Any]], Any]:
        """A plain function for evaluating many records at one moment.

        With `convert=True` it takes the host's own data, as `evaluate` does, and converts
        only what the expression reads, when evaluation reaches it; without, it takes
        variables converted beforehand (`convert` or `read`) and does no conversion or checks
        per call (given anything but a `dict` it fails as Python does on it).
        """
        zone = zone_of(timezone)
        ctx = EvalContext(now, zone)
        if convert:
            slow = _composed(self._view, self._bound(ctx), self.scope)
            generated = generate([self.checked], self.scope.roots, ctx, slow)
            return generated[0] if generated is not None else slow
        bound = self._bound(ctx)
        if isinstance(self._evaluate, Program) and _reads_moments(self.checked):
            checked: Callable[[dict[str, Any]], Any] = _calendar_checked(bound, self._read)
            return checked
        return bound

    def _bound(self, ctx: EvalContext) -> Callable[[dict[str, Any]], Any]:
        """`bind`'s function of converted variables, without the calendar check."""
        evaluate = self._evaluate
        source = self.checked.source

        def located(error: EvaluationError) -> BaseException:
            return RuleSetError([source.report(error.span, error.code, error.message)])

        if isinstance(evaluate, Program):
            # The compiled function itself: no wrapper, no `Env` per call; the few nodes that
            # can fail raise the located `RuleSetError` directly.
            return evaluate.bind(ctx, located)

        def run(variables: dict[str, Any]) -> Any:
            try:
                return evaluate(Env(ctx, variables))
            except EvaluationError as error:
                raise RuleSetError([source.report(error.span, error.code, error.message)]) from None

        return run


def _reads_moments(checked: CheckedExpr) -> bool:
    """Whether any node of the expression is a timestamp (or a list or optional of one)."""

    def moment(kind: Type) -> bool:
        while isinstance(kind, ListType | OptionalType):
            kind = kind.element if isinstance(kind, ListType) else kind.inner
        return isinstance(kind, DateTimeType)

    return any(moment(kind) for kind in checked.types.values())


def _calendar_checked(bound: Callable[[dict[str, Any]], Any], read: Reader) -> Any:
    """`bound`, with the error `evaluate` gives for a timestamp outside the supported years.

    Values converted beforehand are not checked per call; a raw `datetime` at the calendar's
    ends (year 1 with an offset) overflows Python's own date arithmetic when it is moved to
    the local zone. On that failure, and only then, the values are read as `evaluate` reads
    them, so the `CoercionError` naming the value's path is raised instead.
    """

    def run(variables: dict[str, Any]) -> Any:
        try:
            return bound(variables)
        except (OverflowError, ValueError):
            read(variables)  # raises the `CoercionError` that names the value
            raise

    return run


Declaration = str | Mapping[str, "Declaration"] | Sequence["Declaration"]
"""A host's type declaration: a type name as rule files write it (`"money"`, `"string?"`,
`"list[string]"`), a mapping of field names to declarations (a record), or a one-element
list holding the declaration of its elements (a list of records)."""


def zone_of(timezone: str | tzinfo) -> tzinfo:
    """The zone a host names (an IANA name such as `Europe/Lisbon`) or gives; anything else
    (`None`, which would mean the machine's own zone to `datetime`, a number) is a
    `TypeError` that says so, and a name that is no place's zone (`localtime`) a
    `ValueError`, as in rule files."""
    if isinstance(timezone, str):
        if timezone in NOT_ZONES:  # the machine's own zone, or no zone at all
            raise ValueError(f"`{timezone}` is not a place's time zone: name one, such as `UTC`")
        return ZoneInfo(timezone)
    if isinstance(timezone, tzinfo):
        return timezone
    raise TypeError(
        "`timezone` must be an IANA zone name such as `Europe/Lisbon` or a `tzinfo`, "
        f"not {type(timezone).__name__} `{timezone!r}`"
    )


def declare_scope(roots: Mapping[str, Declaration]) -> Scope:
    """The names a host's expressions may use, and their types, from plain data.

    ```python
    scope = declare_scope({
        "order": {"subtotal": "money", "channel": "string", "coupon": "string?",
                  "items": [{"sku": "string", "price": "money", "quantity": "int"}]},
        "points": "int",
    })
    compile_expression("order.subtotal >= 20 and points > 100", scope)
    ```

    Type names are those of a ruleset's `attributes`: `string`, `int`, `decimal`, `money`,
    `bool`, `date`, `datetime`, `list[string]`, each optional with a trailing `?`. Raises
    `ValueError` naming the declaration it cannot read, or a name an expression could not
    use: not an identifier, a keyword (`and`, `null`, ...), or a root named `item` (the
    element inside `any`/`all`).
    """
    if not isinstance(roots, Mapping):
        raise TypeError(
            "declare_scope takes a mapping of root names to declarations "
            f'(`{{"order": {{"subtotal": "money"}}}}`), got {type(roots).__name__}'
        )
    for name in roots:
        if name == BOUND_NAME:
            raise ValueError(
                f"`{name}`: a root cannot be named `{BOUND_NAME}`, the element inside "
                "`any(list, ...)` and `all(list, ...)`; choose another name"
            )
    return Scope({name: _declared(decl, (name,)) for name, decl in roots.items()})


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# Declarations nest at most as deep as snapshot JSON may (`Limits.max_json_depth`): deeper
# would overflow the recursion of this reader and of every checker pass over the types.
MAX_DECLARATION_DEPTH = 64


def _declared(declaration: Declaration, path: tuple[str, ...]) -> Type:
    if len(path) > MAX_DECLARATION_DEPTH:
        shown = ".".join(map(str, path[:3]))
        raise ValueError(
            f"`{shown}...`: declarations nest more than {MAX_DECLARATION_DEPTH} levels deep"
        )
    where = ".".join(map(str, path))
    name = path[-1]
    element = name == BOUND_NAME and len(path) > 1  # a list's element, labelled `item`
    if not element and (
        not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or name in KEYWORDS
    ):
        raise ValueError(
            f"`{where}`: `{name}` cannot be used in an expression: a name is letters, "
            "digits and `_`, not starting with a digit, and not a keyword"
        )
    if isinstance(declaration, str):
        try:
            return parse_type_name(declaration.strip())
        except KeyError:
            raise ValueError(
                f"`{where}`: unknown type `{declaration}`; the types are string, int, decimal, "
                "money, bool, date, datetime and list[string], each optionally with `?`"
            ) from None
    if isinstance(declaration, Mapping):
        fields = tuple(
            (name, _declared(inner, (*path, name))) for name, inner in declaration.items()
        )
        return RecordType(path[-1], fields)
    if isinstance(declaration, Sequence) and len(declaration) == 1:
        return ListType(_declared(declaration[0], (*path, "item")))
    raise ValueError(
        f"`{where}`: a declaration is a type name, a mapping of fields, or a list of one "
        "declaration"
    )


def compile_expression(
    text: str,
    scope: Scope | None = None,
    *,
    name: str = "<string>",
    limits: Limits = DEFAULT_LIMITS,
) -> Expression:
    """Parse, check and compile one expression.

    `scope` says which names the expression can use; the default is what an `on: order`
    earning rule sees (`customer`, `stats`, `order`). Raises `RuleSetError` with every
    diagnostic when the expression does not parse or check, or is beyond `limits` (as in a
    rule file: 4,000 characters, list literals of 1,000 elements, numbers of 30 digits).
    """
    if not isinstance(text, str):
        raise TypeError(f"an expression is text (str), not {type(text).__name__}")
    names = scope if scope is not None else earning_scope("order", {}, {})
    src = ExpressionSource.standalone(text, name)
    too_long = length_problem(src, limits)
    if too_long is not None:
        raise RuleSetError([too_long])
    expr, problems = parse_expression(src)
    diagnostics: list[Diagnostic] = list(problems)
    if expr is not None:
        diagnostics += expression_size_problems(expr, src, limits)
        if diagnostics:
            raise RuleSetError(diagnostics)
        checked, problems = check_expression(expr, names, src)
        diagnostics += problems
        if checked is not None and not diagnostics:
            program = compile_checked(checked)
            nodes = [checked.root]
            reader, view = lazy_reader(names.roots, nodes), view_reader(names.roots, nodes)
            return Expression(text, checked, names, program, reader, view)
    raise RuleSetError(diagnostics)


@dataclass(frozen=True)
class Conditions:
    """Conditions compiled to be evaluated together on the same variables (the rules that
    share a trigger). Immutable; the functions `bind` returns may be called from any thread."""

    expressions: tuple[Expression, ...]
    scope: Scope
    _program: ProgramSet
    _read: Reader
    _view: Reader  # as `Expression._view`
    # `evaluate`'s function of the host's data when no condition reads the context (made on
    # first use; None otherwise), as `Expression._host`.
    _host: list[Any] = field(default_factory=lambda: [_UNBUILT], compare=False, repr=False)

    def convert(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-like values -> runtime values, as `Expression.convert`."""
        return {
            name: coerce(variables[name], root_type, (name,))
            for name, root_type in self.scope.roots.items()
            if name in variables
        }

    def read(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The values any of the conditions reads, converted, as `Expression.read`."""
        return self._read(variables)

    def bind(
        self, *, now: datetime, timezone: str | tzinfo = "UTC", convert: bool = False
    ) -> Callable[[dict[str, Any]], list[Any]]:
        """One function of converted variables (with `convert=True`: of the host's own data,
        converting only what the conditions read) that returns every condition's value, in the
        order given, in one call. It gives exactly what each condition's own `bind` gives, and
        raises the first failing condition's `RuleSetError`; it is faster because tiers (the
        same field against several thresholds, alone or behind the same filter) are decided
        together by one search. See `ruleengine.expr.conditions.ProgramSet.bind`."""
        zone = zone_of(timezone)
        ctx = EvalContext(now, zone)
        if convert:
            slow = _composed(self._view, self._bound(ctx), self.scope)
            checked = [e.checked for e in self.expressions]
            generated = generate(checked, self.scope.roots, ctx, slow, together=True)
            return generated[0] if generated is not None else slow

        bound = self._bound(ctx)
        moments = any(_reads_moments(e.checked) for e in self.expressions)
        return _calendar_checked(bound, self._read) if moments else bound

    def _bound(self, ctx: EvalContext) -> Callable[[dict[str, Any]], list[Any]]:
        """`bind`'s function of converted variables, without the calendar check."""

        def located(source: ExpressionSource) -> Callable[[EvaluationError], BaseException]:
            return lambda e: RuleSetError([source.report(e.span, e.code, e.message)])

        return self._program.bind(ctx, [located(e.checked.source) for e in self.expressions])

    def evaluate(
        self, variables: Mapping[str, Any], *, now: datetime, timezone: str | tzinfo = "UTC"
    ) -> list[Any]:
        """Evaluate every condition on the host's data, converting only what they read.

        When no condition reads the context, the function is built once (generated code
        where it can be) and reused; otherwise the set is bound to `now` on each call."""
        fast = self._host[0]
        if fast is _UNBUILT:
            fast = self._host[0] = self._context_free()
        if fast is None:
            zone = zone_of(timezone)
            if not isinstance(variables, Mapping):
                raise not_a_mapping(variables, self.scope)
            result: list[Any] = self._bound(EvalContext(now, zone))(self._view(variables))
            return result
        check_now(now)
        zone_of(timezone)  # an unknown zone is an error here too
        values: list[Any] = fast(variables)
        return values

    def _context_free(self) -> Callable[[Mapping[str, Any]], Any] | None:
        programs = [e._evaluate for e in self.expressions]
        if not all(isinstance(p, Program) and not p.contextual for p in programs):
            return None
        # No condition reads the context, so any moment binds them to the same functions.
        slow = _composed(self._view, self._bound(EvalContext(_ANY_MOMENT, UTC)), self.scope)
        checked = [e.checked for e in self.expressions]
        generated = generate(checked, self.scope.roots, None, slow, together=True)
        return generated[0] if generated is not None else slow


def compile_conditions(
    texts: Sequence[str],
    scope: Scope | None = None,
    *,
    name: str = "<string>",
    limits: Limits = DEFAULT_LIMITS,
) -> Conditions:
    """Parse, check and compile conditions that are evaluated together, such as the `when`
    of every rule on one trigger. `scope` is as for `compile_expression`; the conditions are
    named `name[0]`, `name[1]`, ... in diagnostics. Raises `RuleSetError` with every
    diagnostic of every condition."""
    names = scope if scope is not None else earning_scope("order", {}, {})
    expressions: list[Expression] = []
    diagnostics: list[Diagnostic] = []
    for index, text in enumerate(texts):
        try:
            expressions.append(
                compile_expression(text, names, name=f"{name}[{index}]", limits=limits)
            )
        except RuleSetError as error:
            diagnostics += error.diagnostics
    if diagnostics:
        raise RuleSetError(diagnostics)
    program = ProgramSet(tuple(e.checked for e in expressions))
    nodes = [e.checked.root for e in expressions]
    reader, view = lazy_reader(names.roots, nodes), view_reader(names.roots, nodes)
    return Conditions(tuple(expressions), names, program, reader, view)


def _host_function(
    program: Program, scope: Scope, read: Reader
) -> Callable[[Mapping[str, Any]], Any] | None:
    """`evaluate`'s function of the host's data, for a program that never reads the context
    (the same at every `now`): generated code, falling back to the view and the closures,
    which raise the located `RuleSetError`. None for a program that reads the context."""
    free = context_free(program)
    if free is None:
        return None
    source = program.checked.source

    def slow(variables: Mapping[str, Any]) -> Any:
        if not isinstance(variables, Mapping):  # here, off the generated path, which falls back
            raise not_a_mapping(variables, scope)
        try:
            return free(read(variables))
        except EvaluationError as error:
            raise RuleSetError([source.report(error.span, error.code, error.message)]) from None

    generated = generate([program.checked], scope.roots, None, slow)
    return generated[0] if generated is not None else slow


def _composed(
    read: Reader, evaluate: Callable[[dict[str, Any]], Any], scope: Scope
) -> Callable[[Mapping[str, Any]], Any]:
    """`evaluate(read(variables))` as one function (the generated code's fallback)."""

    def composed(variables: Mapping[str, Any]) -> Any:
        if not isinstance(variables, Mapping):
            raise not_a_mapping(variables, scope)
        return evaluate(read(variables))

    return composed


def not_a_mapping(variables: object, scope: Scope) -> TypeError:
    """The error for variables that are not a mapping of root names to values."""
    names = ", ".join(f"`{name}`" for name in list(scope.roots)[:5])
    more = ", ..." if len(scope.roots) > 5 else ""
    return TypeError(
        f"expected a mapping of the scope's names ({names}{more}) to values, "
        f"got {type(variables).__name__}"
    )
