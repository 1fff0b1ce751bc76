"""Settling an open day/month order: the first batch with evidence decides."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ._coerce import coerce
from ._contract import Contract
from ._types import LogicalType
from ._validate import _labels


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
