"""The drift detector: fit on a reference, score each new batch with a calibrated verdict.

How a column is judged (the rule, so a user can predict it):

- numeric columns: effect = normalised Wasserstein distance (threshold 0.1 reference standard
  deviations); p-value from Kolmogorov–Smirnov on exact counts, or chi-square when the reference
  has fewer than 20 bins (a discrete column);
- categorical columns with at most 10 categories in the reference: effect = L-infinity, the
  largest change of one category's share (threshold 5 points); with more: effect = total
  variation, the share of rows that changed category, less what chance alone gives at these
  sample sizes (threshold 0.05), which also sees a diffuse shift of many small changes. p-value
  from chi-square on the reference's categories (a batch's values the reference did not count
  are its "other"), a permutation test where expected counts are small;
- every column not excluded: the missing-value share (threshold 5 points, two-proportion
  z-test, Fisher's exact test where an expected count is below 5): a null burst is drift;
- ``exclude={"invoice": "identifier: new values every day"}`` (or a list of names) takes
  columns out of every test, missing rate and domain classifier included: identifiers,
  timestamps and calendar columns differ between batches by construction (SchemaSense's
  ``Contract.drift_exclusions()`` lists them; their null rules live in the contract). The
  report names them with their reasons in ``excluded``;
- ``methods={"amount": "psi"}`` overrides a column's method (``ks``, ``wasserstein``, ``psi``,
  ``chi_square``, ``jensen_shannon``, ``l_infinity``, ``total_variation``, or a method object).

A test flags drift only when its p-value, adjusted by Benjamini–Hochberg across every test of
the batch, is below ``alpha`` (0.01: under no drift BH keeps the chance that any test of the
batch fires near ``alpha``, so a batch false-alarms about once in a hundred) *and* its effect
reaches the threshold: the first guard keeps small batches from raising false alarms, the
second keeps huge batches from flagging trivial shifts. Fewer than ``min_rows`` values on
either side gives "insufficient data". A domain
classifier adds a multivariate test over the whole row (AUC at least ``classifier.threshold``,
p-value in the same correction), trained on the row samples that profiles carry, so it runs on
data frames and on stored, merged profiles alike. The batch drifts when the (optionally
weighted) share of drifted columns exceeds ``drift_share``, or the classifier finds drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._chi_square import ChiSquare
from ._classifier import DomainClassifier, DomainClassifierResult
from ._jensen_shannon import JensenShannon
from ._ks import KolmogorovSmirnov
from ._l_infinity import LInfinity
from ._method import ColumnMethod, Comparison, aligned, shares
from ._missing_rate import MissingRate
from ._profile import OTHER, ColumnProfile, Profile, profile
from ._psi import PSI
from ._report import ColumnDrift, Distribution, DriftReport
from ._total_variation import TotalVariation
from ._wasserstein import Wasserstein
from .errors import NotFittedError

METHODS: dict[str, type[Any]] = {
    m.name: m
    for m in (KolmogorovSmirnov, Wasserstein, PSI, ChiSquare, JensenShannon, LInfinity, TotalVariation)
}
"""Column methods by name."""


class DriftDetector:
    """Column drift = statistically significant **and** practically large (see the module doc).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(0, 1, 5000), "y": rng.normal(0, 1, 5000)})
    >>> current = pd.DataFrame({"x": rng.normal(0.5, 1, 1000), "y": rng.normal(0, 1, 1000)})
    >>> DriftDetector().fit(reference).score(current).drifted_columns
    ['x']
    >>> report = DriftDetector(exclude=["x"]).fit(reference).score(current)
    >>> report.drifted_columns, report.excluded
    ([], {'x': 'excluded by declaration'})
    """

    def __init__(
        self,
        alpha: float = 0.01,
        min_rows: int = 30,
        drift_share: float = 0.0,
        columns: Iterable[str] | None = None,
        methods: Mapping[str, str | ColumnMethod] | None = None,
        weights: Mapping[str, float] | None = None,
        classifier: DomainClassifier | None = None,
        multivariate: bool = True,
        exclude: Mapping[str, str] | Iterable[str] | None = None,
    ) -> None:
        self.alpha = alpha
        self.min_rows = min_rows
        self.drift_share = drift_share
        self.columns = columns
        self.methods = methods
        self.weights = weights
        self.classifier = classifier
        self.multivariate = multivariate
        self.exclude = exclude

    def fit(self, reference: pd.DataFrame | Profile) -> DriftDetector:
        """Keep the reference as a profile (and, for the classifier, a small row sample)."""
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if self.min_rows < 1:
            raise ValueError(f"min_rows must be at least 1, got {self.min_rows!r}")
        if not 0 <= self.drift_share < 1:
            raise ValueError(f"drift_share must be in [0, 1), got {self.drift_share!r}")
        for name, method in (self.methods or {}).items():
            if isinstance(method, str) and method not in METHODS:
                raise ValueError(f"column {name!r}: method {method!r} is not one of {sorted(METHODS)}")
        if isinstance(self.exclude, str):
            raise ValueError(f"exclude must be a mapping or a list of column names, got {self.exclude!r}")
        self.excluded_ = (
            {str(k): str(v) for k, v in self.exclude.items()}
            if isinstance(self.exclude, Mapping)
            else {str(name): "excluded by declaration" for name in self.exclude or ()}
        )
        self.reference_ = (
            reference
            if isinstance(reference, Profile)
            else profile(reference, sample_rows=self._sample_rows())
        )
        self.classifier_ = None
        sample = self.reference_.sample
        if self.multivariate and sample is not None and len(sample) >= self.min_rows:
            present = {str(label) for label in sample.rows.columns}
            compared = [
                c
                for c, p in self.reference_.columns.items()
                if p.kind != "skipped" and self._wanted(c) and c in present
            ]
            if compared:
                classifier = self.classifier or DomainClassifier()
                self.classifier_ = classifier.fit(
                    sample.rows[compared], _category_counts(self.reference_, compared)
                )
        return self

    def score(self, current: pd.DataFrame | Profile) -> DriftReport:
        """Judge ``current`` against the reference."""
        if not hasattr(self, "reference_"):
            raise NotFittedError("this DriftDetector is not fitted yet: call fit(reference) first")
        reference = self.reference_
        batch = (
            current
            if isinstance(current, Profile)
            else profile(current, like=reference, sample_rows=self._sample_rows())
        )
        pending, results, skipped = self._compare(reference, batch)
        multivariate = self._multivariate(batch)
        p_values = [c.p_value for *_, c in pending] + ([multivariate.p_value] if multivariate else [])
        adjusted = _benjamini_hochberg(p_values)
        for (group, name, method, comparison), p_adjusted in zip(pending, adjusted, strict=False):
            drifted = p_adjusted < self.alpha and comparison.effect >= method.threshold
            results[group][name] = ColumnDrift(
                name,
                method.name,
                comparison.effect,
                comparison.p_value,
                p_adjusted,
                method.threshold,
                bool(drifted),
                comparison.note,
                comparison.test,
            )
        if multivariate is not None:
            p_adjusted = adjusted[-1]
            multivariate = replace(
                multivariate,
                p_adjusted=p_adjusted,
                drifted=bool(p_adjusted < self.alpha and multivariate.auc >= multivariate.threshold),
            )
        report = DriftReport(
            columns={n: results["columns"][n] for n in reference.columns if n in results["columns"]},
            drifted=False,
            alpha=self.alpha,
            rows_reference=reference.rows,
            rows_current=batch.rows,
            skipped=skipped,
            missing={n: results["missing"][n] for n in reference.columns if n in results["missing"]},
            multivariate=multivariate,
            excluded={n: r for n, r in self.excluded_.items() if n in reference.columns},
        )
        distributions = {
            n: _distribution(reference.columns[n], batch.columns[n])
            for n in report.drifted_columns
            if n in report.columns
        }
        return replace(report, drifted=self._verdict(report), distributions=distributions)

    def _compare(
        self, reference: Profile, batch: Profile
    ) -> tuple[
        list[tuple[str, str, ColumnMethod, Comparison]], dict[str, dict[str, ColumnDrift]], dict[str, str]
    ]:
        """Each column's comparisons still to be corrected (missing rate, distribution), the
        columns judged already (too few rows), and the columns skipped with why."""
        skipped: dict[str, str] = {}
        pending: list[tuple[str, str, ColumnMethod, Comparison]] = []
        results: dict[str, dict[str, ColumnDrift]] = {"columns": {}, "missing": {}}
        for name, ref in reference.columns.items():
            cur = batch.columns.get(name)
            if not self._wanted(name):
                continue
            if cur is None:
                skipped[name] = "missing from the batch"
                continue
            if min(ref.rows, cur.rows) >= self.min_rows:
                pending.append(("missing", name, MissingRate(), MissingRate().compare(ref, cur)))
            if ref.kind == "skipped":
                skipped[name] = ref.note
                continue
            method = self._method(name, ref)
            if min(ref.present, cur.present) < self.min_rows:
                results["columns"][name] = ColumnDrift(
                    name, method.name, None, None, None, method.threshold, False, "insufficient data"
                )
                continue
            pending.append(("columns", name, method, method.compare(ref, cur)))
        return pending, results, skipped

    def _wanted(self, name: str) -> bool:
        if name in self.excluded_:
            return False
        return self.columns is None or name in set(self.columns)

    def _method(self, name: str, reference: ColumnProfile) -> ColumnMethod:
        chosen = (self.methods or {}).get(name)
        if chosen is None and reference.kind == "numeric":
            return Wasserstein()
        if chosen is None:
            # L-infinity below 5 points lets total variation reach 2.5 points per category: a
            # quarter of the rows moved unseen at 10 categories, half at 20. Up to 10, one
            # category's share is the readable question; beyond, total variation sees the diffuse.
            counted = [label for label, count in reference.categories if count]
            return LInfinity() if len(counted) <= 10 and OTHER not in counted else TotalVariation()
        return METHODS[chosen]() if isinstance(chosen, str) else chosen

    def _sample_rows(self) -> int:
        """The profile's row sample is the classifier's: as many rows as it takes."""
        return (self.classifier or DomainClassifier()).max_rows if self.multivariate else 0

    def _multivariate(self, batch: Profile) -> DomainClassifierResult | None:
        """The domain classifier on the batch's row sample (``None`` without one)."""
        sample = batch.sample
        if self.classifier_ is None or sample is None or len(sample) < self.min_rows:
            return None
        if not set(self.classifier_.columns_) & set(sample.rows.columns):
            return None
        return self.classifier_.test(sample.rows)

    def _verdict(self, report: DriftReport) -> bool:
        tested = [n for n, c in report.columns.items() if c.p_value is not None]
        weights = {n: float((self.weights or {}).get(n, 1.0)) for n in tested}
        total = sum(weights.values())
        drifted = set(report.drifted_columns)
        share = sum(w for n, w in weights.items() if n in drifted) / total if total else 0.0
        by_columns = bool(drifted) and share > self.drift_share
        return by_columns or bool(report.multivariate and report.multivariate.drifted)


