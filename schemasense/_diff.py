"""Differences between two contract versions, each classified breaking or not."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ._contract import ColumnContract, Contract


class ChangeKind(enum.StrEnum):
    COLUMN_ADDED = "column_added"
    COLUMN_REMOVED = "column_removed"
    TYPE_CHANGED = "type_changed"
    NULLABILITY_CHANGED = "nullability_changed"
    CATEGORIES_CHANGED = "categories_changed"
    RANGE_CHANGED = "range_changed"
    UNIQUENESS_CHANGED = "uniqueness_changed"


@dataclass(frozen=True)
class Change:
    """One difference; ``breaking`` when data valid under the new contract may break old readers."""

    kind: ChangeKind
    column: str
    detail: str
    breaking: bool

    def __str__(self) -> str:
        return f"{self.column}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "column": self.column,
            "detail": self.detail,
            "breaking": self.breaking,
        }


@dataclass(frozen=True)
class SchemaDiff:
    """All changes from ``old`` to ``new``."""

    changes: tuple[Change, ...]

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {"breaking": self.breaking, "changes": [c.to_dict() for c in self.changes]}


def diff(old: Contract, new: Contract) -> SchemaDiff:
    """List what changed between two contracts.

    An added nullable column, a column becoming nullable-free, new categories or a wider range
    are additive; anything a consumer of the old data could trip on is breaking.

    >>> from schemasense import ColumnContract, LogicalType
    >>> old = Contract("t", {"a": ColumnContract("a", LogicalType.INTEGER)})
    >>> new = old.with_columns(ColumnContract("b", LogicalType.STRING))
    >>> [str(c) for c in diff(old, new).changes], diff(old, new).breaking
    (['b: column added (string)'], False)
    """
    changes: list[Change] = []
    for name, column in new.columns.items():
        if name not in old.columns:
            changes.append(
                Change(
                    ChangeKind.COLUMN_ADDED,
                    name,
                    f"column added ({column.logical_type.value})",
                    breaking=False,
                )
            )
    for name, column in old.columns.items():
        if name not in new.columns:
            changes.append(Change(ChangeKind.COLUMN_REMOVED, name, "column removed", breaking=True))
        else:
            changes.extend(_column_changes(column, new.columns[name]))
    return SchemaDiff(tuple(changes))


def _column_changes(old: ColumnContract, new: ColumnContract) -> list[Change]:
    name = old.name
    out: list[Change] = []
    if old.logical_type != new.logical_type:
        widened = {old.logical_type.value, new.logical_type.value} == {"integer", "float"} and (
            new.logical_type.value == "float"
        )
        out.append(
            Change(
                ChangeKind.TYPE_CHANGED,
                name,
                f"{old.logical_type.value} → {new.logical_type.value}",
                breaking=not widened,
            )
        )
    if old.nullable != new.nullable:
        out.append(
            Change(
                ChangeKind.NULLABILITY_CHANGED,
                name,
                "now nullable" if new.nullable else "no longer nullable",
                breaking=new.nullable,
            )
        )
    if old.allowed != new.allowed and old.allowed is not None and new.allowed is not None:
        added = sorted(set(new.allowed) - set(old.allowed))
        removed = sorted(set(old.allowed) - set(new.allowed))
        detail = ", ".join(
            p for p in (f"added {added}" if added else "", f"removed {removed}" if removed else "") if p
        )
        out.append(Change(ChangeKind.CATEGORIES_CHANGED, name, f"categories {detail}", breaking=bool(added)))
    if (old.minimum, old.maximum) != (new.minimum, new.maximum):
        out.append(
            Change(
                ChangeKind.RANGE_CHANGED,
                name,
                f"range [{old.minimum}, {old.maximum}] → [{new.minimum}, {new.maximum}]",
                breaking=_wider(old, new),
            )
        )
    if old.unique != new.unique:
        out.append(
            Change(
                ChangeKind.UNIQUENESS_CHANGED,
                name,
                "now unique" if new.unique else "no longer unique",
                breaking=old.unique,
            )
        )
    return out


def _wider(old: ColumnContract, new: ColumnContract) -> bool:
    """Whether ``new`` admits values ``old`` rejected (consumers may not expect them)."""
    low = old.minimum is not None and (new.minimum is None or new.minimum < old.minimum)
    high = old.maximum is not None and (new.maximum is None or new.maximum > old.maximum)
    return low or high
