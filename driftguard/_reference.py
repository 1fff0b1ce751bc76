"""Which past profiles a batch is compared with: a fixed baseline, a rolling window, or the same
weekday of previous weeks (for data with a weekly rhythm).

:func:`reference_batches` chooses the earlier batches; :func:`rolling` and :func:`same_weekday`
merge their profiles. Choosing works on batch names alone, so a pipeline reads and profiles only
the batches chosen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from ._profile import Profile, merge_all

REFERENCE_KINDS = ("fixed", "rolling", "same_weekday")

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def reference_batches(
    kind: str,
    earlier: Sequence[str],
    window: int,
    day: dt.date | None = None,
    dates: Mapping[str, dt.date | None] | None = None,
) -> list[str]:
    """The earlier batches whose merged profiles are the ``kind`` reference of a batch of ``day``.

    ``earlier`` lists the batches that landed before this one, in landing order (the order they
    arrived, which is not always the order of their names). ``rolling``: the last ``window`` of
    them. ``same_weekday``: those of the same weekday in the ``window`` weeks before ``day``,
    the day of each batch taken from ``dates``, else from its name (:func:`batch_date`).
    ``fixed``: none, the reference is the training window.

    >>> landed = [f"s_2026-11-{d:02d}.csv" for d in (1, 2, 8, 9, 15, 16, 3)]  # the 3rd came late
    >>> reference_batches("rolling", landed, 3)
    ['s_2026-11-15.csv', 's_2026-11-16.csv', 's_2026-11-03.csv']
    >>> reference_batches("same_weekday", landed, 2, dt.date(2026, 11, 22))
    ['s_2026-11-08.csv', 's_2026-11-15.csv']
    >>> reference_batches("same_weekday", ["late.csv"], 1, dt.date(2026, 11, 22),
    ...                   {"late.csv": dt.date(2026, 11, 15)})
    ['late.csv']
    """
    if kind not in REFERENCE_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}; expected one of {', '.join(REFERENCE_KINDS)}")
    if window < 1:
        raise ValueError(f"a reference window must be at least 1, got {window}")
    if kind == "fixed":
        return []
    if kind == "rolling":
        return list(earlier[-window:])
    if day is None:
        return []
    wanted = {day - dt.timedelta(weeks=w) for w in range(1, window + 1)}
    known = dates or {}
    return [key for key in earlier if (known.get(key) or batch_date(key)) in wanted]


def batch_date(name: str) -> dt.date | None:
    """The date written in a batch's name (``orders_2026-11-05.parquet``), if any.

    >>> batch_date("orders_2026-11-05.parquet"), batch_date("batch-7.csv"), batch_date("x_2026-02-30")
    (datetime.date(2026, 11, 5), None, None)
    """
    found = _DATE.search(name)
    if found is None:
        return None
    try:
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


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
