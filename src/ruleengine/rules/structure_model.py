"""What the rule-file models are written with, so that a valid file loads without pydantic.

Importing pydantic and building the rule-file models' validators costs a command more than
everything else it does (about 140 ms of CPU of `ruleengine eval`'s 250 ms, measured in
docs/performance.md). So `rules.models` declares its classes on `Model`, with this module's
`Field`, `Strict`, `BeforeValidator`, `AfterValidator` and `model_validator`: the same
declarations, spelt as in pydantic, recorded but not acted on. The format is declared once,
there; from that declaration this module derives two readers:

- `pydantic_model(cls)`: the pydantic model of a class, built on first use. It is the
  reference: every error of a file, worded by `structure` as RE2xx diagnostics, the JSON
  Schema (`schema_export`), and the result whenever the fast reader is not sure.
- the fast reader (`validate_model`): walks the same declarations over the plain data of a
  file and builds the instances directly. It accepts only what it can tell is valid and gives
  what pydantic gives for it (same types, same values, same defaults); on anything else
  (a wrong type, a value out of range, a validator that refuses, an unusual spelling that
  pydantic may still accept) it declines, and pydantic decides: its errors, or its valid
  instances, converted. Tests check that both readers agree on every example and corpus file.

Instances are frozen, compare and hash by value, and have the parts of pydantic's API the
package uses (`model_fields_set`, `model_dump`, `model_validate`, `model_json_schema`).
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

from ruleengine.expr.runtime import DAY_TEXT

_MISSING: Any = object()
ModelT = TypeVar("ModelT", bound="Model")


# -- the declarations, recorded --------------------------------------------------------------


class FieldSpec:
    """What `Field(...)` was given: a default and pydantic's keyword arguments."""

    __slots__ = ("default", "options")

    def __init__(self, default: Any, options: dict[str, Any]) -> None:
        self.default = default
        self.options = options

    def to_pydantic(self) -> Any:
        import pydantic

        if self.default is _MISSING:
            return pydantic.Field(**self.options)
        return pydantic.Field(self.default, **self.options)


def Field(default: Any = _MISSING, **options: Any) -> Any:  # noqa: N802 - pydantic's spelling
    """pydantic's `Field`, recorded (see the module's docstring)."""
    return FieldSpec(default, options)


class Strict:
    """pydantic's `Strict()`: no lax conversion (`"3"` or `true` for a whole number)."""


class BeforeValidator:
    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


class AfterValidator:
    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


F = TypeVar("F", bound=Callable[..., Any])


def model_validator(*, mode: Literal["after"]) -> Callable[[F], F]:
    """pydantic's `model_validator(mode="after")`, recorded on the function."""

    def mark(func: F) -> F:
        func.__model_validator__ = mode  # type: ignore[attr-defined]
        return func

    return mark


def custom_error(code: str, message: str, context: dict[str, Any] | None = None) -> Exception:
    """pydantic_core's `PydanticCustomError`, for the models' own validators (it is raised only
    for a refused value, so pydantic_core is imported then)."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(code, message, context)


# -- the base class ----------------------------------------------------------------------------


class _DeclinedError(Exception):
    """The fast reader is not sure: pydantic decides."""


class Model:
    """A frozen rule-file model; see the module's docstring. Subclasses declare fields as
    pydantic models do, and `model_config` as a dict of pydantic's configuration."""

    model_config: ClassVar[dict[str, Any]] = {}
    model_fields_set: set[str]

    def __init__(self, **data: Any) -> None:
        _fill(self, type(self).model_validate(data))

    @classmethod
    def model_validate(cls: type[ModelT], data: Any) -> ModelT:
        """The instance for `data`: pydantic's result, raising its ValidationError."""
        found = validate_model(cls, data)
        if found is not None:
            return found
        return from_pydantic(cls, pydantic_model(cls).model_validate(_as_pydantic_data(data)))

    @classmethod
    def model_json_schema(cls, **options: Any) -> dict[str, Any]:
        schema: dict[str, Any] = pydantic_model(cls).model_json_schema(**options)
        return schema

    def model_dump(
        self, *, mode: Literal["python", "json"] = "python", by_alias: bool = False
    ) -> Any:
        """The values as plain data, as pydantic's `model_dump` gives them."""
        return {
            (plan.key if by_alias else plan.name): _dump(getattr(self, plan.name), mode, by_alias)
            for plan in _plans(type(self))
        }

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, plan.name) for plan in _plans(type(self)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # as pydantic's: not `model_fields_set`

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        values = ", ".join(f"{p.name}={getattr(self, p.name)!r}" for p in _plans(type(self)))
        return f"{type(self).__name__}({values})"


def _fill(target: Model, source: Model) -> None:
    for name, value in source.__dict__.items():
        object.__setattr__(target, name, value)


def _dump(value: Any, mode: str, by_alias: bool) -> Any:
    if isinstance(value, Model):
        return value.model_dump(mode=mode, by_alias=by_alias)  # type: ignore[arg-type]
    if isinstance(value, list):
        return [_dump(item, mode, by_alias) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item, mode, by_alias) for key, item in value.items()}
    if mode == "json":
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
    return value


