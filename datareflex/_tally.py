"""What verification counts while a batch is handled in parts: rows, notes, batch-level totals."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import driftguard
from schemasense import REASON_COLUMN, Contract, Rule
from schemasense._validate import MIN_NULL_BURST  # the batch rule, judged here on the totals

from ._loop import _Acted
from ._verify import _UNRESOLVED, repaired_columns, still_drifting

_COUNT = re.compile(r"(?<![\d.])\d+(?![\d.])")
"""The first whole number of an action's note is its count: a part's counts add up."""


@dataclass
class PartsTally:
    """What acting on parts of a batch removed, held and said, and what verification counted;
    the tallies of consecutive parts :meth:`merge` into the batch's."""

    contract: Contract
    rows: int = 0
    published: int = 0
    removed: int = 0
    held: int = 0
    unresolved: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    """Each note's text with its first whole number taken out, and that number summed."""
    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    nulls: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    profile: driftguard.Profile | None = None

    def add(self, part: pd.DataFrame, acted: _Acted) -> None:
        self.rows += len(part)
        self.contract = acted.contract
        for note in acted.notes:
            found = _COUNT.search(note)
            template = note if found is None else note[: found.start()] + "{}" + note[found.end() :]
            self.counts[template] = self.counts.get(template, 0) + (int(found.group()) if found else 0)
        if not self.records:
            self.records = [(s, k, dict(d)) for s, k, d in acted.records]
        else:
            _add_rows(self.records, acted.records)

    def merge(self, later: PartsTally) -> PartsTally:
        """This tally and ``later``'s (of the rows after these) as one."""
        total = PartsTally(later.contract if later.rows else self.contract)
        for name in ("rows", "published", "removed", "held", "unresolved"):
            setattr(total, name, getattr(self, name) + getattr(later, name))
        total.counts = dict(self.counts)
        for template, count in later.counts.items():
            total.counts[template] = total.counts.get(template, 0) + count
        total.records = [(s, k, dict(d)) for s, k, d in self.records or later.records]
        if self.records and later.records:
            _add_rows(total.records, later.records)
        total.nulls = self.nulls + later.nulls
        total.problems = [*self.problems, *(p for p in later.problems if p not in self.problems)]
        profiles = [p for p in (self.profile, later.profile) if p is not None]
        total.profile = profiles[0].merge(profiles[1]) if len(profiles) == 2 else next(iter(profiles), None)
        return total

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(t.replace("{}", str(n), 1) if "{}" in t else t for t, n in self.counts.items())

    def verify_part(
        self,
        frame: pd.DataFrame,
        repeated: pd.Series | None,
        reference: driftguard.Profile | None,
        repaired: Sequence[tuple[str, str]],
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The part's rows that may be published, and those held as unresolved (row rules, a
        key of an earlier part: ``repeated``); batch-level counts are kept for :meth:`judge`."""
        result = self.contract.validate(frame)
        self.problems += [
            f"{v.column}: {v.rule.value}"
            for v in result.batch_violations
            if v.rule is not Rule.NULL_FRACTION and f"{v.column}: {v.rule.value}" not in self.problems
        ]
        valid, invalid = result.valid, result.invalid
        if repeated is not None and len(valid):
            again = repeated.reindex(valid.index)
            invalid = pd.concat([invalid, valid[again.notna()].assign(**{REASON_COLUMN: again.dropna()})])
            valid = valid[again.isna()]
        for name, column in self.contract.columns.items():
            if column.max_null_fraction is not None and name in valid:
                self.nulls[name] += int(valid[name].isna().sum())
        columns = repaired_columns(valid.columns, reference, repaired)
        if columns and reference is not None and len(valid):
            part = driftguard.profile(valid[columns], like=reference, sample_rows=0)
            self.profile = part if self.profile is None else self.profile.merge(part)
        self.published += len(valid)
        self.unresolved += len(invalid)
        return valid, invalid.assign(**{REASON_COLUMN: _UNRESOLVED + invalid[REASON_COLUMN]})

    def judge(
        self,
        acknowledged: set[tuple[str, str]],
        reference: driftguard.Profile | None,
        repaired: Sequence[tuple[str, str]],
    ) -> list[str]:
        """Batch-level problems of what would be published: a null share over its cap, a
        schema change still there, drift an action should have repaired."""
        problems = list(self.problems)
        for name, nulls in sorted(self.nulls.items()):
            cap = self.contract.columns[name].max_null_fraction
            if (name, Rule.NULL_FRACTION.value) in acknowledged or cap is None:
                continue
            if nulls >= MIN_NULL_BURST and self.published and nulls / self.published > cap:
                problems.append(f"{name}: {Rule.NULL_FRACTION.value}")
        if reference is not None and self.profile is not None:
            problems += still_drifting(self.profile, reference, repaired)
        return problems


def _add_rows(
    records: list[tuple[str, str, dict[str, Any]]], more: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Add the rows of ``more`` (the same steps' records of other parts) into ``records``."""
    for (_, _, total), (_, _, detail) in zip(records, more, strict=True):
        for count in ("rows_removed", "rows_held"):
            if count in total:
                total[count] += detail[count]
