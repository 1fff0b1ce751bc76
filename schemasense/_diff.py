"""Differences between two contracts (or a contract and a batch), each breaking or not.

A change is **breaking** when data valid under the new contract can be invalid under the old
one, so consumers written against the old contract may trip on it: a removed or renamed
column, a new type (widening included), new categories, a wider range, a lost key, a new
pattern or date format, more missing values. Tightening is not breaking. The one documented
exception is an added column: readers of the old contract select the columns they know, so it
is additive.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ._contract import ColumnContract, Contract


class ChangeKind(enum.StrEnum):
    COLUMN_ADDED = "column_added"
    COLUMN_REMOVED = "column_removed"
    COLUMN_RENAMED = "column_renamed"
    TYPE_WIDENED = "type_widened"
    TYPE_NARROWED = "type_narrowed"
    TYPE_CHANGED = "type_changed"
    NULLABILITY_CHANGED = "nullability_changed"
    CATEGORIES_ADDED = "categories_added"
    CATEGORIES_REMOVED = "categories_removed"
    RANGE_CHANGED = "range_changed"
    UNIQUENESS_CHANGED = "uniqueness_changed"
    PATTERN_CHANGED = "pattern_changed"
    FORMAT_CHANGED = "format_changed"

    @property
    def is_schema_level(self) -> bool:
        """Columns and types, as opposed to the rules on their values."""
        return self in _SCHEMA_LEVEL


_SCHEMA_LEVEL = frozenset(
    {
        ChangeKind.COLUMN_ADDED,
        ChangeKind.COLUMN_REMOVED,
        ChangeKind.COLUMN_RENAMED,
        ChangeKind.TYPE_WIDENED,
        ChangeKind.TYPE_NARROWED,
        ChangeKind.TYPE_CHANGED,
    }
)
_WIDENINGS = {("integer", "float"), ("category", "string"), ("boolean", "integer")}


@dataclass(frozen=True)
class Change:
    """One difference. ``renamed_to`` is set for a rename."""

    kind: ChangeKind
    column: str
    detail: str
    breaking: bool
    renamed_to: str | None = None

    def __str__(self) -> str:
        return f"{self.column}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "column": self.column,
            "detail": self.detail,
            "breaking": self.breaking,
            "renamed_to": self.renamed_to,
        }


@dataclass(frozen=True)
class SchemaDiff:
    """All changes from ``old`` to ``new``."""

    changes: tuple[Change, ...]

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    @property
    def additive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.breaking)

    def schema_level(self) -> SchemaDiff:
        """Only the changes to columns and types."""
        return SchemaDiff(tuple(c for c in self.changes if c.kind.is_schema_level))

    def to_dict(self) -> dict[str, Any]:
        return {"breaking": self.breaking, "changes": [c.to_dict() for c in self.changes]}


def diff(old: Contract, new: Contract) -> SchemaDiff:
    """List what changed between two contracts.

    A column removed and another added with matching statistics (same type and the same
    categories, pattern or date format, or overlapping ranges) is reported as a rename.

    >>> from schemasense import ColumnContract, LogicalType
    >>> old = Contract("t", {"a": ColumnContract("a", LogicalType.INTEGER, minimum=0, maximum=10)})
    >>> new = Contract("t", {"b": ColumnContract("b", LogicalType.INTEGER, minimum=0, maximum=12),
    ...                      "c": ColumnContract("c", LogicalType.STRING)})
    >>> [(str(c), c.breaking) for c in diff(old, new).changes]
    [('a: renamed to b', True), ('c: column added (string)', False), ('b: range [0, 10] → [0, 12]', True)]
    """
    removed = [c for n, c in old.columns.items() if n not in new.columns]
    added = [c for n, c in new.columns.items() if n not in old.columns]
    renames = _match_renames(removed, added)
    changes: list[Change] = []
    for before, after in renames:
        changes.append(
            Change(
                ChangeKind.COLUMN_RENAMED,
                before.name,
                f"renamed to {after.name}",
                breaking=True,
                renamed_to=after.name,
            )
        )
    renamed_old = {b.name for b, _ in renames}
    renamed_new = {a.name: b for b, a in renames}
    for column in added:
        if column.name not in renamed_new:
            changes.append(
                Change(
                    ChangeKind.COLUMN_ADDED,
                    column.name,
                    f"column added ({column.logical_type.value})",
                    breaking=False,
                )
            )
    for column in removed:
        if column.name not in renamed_old:
            changes.append(Change(ChangeKind.COLUMN_REMOVED, column.name, "column removed", breaking=True))
    for name, before in old.columns.items():
        if name in new.columns:
            changes.extend(column_changes(before, new.columns[name]))
    for after_name, before in renamed_new.items():
        changes.extend(column_changes(before, new.columns[after_name], label=after_name))
    return SchemaDiff(tuple(changes))


def column_changes(old: ColumnContract, new: ColumnContract, label: str | None = None) -> list[Change]:
    """Changes of one column's rules."""
    name = label or old.name
    return [
        *_type_changes(old, new, name),
        *_null_changes(old, new, name),
        *_category_changes(old, new, name),
        *_range_changes(old, new, name),
        *_rule_changes(old, new, name),
    ]


