"""One column's counts: exact counts on bins (numeric) or of categories, sketches, mergeable.

Two column profiles on the same bins merge by adding counts and merging sketches; a profile
serialises to plain JSON types (sketches as base64).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import _sketches
from .errors import IncompatibleProfilesError

OTHER = "__other__"
"""The category that counts every value outside the tracked ones."""


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
    quantile_sketch: bytes | None = field(default=None, repr=False)
    distinct_sketch: bytes | None = field(default=None, repr=False)
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

    @property
    def distinct(self) -> float | None:
        """Estimated distinct values (HLL); ``None`` when there were too many to sketch."""
        return _sketches.distinct_estimate(self.distinct_sketch)

    def quantiles(self, ranks: list[float]) -> list[float]:
        return _sketches.quantiles(self.quantile_sketch, ranks) if self.quantile_sketch else []

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
        both = [v for v in (self.quantile_sketch, other.quantile_sketch) if v is not None]
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
            quantile_sketch=_sketches.merge_quantiles(*both)
            if len(both) == 2
            else (both[0] if both else None),
            distinct_sketch=_sketches.merge_distinct(self.distinct_sketch, other.distinct_sketch),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["edges"], data["counts"], data["sums"] = list(self.edges), list(self.counts), list(self.sums)
        data["categories"] = [list(item) for item in self.categories]
        data["quantile_sketch"] = _sketches.encode(self.quantile_sketch)
        data["distinct_sketch"] = _sketches.encode(self.distinct_sketch)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            **{
                **data,
                "edges": tuple(float(e) for e in data.get("edges", ())),
                "counts": tuple(int(c) for c in data.get("counts", ())),
                "sums": tuple(float(c) for c in data.get("sums", ())),
                "categories": tuple((str(k), int(v)) for k, v in data.get("categories", ())),
                "quantile_sketch": _sketches.decode(data.get("quantile_sketch")),
                "distinct_sketch": _sketches.decode(data.get("distinct_sketch")),
            }
        )


def bin_labels(edges: tuple[float, ...]) -> list[str]:
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "inf"]
    return [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _pick(choose: Any, a: float | None, b: float | None) -> float | None:
    present = [v for v in (a, b) if v is not None]
    return choose(present) if present else None
