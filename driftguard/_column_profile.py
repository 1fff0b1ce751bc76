"""One column's counts: exact counts on bins (numeric) or of categories, mergeable.

Two column profiles on the same bins merge by adding counts; a profile serialises to plain JSON
types. Profiles stored before sketches were dropped still load (their sketches are ignored).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .errors import IncompatibleProfilesError

OTHER = "__other__"
"""The category that counts every value outside the tracked ones."""
RETIRED_FIELDS = ("quantile_sketch", "distinct_sketch")
"""Keys of profiles stored by earlier versions (KLL and HLL sketches), ignored when read."""


@dataclass(frozen=True)
class ColumnProfile:
    """Counts of one column. ``kind`` is ``numeric``, ``categorical`` or ``skipped``."""

    name: str
    kind: str
    rows: int
    missing: int
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    sums: tuple[float, ...] = ()
    categories: tuple[tuple[str, int], ...] = ()
    total: float = 0.0
    total_squares: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    note: str = ""

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def mean(self) -> float | None:
        return self.total / self.present if self.kind == "numeric" and self.present else None

    @property
    def std(self) -> float | None:
        if self.kind != "numeric" or self.present < 2:
            return None
        variance = (self.total_squares - self.total**2 / self.present) / (self.present - 1)
        return float(np.sqrt(max(variance, 0.0)))

    def quantiles(self, ranks: list[float]) -> list[float]:
        """Quantiles of a numeric column read from its bins, ``[]`` without values.

        A bin's values are taken as spread evenly between its edges (the first bin's from the
        minimum, the last one's up to the maximum): off by at most the width of one bin, which
        on a reference's own bins holds about 1% of its values.
        """
        if self.kind != "numeric" or self.minimum is None or self.maximum is None or not self.present:
            return []
        edges = [min(self.minimum, *self.edges[:1]), *self.edges, max(self.maximum, *self.edges[-1:])]
        shares = np.concatenate(([0.0], np.cumsum(self.counts))) / self.present
        return [float(q) for q in np.interp(ranks, shares, edges)]

    def frequencies(self) -> dict[str, int]:
        """Exact counts of present values, keyed by category or by bin label."""
        if self.kind == "numeric":
            return dict(zip(bin_labels(self.edges), self.counts, strict=True))
        return dict(self.categories)

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if (self.name, self.kind, self.edges) != (other.name, other.kind, other.edges):
            raise IncompatibleProfilesError(
                f"column {self.name!r}: cannot merge a {self.kind} profile with a {other.kind} one "
                "on different bins; profile both batches like the same reference"
            )
        categories = Counter(dict(self.categories))
        categories.update(dict(other.categories))
        return replace(
            self,
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            sums=tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            categories=tuple(sorted(categories.items())),
            total=self.total + other.total,
            total_squares=self.total_squares + other.total_squares,
            minimum=_pick(min, self.minimum, other.minimum),
            maximum=_pick(max, self.maximum, other.maximum),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["edges"], data["counts"], data["sums"] = list(self.edges), list(self.counts), list(self.sums)
        data["categories"] = [list(item) for item in self.categories]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            **{
                **{k: v for k, v in data.items() if k not in RETIRED_FIELDS},
                "edges": tuple(float(e) for e in data.get("edges", ())),
                "counts": tuple(int(c) for c in data.get("counts", ())),
                "sums": tuple(float(c) for c in data.get("sums", ())),
                "categories": tuple((str(k), int(v)) for k, v in data.get("categories", ())),
            }
        )


def bin_labels(edges: tuple[float, ...]) -> list[str]:
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "inf"]
    return [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _pick(choose: Any, a: float | None, b: float | None) -> float | None:
    present = [v for v in (a, b) if v is not None]
    return choose(present) if present else None