def _type_changes(old: ColumnContract, new: ColumnContract, name: str) -> list[Change]:
    before, after = old.logical_type.value, new.logical_type.value
    if before == after:
        return []
    if (before, after) in _WIDENINGS:
        kind = ChangeKind.TYPE_WIDENED
    elif (after, before) in _WIDENINGS:
        kind = ChangeKind.TYPE_NARROWED
    else:
        kind = ChangeKind.TYPE_CHANGED
    return [Change(kind, name, f"type {before} → {after}", breaking=kind is not ChangeKind.TYPE_NARROWED)]


def _null_changes(old: ColumnContract, new: ColumnContract, name: str) -> list[Change]:
    old_nulls = old.max_null_fraction if old.nullable else 0.0
    new_nulls = new.max_null_fraction if new.nullable else 0.0
    if (old.nullable, old_nulls) == (new.nullable, new_nulls):
        return []
    text = f"missing values allowed {_share(old_nulls)} → {_share(new_nulls)}"
    return [Change(ChangeKind.NULLABILITY_CHANGED, name, text, breaking=_more_nulls(old_nulls, new_nulls))]


def _category_changes(old: ColumnContract, new: ColumnContract, name: str) -> list[Change]:
    if old.allowed is None or new.allowed is None or old.allowed == new.allowed:
        return []
    added = sorted(set(new.allowed) - set(old.allowed))
    removed = sorted(set(old.allowed) - set(new.allowed))
    out = (
        [Change(ChangeKind.CATEGORIES_ADDED, name, f"categories added {added}", breaking=True)]
        if added
        else []
    )
    if removed:
        out.append(
            Change(ChangeKind.CATEGORIES_REMOVED, name, f"categories removed {removed}", breaking=False)
        )
    return out


def _range_changes(old: ColumnContract, new: ColumnContract, name: str) -> list[Change]:
    if (old.minimum, old.maximum) == (new.minimum, new.maximum) or not old.logical_type.is_numeric:
        return []
    before = f"[{_bound(old.minimum)}, {_bound(old.maximum)}]"
    text = f"range {before} → [{_bound(new.minimum)}, {_bound(new.maximum)}]"
    return [Change(ChangeKind.RANGE_CHANGED, name, text, breaking=_wider(old, new))]


def _rule_changes(old: ColumnContract, new: ColumnContract, name: str) -> list[Change]:
    """Uniqueness, pattern and date format."""
    out = []
    if old.unique != new.unique:
        text = "now unique" if new.unique else "no longer unique"
        out.append(Change(ChangeKind.UNIQUENESS_CHANGED, name, text, breaking=old.unique))
    if old.pattern != new.pattern:
        text = f"pattern {old.pattern!r} → {new.pattern!r}"
        out.append(Change(ChangeKind.PATTERN_CHANGED, name, text, breaking=old.pattern is not None))
    same_type = old.logical_type.value == new.logical_type.value == "datetime"
    if old.formats != new.formats and same_type:
        # Settling a day/month order narrows what is accepted: not breaking for batches that fit it.
        settled = set(new.formats) < set(old.formats)
        text = (
            f"date format {' or '.join(map(repr, old.formats)) or None} → "
            f"{' or '.join(map(repr, new.formats)) or None}"
        )
        out.append(Change(ChangeKind.FORMAT_CHANGED, name, text, breaking=not settled))
    return out


def _match_renames(
    removed: list[ColumnContract], added: list[ColumnContract]
) -> list[tuple[ColumnContract, ColumnContract]]:
    """Pair removed and added columns whose statistics match, best pairs first."""
    scored = []
    for before in removed:
        for after in added:
            score = _similarity(before, after)
            if score >= 2 or (score >= 1 and len(removed) == len(added) == 1):
                scored.append((score, before, after))
    pairs, used = [], set()
    for _, before, after in sorted(scored, key=lambda item: -item[0]):
        if before.name not in used and after.name not in used:
            pairs.append((before, after))
            used |= {before.name, after.name}
    return pairs


def _similarity(a: ColumnContract, b: ColumnContract) -> float:
    """How alike two columns' statistics are: 0 for different types, 1 for the type alone, more
    for shared categories, pattern, date format or overlapping ranges; less for differing keys."""
    if a.logical_type != b.logical_type:
        return 0.0
    score = 1.0
    if a.allowed is not None and b.allowed is not None:
        score += 2 * _jaccard(set(a.allowed), set(b.allowed))
    if a.pattern is not None and a.pattern == b.pattern:
        score += 2
    if a.datetime_format is not None and a.datetime_format == b.datetime_format:
        score += 2
    if a.minimum is not None and a.maximum is not None and b.minimum is not None and b.maximum is not None:
        overlap = min(a.maximum, b.maximum) - max(a.minimum, b.minimum)
        union = max(a.maximum, b.maximum) - min(a.minimum, b.minimum)
        score += 2 * overlap / union if union > 0 and overlap > 0 else 0.0
    if a.unique != b.unique:
        score -= 1
    return score


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _more_nulls(old: float | None, new: float | None) -> bool:
    old_cap = 1.0 if old is None else old
    new_cap = 1.0 if new is None else new
    return new_cap > old_cap


def _share(value: float | None) -> str:
    return "any share" if value is None else f"{value:.1%}"


def _bound(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _wider(old: ColumnContract, new: ColumnContract) -> bool:
    """Whether ``new`` admits values ``old`` rejected."""
    low = old.minimum is not None and (new.minimum is None or new.minimum < old.minimum)
    high = old.maximum is not None and (new.maximum is None or new.maximum > old.maximum)
    return low or high