# -- the fields of a class, from its declarations ----------------------------------------------


class _Plan:
    """One field: its name, its key in the file, its default and its fast check."""

    __slots__ = ("check", "default", "factory", "key", "name")

    def __init__(self, name: str, key: str, default: Any, factory: Any, check: Any) -> None:
        self.name = name
        self.key = key
        self.default = default
        self.factory = factory
        self.check: Callable[[Any], Any] = check


_PLANS: dict[type[Model], tuple[_Plan, ...]] = {}
_KEYS: dict[type[Model], dict[str, _Plan]] = {}


def _hints(cls: type[Model]) -> dict[str, Any]:
    """The declared fields of `cls` and their types, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return {
        name: hint
        for name, hint in hints.items()
        if name not in Model.__annotations__ and typing.get_origin(hint) is not ClassVar
    }


def _plans(cls: type[Model]) -> tuple[_Plan, ...]:
    plans = _PLANS.get(cls)
    if plans is None:
        found = []
        for name, hint in _hints(cls).items():
            declared = getattr(cls, name, _MISSING)
            default, factory, key = declared, None, name
            if isinstance(declared, FieldSpec):
                default = declared.default
                factory = declared.options.get("default_factory")
                key = declared.options.get("alias", name)
            found.append(_Plan(name, key, default, factory, _checker(hint)))
        plans = tuple(found)
        _KEYS[cls] = {plan.key: plan for plan in plans}  # first: `_build` reads it after
        _PLANS[cls] = plans
    return plans


def _validators(cls: type[Model]) -> list[Callable[[Any], Any]]:
    return [
        value
        for klass in reversed(cls.__mro__)
        for value in vars(klass).values()
        if getattr(value, "__model_validator__", None) == "after"
    ]


# -- the fast reader ---------------------------------------------------------------------------


def validate_model(cls: type[ModelT], data: Any) -> ModelT | None:
    """The instance of `cls` for plain `data` when the fast reader is sure it is valid;
    None otherwise (pydantic then decides)."""
    try:
        return _build(cls, data)
    except (_DeclinedError, ValueError, TypeError, ArithmeticError):
        return None  # a check or a validator refused (PydanticCustomError is a ValueError)


def _build(cls: type[ModelT], data: Any) -> ModelT:
    if type(data) is cls:  # an instance is valid as it is (pydantic: revalidate "never")
        return data
    if type(data) is not dict:
        raise _DeclinedError
    plans = _plans(cls)
    keys = _KEYS[cls]
    for key in data:
        if key not in keys:
            raise _DeclinedError
    instance = object.__new__(cls)
    given: set[str] = set()
    for plan in plans:
        if plan.key in data:
            value = plan.check(data[plan.key])
            given.add(plan.name)
        elif plan.factory is not None:
            value = plan.factory()
        elif plan.default is not _MISSING:
            value = plan.default
        else:
            raise _DeclinedError
        object.__setattr__(instance, plan.name, value)
    object.__setattr__(instance, "model_fields_set", given)
    for validator in _validators(cls):
        validator(instance)
    return instance


def _checker(hint: Any) -> Callable[[Any], Any]:
    """The fast check of a declared type: the value pydantic gives for an input it is sure
    pydantic accepts, `_DeclinedError` for anything else."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return _annotated(args[0], args[1:])
    if origin in (typing.Union, types.UnionType):
        return _union(args)
    if origin is Literal:
        return _literal(args)
    if origin is list:
        item = _checker(args[0])
        return lambda value: [item(v) for v in _exactly(value, list)]
    if origin is dict:
        key_check, value_check = _checker(args[0]), _checker(args[1])
        return lambda value: {
            key_check(k): value_check(v) for k, v in _exactly(value, dict).items()
        }
    if isinstance(hint, type) and issubclass(hint, Model):
        return lambda value: _build(hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if hint in (str, int, bool):
        return lambda value: _exactly(value, hint)
    if hint is Decimal:
        return _decimal
    if hint is date:
        return _date
    raise NotImplementedError(f"the fast reader has no check for {hint!r}")


def _exactly(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise _DeclinedError
    return value


def _decimal(value: Any) -> Decimal:
    if type(value) not in (int, Decimal):
        raise _DeclinedError
    number = Decimal(value)
    if not number.is_finite():
        raise _DeclinedError
    return number


def _date(value: Any) -> date:
    if type(value) is not str or not DAY_TEXT.fullmatch(value):
        raise _DeclinedError
    return date.fromisoformat(value)  # ValueError: not a day, pydantic words it


def _enum(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is kind:
            return value
        if type(value) is not str:
            raise _DeclinedError
        return kind(value)  # ValueError: not a choice, pydantic words it

    return check


def _literal(choices: tuple[Any, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        for choice in choices:
            if type(value) is type(choice) and value == choice:
                return choice
        raise _DeclinedError

    return check


def _union(members: tuple[Any, ...]) -> Callable[[Any], Any]:
    optional = type(None) in members
    others = [m for m in members if m is not type(None)]
    if all(m in (str, bool, int, Decimal) for m in others):
        # pydantic's smart union keeps a value whose type is a member exactly as it is.
        def scalar(value: Any) -> Any:
            if (value is None and optional) or type(value) in others:
                return value
            raise _DeclinedError

        return scalar
    if len(others) != 1:
        raise NotImplementedError(f"the fast reader has no check for the union {members!r}")
    inner = _checker(others[0])
    return lambda value: None if value is None and optional else inner(value)


_CONSTRAINTS = {"gt", "ge", "le", "min_length", "pattern", "allow_inf_nan"}
_NOTES = {"description", "title", "alias", "default_factory"}


def _annotated(base: Any, metadata: tuple[Any, ...]) -> Callable[[Any], Any]:
    inner = _checker(base)
    before: list[Callable[[Any], Any]] = []
    after: list[Callable[[Any], Any]] = []
    limits: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldSpec):
            unknown = set(item.options) - _CONSTRAINTS - _NOTES
            if unknown:
                raise NotImplementedError(f"the fast reader has no check for {sorted(unknown)}")
            limits.update({k: v for k, v in item.options.items() if k in _CONSTRAINTS})
        elif isinstance(item, BeforeValidator):
            before.append(item.func)  # ours only check, and return the value unchanged
        elif isinstance(item, AfterValidator):
            after.append(item.func)
        elif not isinstance(item, Strict):  # the checks are strict already
            raise NotImplementedError(f"the fast reader has no check for {item!r}")
    if limits.get("allow_inf_nan", False):
        raise NotImplementedError("the fast reader reads finite numbers only")
    pattern = re.compile(limits["pattern"]) if "pattern" in limits else None

    def check(value: Any) -> Any:
        for validator in before:
            validator(value)
        result = inner(value)
        for validator in after:
            validator(result)
        if not _within(result, limits, pattern):
            raise _DeclinedError
        return result

    return check


def _within(value: Any, limits: dict[str, Any], pattern: re.Pattern[str] | None) -> bool:
    """Whether a value of the right type keeps its `Field` constraints. (pydantic's pattern
    `$` is the end of the text; Python's also matches before a final line break.)"""
    if pattern is not None and ("\n" in value or not pattern.search(value)):
        return False
    return not (
        ("min_length" in limits and len(value) < limits["min_length"])
        or ("gt" in limits and not value > limits["gt"])
        or ("ge" in limits and not value >= limits["ge"])
        or ("le" in limits and not value <= limits["le"])
    )


# -- the pydantic models, built on first use ---------------------------------------------------


_PYDANTIC: dict[type[Model], Any] = {}


def pydantic_model(cls: type[Model]) -> Any:
    """The pydantic model of `cls`: the same name, fields, defaults, validators, docstring and
    configuration (so the same errors and JSON Schema), built once per process."""
    built = _PYDANTIC.get(cls)
    if built is not None:
        return built
    import pydantic

    config: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        config.update(vars(klass).get("model_config", {}))
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__annotations__": annotations,
        "model_config": pydantic.ConfigDict(**config),  # type: ignore[typeddict-item]
    }
    for name, hint in _hints(cls).items():
        annotations[name] = _to_pydantic(hint)
        declared = getattr(cls, name, _MISSING)
        if isinstance(declared, FieldSpec):
            namespace[name] = declared.to_pydantic()
        elif declared is not _MISSING:
            namespace[name] = declared
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if getattr(value, "__model_validator__", None) == "after":
                namespace[name] = pydantic.model_validator(mode="after")(value)
            elif isinstance(value, property):
                namespace[name] = value
    built = type(cls.__name__, (pydantic.BaseModel,), namespace)
    _LIGHT[built] = cls  # first: a thread that finds `built` converts its instances
    _PYDANTIC[cls] = built
    return built


_LIGHT: dict[Any, type[Model]] = {}


def _to_pydantic(hint: Any) -> Any:
    """A declared type with our records replaced by pydantic's own objects."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return typing.Annotated[(_to_pydantic(args[0]), *map(_metadata, args[1:]))]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_to_pydantic(a) for a in args)]  # noqa: UP007 - built from a tuple
    if origin is list:
        return list[_to_pydantic(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_to_pydantic(args[0]), _to_pydantic(args[1])]  # type: ignore[misc]
    if isinstance(hint, type) and issubclass(hint, Model):
        return pydantic_model(hint)
    return hint


def _metadata(item: Any) -> Any:
    import pydantic

    if isinstance(item, FieldSpec):
        return item.to_pydantic()
    if isinstance(item, Strict):
        return pydantic.Strict()
    if isinstance(item, BeforeValidator):
        return pydantic.BeforeValidator(item.func)
    if isinstance(item, AfterValidator):
        return pydantic.AfterValidator(item.func)
    return item


def from_pydantic(cls: type[ModelT], value: Any) -> ModelT:
    """Our instance of a valid pydantic instance of `pydantic_model(cls)`."""
    instance = object.__new__(cls)
    for plan in _plans(cls):
        object.__setattr__(instance, plan.name, _converted(getattr(value, plan.name)))
    object.__setattr__(instance, "model_fields_set", set(value.model_fields_set))
    return instance


def _as_pydantic_data(value: Any) -> Any:
    """`value` with our instances in it as pydantic's (which pydantic takes as they are)."""
    if isinstance(value, Model):
        values = {p.name: _as_pydantic_data(getattr(value, p.name)) for p in _plans(type(value))}
        fields_set = value.model_fields_set
        return pydantic_model(type(value)).model_construct(fields_set, **values)
    if isinstance(value, list):
        return [_as_pydantic_data(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_pydantic_data(item) for key, item in value.items()}
    return value


def _converted(value: Any) -> Any:
    light = _LIGHT.get(type(value))
    if light is not None:
        return from_pydantic(light, value)
    if isinstance(value, list):
        return [_converted(item) for item in value]
    if isinstance(value, dict):
        return {key: _converted(item) for key, item in value.items()}
    return value


def as_pydantic(annotation: Any) -> Any:
    """A model class as pydantic's (for code that walks pydantic's fields); anything else as
    it is."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return pydantic_model(annotation)
    return annotation
