"""Multivariate drift: can a classifier tell the reference rows from the current ones?

A scikit-learn gradient-boosting classifier learns, on half of the rows, to tell a sample of
reference rows from a sample of current rows; its ROC AUC on the other half measures how
separable they are (0.5: not at all). A change in the joint distribution that no single
column shows (two columns that stop moving together) still separates the samples. The p-value
compares that AUC with its distribution when both samples come from one population (the
Mann–Whitney null).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

MAX_CATEGORIES = 250
"""Gradient boosting takes at most 255 categories: the most frequent are kept, the rest are missing."""


@dataclass(frozen=True)
class DomainClassifierResult:
    """``auc`` with a 95% interval (Hanley–McNeil), its p-value, and the verdict inputs:
    ``rows`` sampled from both sides together, the ``columns`` the model saw."""

    auc: float
    lower: float
    upper: float
    p_value: float
    threshold: float
    rows: int
    p_adjusted: float | None = None
    drifted: bool = False
    columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainClassifierResult:
        return cls(**{**data, "columns": tuple(data.get("columns", ()))})


class DomainClassifier:
    """Fit on reference rows, test current rows.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> reference = pd.DataFrame({"a": x[:2000], "b": x[:2000] + rng.normal(0, 0.1, 2000)})
    >>> flipped = pd.DataFrame({"a": x[2000:], "b": -x[2000:] + rng.normal(0, 0.1, 2000)})
    >>> DomainClassifier().fit(reference).test(flipped).auc > 0.9
    True
    """

    def __init__(
        self, max_rows: int = 2000, threshold: float = 0.55, held_out: float = 0.5, random_state: int = 0
    ) -> None:
        self.max_rows = max_rows
        self.threshold = threshold
        self.held_out = held_out
        self.random_state = random_state

    def fit(
        self, reference: pd.DataFrame, category_counts: Mapping[str, Mapping[str, int]] | None = None
    ) -> DomainClassifier:
        """Learn each text column's categories and keep a sample of reference rows.

        ``category_counts`` (a text column's exact count of every value, as a profile keeps
        them) spares counting that column again. Columns with no value in the reference are left
        out: they give the model nothing to learn (their missing rate has its own test).
        """
        self.columns_ = [c for c in reference.columns if reference[c].notna().any()]
        known = category_counts or {}
        self.categories_ = {
            c: _top_categories(reference[c], known.get(c))
            for c in self.columns_
            if not _numeric(reference[c])
        }
        self.reference_ = self._encode(_sample(reference, self.max_rows, self.random_state))
        return self

    def test(self, current: pd.DataFrame) -> DomainClassifierResult:
        """Train on half of both samples, judge on the other half. Only the columns ``current``
        has take part: a column missing from the batch would tell the samples apart by itself
        (the column tests report it)."""
        columns = [c for c in self.columns_ if c in current]
        rows = _sample(current[columns], self.max_rows, self.random_state + 1)
        features = pd.concat([self.reference_[columns], self._encode(rows)[columns]], ignore_index=True)
        labels = np.r_[np.zeros(len(self.reference_)), np.ones(len(rows))]
        model = HistGradientBoostingClassifier(
            max_iter=30, max_leaf_nodes=15, categorical_features="from_dtype", random_state=self.random_state
        )
        train, held = train_test_split(
            np.arange(len(labels)), test_size=self.held_out, stratify=labels, random_state=self.random_state
        )
        # One thread: on small samples OpenMP threads spin-wait for longer than they work.
        with threadpool_limits(limits=1, user_api="openmp"):
            model.fit(features.iloc[train], labels[train])
            scores = model.predict_proba(features.iloc[held])[:, 1]
        # Judged on rows the model never saw: under no drift their scores are exchangeable, so the
        # AUC follows the Mann–Whitney null exactly (cross-validated AUCs pooled or averaged over
        # folds do not: their folds share training rows, and the spread grows by a quarter).
        auc = float(roc_auc_score(labels[held], scores))
        n1, n2 = int((labels[held] == 0).sum()), int((labels[held] == 1).sum())
        spread = 1.96 * np.sqrt(_hanley_mcneil_variance(auc, n1, n2))
        lower, upper = max(0.0, auc - spread), min(1.0, auc + spread)
        null_spread = np.sqrt((n1 + n2 + 1) / (12 * n1 * n2))
        p_value = float(stats.norm.sf((auc - 0.5) / null_spread))
        return DomainClassifierResult(
            auc, lower, upper, p_value, self.threshold, len(labels), columns=tuple(columns)
        )

    def _encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for column in self.columns_:
            values = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
            if column in self.categories_:
                out[column] = pd.Categorical(
                    values.astype(object).where(values.isna(), values.astype(str)),
                    categories=self.categories_[column],
                )
            else:
                out[column] = pd.to_numeric(values, errors="coerce").astype(float)
        return pd.DataFrame(out).reset_index(drop=True)


def _hanley_mcneil_variance(auc: float, n1: int, n2: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n2 - 1) * (q2 - auc**2)) / (n1 * n2)
    return max(variance, 0.0)


def _top_categories(series: pd.Series, counts: Mapping[str, int] | None) -> pd.Index:
    """The most frequent values as text, most frequent first, as ``value_counts`` orders them."""
    text = pd.api.types.infer_dtype(series, skipna=True) == "string"
    if text and counts and len(set(counts.values())) == len(counts):  # counted already; no ties to order
        return pd.Index(sorted(counts, key=counts.__getitem__, reverse=True)[:MAX_CATEGORIES], dtype=object)
    if text and pd.api.types.is_object_dtype(series.dtype):  # text already: count without converting
        return pd.Index(series.value_counts(dropna=True).index[:MAX_CATEGORIES], dtype=object)
    return pd.Index(series.dropna().astype(str).value_counts().index[:MAX_CATEGORIES])


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return frame.sample(n=rows, random_state=seed) if len(frame) > rows else frame


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
