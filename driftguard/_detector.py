"""The drift detector: fit on a reference, score each new batch with a calibrated verdict."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from . import _chi_square
from ._profile import Profile, profile
from ._report import ColumnDrift, DriftReport
from .errors import NotFittedError


class DriftDetector:
    """Column drift = statistically significant **and** practically large.

    A column drifts only when its chi-square p-value, adjusted across the batch's columns by
    Benjamini–Hochberg, is below ``alpha`` *and* its Jensen–Shannon distance is at least
    ``threshold``. The first guard keeps small batches from raising false alarms, the second
    keeps huge batches from flagging trivial shifts. Columns with fewer than ``min_rows``
    values in either sample report "insufficient data". The batch drifts when the share of
    drifted columns exceeds ``drift_share``.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(0, 1, 5000), "y": rng.normal(0, 1, 5000)})
    >>> current = pd.DataFrame({"x": rng.normal(0.5, 1, 1000), "y": rng.normal(0, 1, 1000)})
    >>> DriftDetector().fit(reference).score(current).drifted_columns
    ['x']
    """

    def __init__(
        self,
        alpha: float = 0.05,
        threshold: float = 0.1,
        min_rows: int = 30,
        drift_share: float = 0.0,
        columns: Iterable[str] | None = None,
    ) -> None:
        self.alpha = alpha
        self.threshold = threshold
        self.min_rows = min_rows
        self.drift_share = drift_share
        self.columns = columns

    def fit(self, reference: pd.DataFrame | Profile) -> DriftDetector:
        """Keep the reference as a profile (never the raw frame) and return ``self``."""
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if self.min_rows < 1:
            raise ValueError(f"min_rows must be at least 1, got {self.min_rows!r}")
        if not 0 <= self.drift_share < 1:
            raise ValueError(f"drift_share must be in [0, 1), got {self.drift_share!r}")
        self.reference_ = reference if isinstance(reference, Profile) else profile(reference)
        return self

    def score(self, current: pd.DataFrame | Profile) -> DriftReport:
        """Judge ``current`` against the reference."""
        if not hasattr(self, "reference_"):
            raise NotFittedError("this DriftDetector is not fitted yet: call fit(reference) first")
        reference = self.reference_
        batch = current if isinstance(current, Profile) else profile(current, like=reference)
        wanted = set(self.columns) if self.columns is not None else None
        results: dict[str, ColumnDrift] = {}
        skipped: dict[str, str] = {}
        tests: dict[str, _chi_square.TestResult] = {}
        for name, ref in reference.columns.items():
            if wanted is not None and name not in wanted:
                continue
            if ref.kind == "skipped":
                skipped[name] = ref.note
                continue
            cur = batch.columns.get(name)
            if cur is None:
                skipped[name] = "missing from the batch"
                continue
            if min(ref.rows, cur.rows) < self.min_rows:
                results[name] = ColumnDrift(
                    name, _chi_square.METHOD, None, None, None, self.threshold, False, "insufficient data"
                )
                continue
            tests[name] = _chi_square.chi_square(ref.frequencies(), cur.frequencies())
        adjusted = _benjamini_hochberg([t.p_value for t in tests.values()])
        for (name, test), p_adjusted in zip(tests.items(), adjusted, strict=True):
            drifted = p_adjusted < self.alpha and test.effect >= self.threshold
            results[name] = ColumnDrift(
                name, _chi_square.METHOD, test.effect, test.p_value, p_adjusted, self.threshold, bool(drifted)
            )
        ordered = {n: results[n] for n in reference.columns if n in results}
        tested = [c for c in ordered.values() if c.p_value is not None]
        share = sum(c.drifted for c in tested) / len(tested) if tested else 0.0
        return DriftReport(
            columns=ordered,
            drifted=bool(tested) and share > self.drift_share,
            alpha=self.alpha,
            rows_reference=reference.rows,
            rows_current=batch.rows,
            skipped=skipped,
        )


def detect(
    reference: pd.DataFrame | Profile, current: pd.DataFrame | Profile, **params: object
) -> DriftReport:
    """Shorthand for ``DriftDetector(**params).fit(reference).score(current)``."""
    return DriftDetector(**params).fit(reference).score(current)  # type: ignore[arg-type]


def _benjamini_hochberg(p_values: list[float]) -> list[float]:
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(np.asarray(p_values), method="bh")]
