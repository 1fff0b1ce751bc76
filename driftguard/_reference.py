"""Which past profiles a batch is compared with: a fixed baseline, a rolling window, or the same
weekday of previous weeks (for data with a weekly rhythm)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from ._profile import Profile, merge_all


def rolling(profiles: Sequence[Profile], window: int) -> Profile:
    """The merged profile of the last ``window`` profiles."""
    if window < 1 or not profiles:
        raise ValueError("a rolling reference needs a window of at least 1 and at least one profile")
    return merge_all(profiles[-window:])


def same_weekday(profiles: Mapping[dt.date, Profile], day: dt.date, weeks: int = 4) -> Profile:
    """The merged profile of the same weekday in the ``weeks`` weeks before ``day``.

    >>> import pandas as pd, driftguard
    >>> base = driftguard.profile(pd.DataFrame({"x": range(10)}))
    >>> day = lambda d: driftguard.profile(pd.DataFrame({"x": [d]}), like=base)
    >>> days = {dt.date(2026, 11, d): day(d) for d in range(1, 29)}
    >>> same_weekday(days, dt.date(2026, 11, 29), weeks=3).rows  # the 22nd, 15th and 8th
    3
    """
    earlier = [day - dt.timedelta(weeks=w) for w in range(1, weeks + 1)]
    found = [profiles[d] for d in earlier if d in profiles]
    if not found:
        raise ValueError(f"no profile for the weekday of {day} in the {weeks} weeks before it")
    return merge_all(found)
