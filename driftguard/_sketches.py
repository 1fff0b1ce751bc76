"""Apache DataSketches wrappers: quantiles (KLL) and cardinality (HLL), serialisable and mergeable.

Sketches serve summaries a person reads (quantiles, distinct counts) and the bins a later
reference is cut on. Tests that give p-values never use them: they use exact counts.
"""

from __future__ import annotations

import base64

import datasketches
import numpy as np
import pandas as pd

KLL_K = 200
HLL_LG_K = 12
MAX_SKETCHED_DISTINCT = 65_536
"""Distinct values fed to the cardinality sketch per batch; above it a column counts as unbounded."""


def quantile_sketch(values: np.ndarray) -> bytes:
    sketch = datasketches.kll_doubles_sketch(KLL_K)
    if len(values):
        sketch.update(values.astype(float))
    return bytes(sketch.serialize())


def merge_quantiles(a: bytes, b: bytes) -> bytes:
    sketch = datasketches.kll_doubles_sketch.deserialize(a)
    sketch.merge(datasketches.kll_doubles_sketch.deserialize(b))
    return bytes(sketch.serialize())


def quantiles(sketch: bytes, ranks: list[float]) -> list[float]:
    kll = datasketches.kll_doubles_sketch.deserialize(sketch)
    return [float(kll.get_quantile(r)) for r in ranks] if not kll.is_empty() else []


def distinct_sketch(values: pd.Series) -> bytes | None:
    """An HLL sketch of the distinct values, or ``None`` when there are too many to feed cheaply."""
    sample = (
        values.iloc[np.linspace(0, len(values) - 1, min(len(values), 4096)).astype(int)]
        if len(values)
        else values
    )
    if sample.nunique() > len(sample) // 2 and len(values) > MAX_SKETCHED_DISTINCT:
        return None  # mostly distinct: feeding every value would cost more than the whole profile
    distinct = pd.unique(values)
    if len(distinct) > MAX_SKETCHED_DISTINCT:
        return None
    sketch = datasketches.hll_sketch(HLL_LG_K)
    for value in distinct.tolist():
        sketch.update(value if isinstance(value, int | float | str) else str(value))
    return bytes(sketch.serialize_compact())


def merge_distinct(a: bytes | None, b: bytes | None) -> bytes | None:
    if a is None or b is None:
        return None
    union = datasketches.hll_union(HLL_LG_K)
    union.update(datasketches.hll_sketch.deserialize(a))
    union.update(datasketches.hll_sketch.deserialize(b))
    return bytes(union.get_result().serialize_compact())


def distinct_estimate(sketch: bytes | None) -> float | None:
    return None if sketch is None else float(datasketches.hll_sketch.deserialize(sketch).get_estimate())


def encode(blob: bytes | None) -> str | None:
    return None if blob is None else base64.b64encode(blob).decode("ascii")


def decode(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
