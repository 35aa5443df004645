"""The what-if ``Profile``: the facts the rules scorer reads, validated, with defaults.

Its fields come from the field registry (``fields.py``, ``rules/fields.yaml``).

>>> Profile(sesame_score=680).utilization       # missing fields take DEFAULTS
0.3
>>> try:
...     Profile(sesame_score=1000)
... except ProfileError as exc:
...     print(exc)
sesame_score must be an integer between 350 and 950 (got 1000)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator

from assistant.whatif.fields import DEFAULTS, FIELD_SPECS, FIELDS, FieldSpec, Value, format_value
from knowledge.errors import ProfileError

__all__ = ["DEFAULTS", "FIELDS", "FIELD_SPECS", "FieldSpec", "Profile", "ProfileError",
           "check_value", "format_value"]


def _check(name: str, value: Any) -> Value:
    """Return ``value`` in canonical form or raise ProfileError naming the field and its range."""
    spec = FIELD_SPECS[name]
    bad = ProfileError(f"{name} must be {spec.describe_range()} (got {value!r})", field=name)
    if value is None:
        if spec.nullable:
            return None
        raise bad
    if spec.kind is bool:
        if isinstance(value, bool):
            return value
        if type(value) in (int, float) and value in (0, 1):
            return bool(value)  # the slot parser and JSON clients may send 0 / 1
        raise bad
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    if spec.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise bad
        value = int(value)
    else:
        # Four decimals (0.01%) is finer than anyone knows their utilization, and it keeps the
        # value the rules engine sees identical to the one Python compares.
        value = round(float(value), 4)
    if value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
        raise bad
    return value


class ProfileBase(BaseModel):
    """A person's credit facts, as far as the educational scorer is concerned.

    Frozen and hashable; build a changed copy with :meth:`with_changes`. The fields are added
    from the registry (``Profile``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ProfileError(
                f"unknown profile field(s) {', '.join(unknown)}; valid fields: {', '.join(FIELDS)}",
                field=unknown[0],
            )
        try:
            super().__init__(**data)
        except ValidationError as exc:
            locs = [err.get("loc", ()) for err in exc.errors()]
            field = str(locs[0][0]) if locs and locs[0] else None
            raise ProfileError(_first_message(exc), field=field) from None

    @field_validator("*", mode="before")
    @classmethod
    def _validate(cls, value: Any, info: Any) -> Any:
        return _check(info.field_name, value)

    def with_changes(self, **changes: Any) -> Profile:
        """A validated copy with some fields replaced; unknown names raise ProfileError."""
        return Profile(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Value]:
        return {name: getattr(self, name) for name in FIELDS}

    def key(self) -> tuple[Value, ...]:
        """The field values in FIELDS order (a cheap cache key)."""
        return tuple(getattr(self, name) for name in FIELDS)


def _annotation(spec: FieldSpec) -> Any:
    kind: Any = spec.kind
    return kind | None if spec.nullable else kind


if TYPE_CHECKING:

    class Profile(ProfileBase):
        def __getattr__(self, name: str) -> Any: ...

else:
    Profile = create_model(
        "Profile",
        __base__=ProfileBase,
        __module__=__name__,
        **{name: (_annotation(spec), spec.default) for name, spec in FIELD_SPECS.items()},
    )
    Profile.__doc__ = ProfileBase.__doc__


def _first_message(exc: ValidationError) -> str:
    messages = []
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ValueError):
            messages.append(str(inner))
        else:
            field = ".".join(str(p) for p in err.get("loc", ())) or "profile"
            messages.append(f"{field}: {err.get('msg', 'invalid value')}")
    return "; ".join(messages)


def check_value(name: str, value: Any) -> Value:
    """Validate one field on its own (used by the CLI and the slot parser)."""
    if name not in FIELD_SPECS:
        raise ProfileError(
            f"unknown profile field {name!r}; valid fields: {', '.join(FIELDS)}", field=name
        )
    return _check(name, value)
