"""The data contract: what every column of a dataset must satisfy."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from ._coerce import canonical
from ._types import LogicalType, Role
from .errors import ContractError

if TYPE_CHECKING:
    from ._validate import ValidationResult

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: a contract is read several times a run."""

_COLUMN_KEYS = {
    "type",
    "optional",
    "nullable",
    "max_null_fraction",
    "minimum",
    "maximum",
    "allowed",
    "unique",
    "pattern",
    "datetime_format",
    "datetime_candidates",
    "role",
    "role_reason",
    "categories_open",
    "new_value_rate",
}


@dataclass(frozen=True)
class ColumnContract:
    """The rules one column must satisfy.

    ``nullable`` says whether a row may miss a value; ``max_null_fraction`` caps the share of
    missing values in a batch. ``minimum``/``maximum`` bound numbers (``None``: unbounded);
    ``allowed`` lists a category's values; ``unique`` marks a key; ``pattern`` is a regular
    expression every value must match in full; ``datetime_format`` is how text dates are written.
    ``datetime_candidates`` lists the formats still possible while training could not tell day
    from month (``datetime_format`` is then ``None``; see :func:`schemasense.settle`).
    ``role`` says what the column is for and ``role_reason`` why; ``categories_open`` marks a
    category whose new values are reported, not rejected; ``new_value_rate`` is the share of
    later rows training expects to bring a value it never saw (Good–Turing: the share of
    training rows whose value appeared once), so only more new values than that are news.
    """

    name: str
    logical_type: LogicalType
    nullable: bool = True
    max_null_fraction: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False
    pattern: str | None = None
    datetime_format: str | None = None
    datetime_candidates: tuple[str, ...] = ()
    role: Role = Role.ATTRIBUTE
    role_reason: str = ""
    categories_open: bool = False
    new_value_rate: float | None = None
    optional: bool = False
    """A batch may leave the column out: it joined the contract as an addition, so batches
    from before it (and sources that never send it) are still whole."""

    @property
    def formats(self) -> tuple[str, ...]:
        """The date formats a value may be written in (none: not a text date)."""
        return (self.datetime_format,) if self.datetime_format else self.datetime_candidates

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.logical_type.value, "nullable": self.nullable}
        for key in ("max_null_fraction", "minimum", "maximum", "pattern", "datetime_format"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.allowed is not None:
            out["allowed"] = list(self.allowed)
        if self.unique:
            out["unique"] = True
        if self.datetime_candidates:
            out["datetime_candidates"] = list(self.datetime_candidates)
        if self.role is not Role.ATTRIBUTE or self.role_reason:
            out["role"] = self.role.value
            out["role_reason"] = self.role_reason
        if self.categories_open:
            out["categories_open"] = True
        if self.new_value_rate is not None:
            out["new_value_rate"] = self.new_value_rate
        if self.optional:
            out["optional"] = True
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> ColumnContract:
        unknown = set(data) - _COLUMN_KEYS
        if unknown:
            raise ContractError(
                f"column {name!r}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(_COLUMN_KEYS)}"
            )
        try:
            logical_type = LogicalType(data["type"])
        except (KeyError, ValueError):
            valid = [t.value for t in LogicalType]
            raise ContractError(f"column {name!r}: 'type' must be one of {valid}") from None
        allowed = data.get("allowed")
        try:
            role = Role(data.get("role", Role.ATTRIBUTE))
        except ValueError:
            raise ContractError(f"column {name!r}: 'role' must be one of {[r.value for r in Role]}") from None
        return cls(
            name=name,
            logical_type=logical_type,
            nullable=bool(data.get("nullable", True)),
            max_null_fraction=_number(data.get("max_null_fraction")),
            minimum=_number(data.get("minimum")),
            maximum=_number(data.get("maximum")),
            allowed=None if allowed is None else tuple(str(v) for v in allowed),
            unique=bool(data.get("unique", False)),
            pattern=data.get("pattern"),
            datetime_format=data.get("datetime_format"),
            datetime_candidates=tuple(data.get("datetime_candidates") or ()),
            role=role,
            role_reason=str(data.get("role_reason", "")),
            categories_open=bool(data.get("categories_open", False)),
            new_value_rate=_number(data.get("new_value_rate")),
            optional=bool(data.get("optional", False)),
        )


@dataclass(frozen=True)
class Contract:
    """A named, versioned set of column contracts.

    >>> import schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(30), "kind": ["a", "b"] * 15}))
    >>> contract.columns["kind"].allowed
    ('a', 'b')
    >>> Contract.from_yaml(contract.to_yaml()) == contract
    True
    """

    name: str
    columns: dict[str, ColumnContract] = field(default_factory=dict)
    version: int = 1
    note: str = ""

    def drift_exclusions(self) -> dict[str, str]:
        """Columns a drift test must skip, each with the reason a person reads.

        Identifiers, timestamps and calendar columns differ between batches by construction.

        >>> import schemasense
        >>> days = [pd.DataFrame({"day": [d] * 30, "n": [1, 2, 3] * 10}) for d in (1, 2, 3)]
        >>> schemasense.infer(days).drift_exclusions()
        {'day': 'calendar: one value per training batch, never repeated in a later batch'}
        """
        return {
            name: f"{c.role.value}: {c.role_reason}"
            for name, c in self.columns.items()
            if c.role.moves_with_batches
        }

    def validate(self, df: pd.DataFrame) -> ValidationResult:
        """Check every row of ``df``; see :func:`schemasense.validate`."""
        from ._validate import validate

        return validate(self, df)

    def coerce(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with each contract column in its canonical storage type.

        Values that cannot be converted become missing: validate first to know which rows.
        """
        out = df.copy()
        for name, column in self.columns.items():
            if name in out.columns:
                out[name] = canonical(out[name], column.logical_type, column.formats)
        return out

    def with_columns(self, *columns: ColumnContract) -> Contract:
        """A new version that adds or replaces ``columns``."""
        merged = dict(self.columns)
        merged.update({c.name: c for c in columns})
        note = "changed " + ", ".join(c.name for c in columns)
        return replace(self, columns=merged, version=self.version + 1, note=note)

    def with_keys(self, keys: Sequence[str]) -> Contract:
        """The same version with ``keys`` as its only unique columns, each never null.

        Keys are declared, not guessed: a column that merely did not repeat in training (an
        e-mail, say) stops being unique. A numeric key has no upper bound (tomorrow's ids
        exceed today's maximum); otherwise each column keeps its type and bounds.

        >>> import schemasense
        >>> emails = ["a@x.io", "b@x.io", "c@x.io", "d@x.io"]
        >>> df = pd.DataFrame({"id": ["a1", "a2", "a2", None], "email": emails})
        >>> contract = schemasense.infer(df, min_rows_for_key=1).with_keys(["id"])
        >>> [(n, c.unique, c.nullable) for n, c in contract.columns.items()]
        [('id', True, False), ('email', False, False)]
        >>> contract.validate(df).invalid["_reason"].tolist()
        ['id: a2 repeats an earlier row', 'id: missing value']
        >>> contract.with_keys(["order_id"])
        Traceback (most recent call last):
        ...
        schemasense.errors.ContractError: keys ['order_id'] are not columns of contract 'dataset' (id, email)
        """
        keys = [keys] if isinstance(keys, str) else list(keys)
        missing = [k for k in keys if k not in self.columns]
        if missing:
            raise ContractError(
                f"keys {missing} are not columns of contract {self.name!r} ({', '.join(self.columns)})"
            )
        columns = {}
        for name, column in self.columns.items():
            if name in keys:
                maximum = None if column.logical_type.is_numeric else column.maximum
                column = replace(column, unique=True, nullable=False, max_null_fraction=None, maximum=maximum)
            elif column.unique:
                column = replace(column, unique=False)
            columns[name] = column
        return replace(self, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.note:
            out["note"] = self.note
        out["columns"] = {name: c.to_dict() for name, c in self.columns.items()}
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contract:
        if not isinstance(data, Mapping) or "name" not in data:
            raise ContractError("a contract needs a 'name' and a 'columns' mapping")
        columns = data.get("columns") or {}
        if not isinstance(columns, Mapping):
            raise ContractError("'columns' must map column names to their rules")
        return cls(
            name=str(data["name"]),
            version=int(data.get("version", 1)),
            note=str(data.get("note", "")),
            columns={str(n): ColumnContract.from_dict(str(n), c) for n, c in columns.items()},
        )

    @classmethod
    def from_yaml(cls, text: str) -> Contract:
        try:
            data = yaml.load(text, Loader=_SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise ContractError(f"not valid YAML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Contract:
        """Read a contract file; errors name the file."""
        try:
            return cls.from_yaml(Path(path).read_text())
        except ContractError as exc:
            raise ContractError(f"{path}: {exc}") from None

    def to_pandera(self) -> Any:
        """A pandera ``DataFrameSchema`` with the same rules."""
        from ._export import to_pandera

        return to_pandera(self)

    def to_great_expectations(self) -> Any:
        """A Great Expectations ``ExpectationSuite`` with the same rules."""
        from ._export import to_great_expectations

        return to_great_expectations(self)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(f"bounds must be numbers, got {value!r}")
    return float(value)
