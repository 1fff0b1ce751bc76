"""Schema evolution: what a batch changes, what may be accepted alone, what waits for a person."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from ._contract import Contract
from ._diff import Change, ChangeKind, SchemaDiff, diff
from ._infer import infer


@dataclass(frozen=True)
class EvolutionPolicy:
    """What may change. Breaking changes wait for a person: ``accept_breaking`` is how the
    person's answer is applied (removed columns leave, renamed and retyped ones take the
    batch's form)."""

    accept_additive: bool = True
    accept_breaking: bool = False


@dataclass(frozen=True)
class Evolution:
    """The schema changes a batch brings, and the contract in force after applying the policy.

    ``accepted`` changes are in ``contract`` (a new version); ``pending`` ones are breaking and
    wait for a person; compatible changes that need no new version (a narrower type) are in
    ``diff`` only.
    """

    diff: SchemaDiff
    contract: Contract
    accepted: tuple[Change, ...]
    pending: tuple[Change, ...]

    @property
    def needs_approval(self) -> bool:
        return bool(self.pending)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.to_dict() for c in self.diff.changes],
            "accepted": [str(c) for c in self.accepted],
            "pending": [str(c) for c in self.pending],
            "contract_version": self.contract.version,
        }


def evolve(contract: Contract, batch: pd.DataFrame, policy: EvolutionPolicy | None = None) -> Evolution:
    """Compare the batch's columns and types with ``contract`` and apply ``policy``.

    Added columns are additive: with ``accept_additive`` they join a new version as nullable,
    optional columns (earlier batches did not have them, so a later batch may leave them out).
    Removed, renamed and retyped columns wait; a text column whose batch holds only digits (read
    as numbers by pandas) is not retyped.

    >>> import schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(50)}), name="t")
    >>> evolution = evolve(contract, pd.DataFrame({"id": range(50, 100), "note": ["x"] * 50}))
    >>> [str(c) for c in evolution.accepted], evolution.contract.version, evolution.needs_approval
    (['note: column added (category)'], 2, False)
    >>> without = pd.DataFrame({"note": ["x"] * 50})
    >>> evolve(contract, without).needs_approval, list(evolve(contract, without).contract.columns)
    (True, ['id', 'note'])
    >>> list(evolve(contract, without, EvolutionPolicy(accept_breaking=True)).contract.columns)
    ['note']
    """
    policy = policy or EvolutionPolicy()
    observed = _codes_stay_text(contract, infer(batch, name=contract.name)) if len(batch) else contract
    absent = {n: c for n, c in contract.columns.items() if c.optional and n not in observed.columns}
    observed = replace(observed, columns={**observed.columns, **absent})  # optional: never "removed"
    changes = diff(contract, observed).schema_level()
    added = (
        [c for c in changes.changes if c.kind is ChangeKind.COLUMN_ADDED] if policy.accept_additive else []
    )
    breaking = tuple(c for c in changes.changes if c.breaking)
    evolved = contract
    if added:
        columns = [
            replace(observed.columns[c.column], nullable=True, max_null_fraction=None, optional=True)
            for c in added
        ]
        evolved = contract.with_columns(*columns)
    if not policy.accept_breaking or not breaking:
        return Evolution(changes, evolved, tuple(added), breaking)
    after = dict(evolved.columns)
    for change in breaking:
        after.pop(change.column, None)
        kept = change.renamed_to or (change.column if change.kind is not ChangeKind.COLUMN_REMOVED else None)
        if kept is not None and kept in observed.columns:
            after[kept] = observed.columns[kept]
    accepted = Contract(name=contract.name, columns=after, version=evolved.version)
    return Evolution(changes, replace(accepted, version=contract.version + 1), (*added, *breaking), ())


def rebase(changed: Contract, base: Contract, onto: Contract) -> Contract:
    """``changed`` (made from ``base``) replayed on ``onto``, a newer version made meanwhile.

    Column by column, three-way: a column ``changed`` added, altered or removed relative to
    ``base`` takes ``changed``'s form; every other column keeps ``onto``'s, so neither change is
    lost. Where both changed one column, ``changed`` wins: it is the later decision.

    >>> import schemasense
    >>> base = schemasense.infer(pd.DataFrame({"id": range(50)}), name="t")
    >>> one = evolve(base, pd.DataFrame({"id": range(50), "a": ["x"] * 50})).contract
    >>> two = evolve(base, pd.DataFrame({"id": range(50), "b": ["y"] * 50})).contract
    >>> list(rebase(two, base, onto=one).columns), rebase(two, base, onto=one).version
    (['id', 'a', 'b'], 3)
    """
    columns = dict(onto.columns)
    for name in base.columns.keys() - changed.columns.keys():
        columns.pop(name, None)
    columns.update({n: c for n, c in changed.columns.items() if base.columns.get(n) != c})
    return Contract(name=onto.name, columns=columns, version=onto.version + 1)


def _codes_stay_text(contract: Contract, observed: Contract) -> Contract:
    """``observed`` with the contract's own rules for text columns that arrived as numbers."""
    kept = {
        name: contract.columns[name]
        for name, column in observed.columns.items()
        if name in contract.columns
        and contract.columns[name].logical_type.is_text
        and column.logical_type.is_numeric
    }
    return replace(observed, columns={**observed.columns, **kept}) if kept else observed
