"""What a person states about a column; inference respects it (``infer(columns={...})``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._contract import ColumnContract
from ._types import LogicalType, Role
from .errors import InferenceError


class ColumnDeclaration(BaseModel):
    """Per-column overrides of inference; every field left out is inferred.

    >>> ColumnDeclaration(role="identifier", min=-100000).role
    <Role.IDENTIFIER: 'identifier'>
    >>> ColumnDeclaration(colour="red")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ColumnDeclaration
    colour
      Extra inputs are not permitted [type=extra_forbidden, input_value='red', input_type=str]
    ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role | None = Field(
        default=None,
        description="What the column is for: attribute (compared with training), identifier, "
        "timestamp or calendar (new values in every batch: no range, no closed category, no drift test).",
    )
    categories: Literal["open", "closed"] | None = Field(
        default=None,
        description="open: a value never seen is reported as a new category, not rejected; "
        "closed: each row with an unknown value is rejected.",
    )
    min: float | None = Field(default=None, description="Smallest value allowed (numbers).")
    max: float | None = Field(default=None, description="Largest value allowed (numbers).")
    nullable: bool | None = Field(default=None, description="Whether a row may miss a value.")
    max_null_fraction: float | None = Field(
        default=None, ge=0, le=1, description="Largest share of missing values in one batch (0 to 1)."
    )
    type: LogicalType | None = Field(
        default=None, description="Logical type: integer, float, boolean, string, category or datetime."
    )
    format: str | None = Field(
        default=None, description="How text dates are written, as a strftime format such as %m/%d/%Y %H:%M."
    )
    pattern: str | None = Field(
        default=None, description="Regular expression every value must match in full."
    )
    unique: bool | None = Field(
        default=None, description="Whether no value may repeat within a batch (a key)."
    )


def declarations(columns: Mapping[str, Any] | None, known: list[str]) -> dict[str, ColumnDeclaration]:
    """Validated declarations by column; an unknown column or field is an error naming it."""
    out = {}
    for name, declared in (columns or {}).items():
        if name not in known:
            raise InferenceError(f"declared column {name!r} is not in the batches ({', '.join(known)})")
        try:
            out[name] = (
                declared
                if isinstance(declared, ColumnDeclaration)
                else ColumnDeclaration.model_validate(declared)
            )
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InferenceError(f"column {name!r}: {problems}") from None
    return out


def declare(column: ColumnContract, declared: ColumnDeclaration | None) -> ColumnContract:
    """``column`` with the stated bounds, nulls, pattern and key flag in place of the inferred ones."""
    if declared is None:
        return column
    stated = declared.model_dump(exclude_none=True)
    changes: dict[str, Any] = {
        field: stated[key]
        for key, field in (
            ("min", "minimum"),
            ("max", "maximum"),
            ("pattern", "pattern"),
            ("unique", "unique"),
        )
        if key in stated
    }
    if "nullable" in stated:
        changes["nullable"] = stated["nullable"]
        changes["max_null_fraction"] = column.max_null_fraction if stated["nullable"] else None
    if "max_null_fraction" in stated:
        changes["nullable"] = stated.get("nullable", True)
        changes["max_null_fraction"] = stated["max_null_fraction"]
    return replace(column, **changes)
