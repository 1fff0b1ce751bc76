"""Drift over time: per-batch metrics, watched across partitions by Page–Hinkley detectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._page_hinkley import PageHinkley
from ._profile import Profile


def batch_metrics(profile: Profile) -> dict[str, float]:
    """The numbers worth watching across partitions: rows, each column's missing share and mean.

    >>> import pandas as pd
    >>> from driftguard import profile
    >>> batch_metrics(profile(pd.DataFrame({"x": [1.0, 3.0, None]})))
    {'rows': 3.0, 'missing/x': 0.3333333333333333, 'mean/x': 2.0}
    """
    metrics = {"rows": float(profile.rows)}
    for name, column in profile.columns.items():
        metrics[f"missing/{name}"] = column.missing / column.rows if column.rows else 0.0
        if column.mean is not None:
            metrics[f"mean/{name}"] = column.mean
    return metrics


def watch(
    history: Sequence[Mapping[str, float]], warmup: int = 5, threshold: float = 8.0
) -> dict[str, list[int]]:
    """Which metrics changed gradually or suddenly, and at which batches (indexes in ``history``).

    Each metric is standardised by the mean and spread of its first ``warmup`` batches, then fed
    to a :class:`PageHinkley` detector (``threshold`` in those standard units), which starts
    afresh after each detection. Returns the detections of every metric that had one.

    >>> steady = [{"rows": 1000.0 + i % 3} for i in range(10)]
    >>> watch(steady + [{"rows": 1000.0 + 40 * i} for i in range(1, 8)])
    {'rows': [10, 15]}
    """
    found: dict[str, list[int]] = {}
    names = sorted({k for item in history for k in item})
    for name in names:
        values = np.array([item.get(name, np.nan) for item in history], dtype=float)
        start = values[:warmup][np.isfinite(values[:warmup])]
        if len(start) < warmup:
            continue
        spread = float(start.std()) or max(abs(float(start.mean())) * 0.01, 1e-9)
        detector = PageHinkley(min_instances=warmup, delta=0.5, threshold=threshold)
        for index, value in enumerate(values):
            if np.isfinite(value):
                detector.update((value - float(start.mean())) / spread)
                if detector.drift_detected:
                    found.setdefault(name, []).append(index)
    return found