def detect(reference: pd.DataFrame | Profile, current: pd.DataFrame | Profile, **params: Any) -> DriftReport:
    """Shorthand for ``DriftDetector(**params).fit(reference).score(current)``."""
    return DriftDetector(**params).fit(reference).score(current)


def _category_counts(reference: Profile, columns: list[str]) -> dict[str, dict[str, int]]:
    """Exact counts of every category of the categorical ``columns`` the profile counted in full."""
    counted = {name: {k: n for k, n in reference.columns[name].categories if n} for name in columns}
    return {
        name: counts
        for name, counts in counted.items()
        if reference.columns[name].kind == "categorical" and OTHER not in counts
    }


def _distribution(reference: ColumnProfile, current: ColumnProfile) -> Distribution:
    labels, ref, cur = aligned(reference, current)
    if len(labels) > 30:  # keep charts readable: merge neighbouring bins
        groups = np.array_split(np.arange(len(labels)), 30)
        labels = [f"{labels[g[0]].split(',')[0]}, {labels[g[-1]].split(',')[-1].strip()}" for g in groups]
        ref = np.array([ref[g].sum() for g in groups])
        cur = np.array([cur[g].sum() for g in groups])
    return Distribution(
        tuple(labels), tuple(float(v) for v in shares(ref)), tuple(float(v) for v in shares(cur))
    )


def _benjamini_hochberg(p_values: list[float]) -> list[float]:
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(np.asarray(p_values), method="bh")]
