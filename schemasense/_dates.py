"""Dates written as text: which formats read them, and when a day/month order is settled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from ._coerce import coerce
from ._types import LogicalType

if TYPE_CHECKING:
    from ._contract import Contract

DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y%m%d",
)
"""Formats tried, in order, when a text column may hold dates and times."""


def format_matches(text: pd.Series) -> dict[str, int]:
    """How many sampled values each date format parses.

    Every format is tried: ``10/3/2016`` reads both day first and month first, and only counts
    over all formats show which order the data supports.
    """
    if text.empty or not text.str.match(r"\d").mean() > 0.5:
        return {}
    matches = {}
    for fmt in DATETIME_FORMATS:
        parsed = int(pd.to_datetime(text, format=fmt, errors="coerce").notna().sum())
        if parsed:
            matches[fmt] = parsed
    return matches


def best_formats(counts: Mapping[str, int], best: int) -> tuple[str, ...]:
    """The first format (in :data:`DATETIME_FORMATS` order) that parses most values, and, when
    its day/month swap parses as many, that swap too: the order is then unknown."""
    ranked = [f for f in DATETIME_FORMATS if counts.get(f) == best] or [max(counts, key=counts.__getitem__)]
    first = ranked[0]
    swapped = first.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    return (first, swapped) if swapped != first and swapped in ranked else (first,)


def settle(contract: Contract, batch: pd.DataFrame) -> Contract:
    """A new version when ``batch`` rules out date formats the contract still held open, else ``contract``.

    A candidate is ruled out when it cannot read a value that another candidate reads
    (``13/1/2016`` is not month first). One candidate left becomes the column's format.

    >>> import schemasense
    >>> days = pd.DataFrame({"at": ["1/2/2016 7:45", "3/4/2016 8:00"] * 10})
    >>> contract = schemasense.infer(days)
    >>> contract.columns["at"].datetime_candidates
    ('%d/%m/%Y %H:%M', '%m/%d/%Y %H:%M')
    >>> settle(contract, days) is contract
    True
    >>> settled = settle(contract, pd.DataFrame({"at": ["1/13/2016 7:45"]}))
    >>> settled.version, settled.columns["at"].datetime_format, settled.note
    (2, '%m/%d/%Y %H:%M', "at: dates are written '%m/%d/%Y %H:%M' ('1/13/2016 7:45' reads no other way)")
    """
    from ._validate import _labels

    labels = _labels(batch)
    changed, notes = {}, []
    for name, column in contract.columns.items():
        if len(column.datetime_candidates) < 2 or name not in labels:
            continue
        values = batch[labels[name]].dropna()
        read = {f: coerce(values, LogicalType.DATETIME, f).values.notna().to_numpy() for f in column.formats}
        any_read = next(iter(read.values())).copy()
        for mask in read.values():
            any_read |= mask
        kept = tuple(f for f, mask in read.items() if (mask | ~any_read).all())
        if not kept or kept == column.datetime_candidates:
            continue
        ruled_out = next(f for f in column.datetime_candidates if f not in kept)
        evidence = values[any_read & ~read[ruled_out]].iloc[0]
        if len(kept) == 1:
            changed[name] = replace(column, datetime_format=kept[0], datetime_candidates=())
            notes.append(f"{name}: dates are written {kept[0]!r} ({evidence!r} reads no other way)")
        else:
            changed[name] = replace(column, datetime_candidates=kept)
            notes.append(f"{name}: {ruled_out!r} ruled out by {evidence!r}")
    if not changed:
        return contract
    return replace(
        contract, columns={**contract.columns, **changed}, version=contract.version + 1, note="; ".join(notes)
    )
