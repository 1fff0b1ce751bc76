"""Verification: sense the remediated batch again. Rows still invalid are held, never published.

The contract judges every row again. A batch-level breach (a null share over its cap) that was
signalled and routed to an action that changes no data (an alert) was a decision already: it
does not hold the batch again. One that an action should have repaired, a schema change still
there, or a breach that only appeared after remediation holds the whole batch. With a reference
profile, drift is scored again on the columns an action tried to repair.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

import driftguard
from schemasense import REASON_COLUMN, Contract, Rule

_UNRESOLVED = "held: unresolved after remediation: "


@dataclass(frozen=True, eq=False)
class Verification:
    """The rows that may be published, the rows held as unresolved (with reasons), the verdict."""

    published: pd.DataFrame
    unresolved: pd.DataFrame
    verified: bool


def verify(
    frame: pd.DataFrame,
    contract: Contract,
    rows_in: int,
    set_aside: int,
    *,
    acknowledged: Collection[tuple[str, str]] = (),
    reference: driftguard.Profile | None = None,
    repaired: Sequence[tuple[str, str]] = (),
) -> Verification:
    """Judge ``frame`` (what remediation would publish) again.

    ``rows_in`` rows came in and ``set_aside`` were quarantined or held: the rest must be
    ``frame``. ``acknowledged`` are the (column, rule) batch breaches the policy routed to an
    action that changes no data; ``repaired`` the (column, drift method) pairs an action tried
    to repair, scored again against ``reference``.

    >>> import schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="t")
    >>> checked = verify(pd.DataFrame({"qty": [1, 2, 9]}), contract, rows_in=3, set_aside=0)
    >>> checked.verified, len(checked.published), checked.unresolved["_reason"].tolist()
    (False, 2, ['held: unresolved after remediation: qty: 9 above maximum 5.0'])
    """
    result = contract.validate(frame)
    accounted = len(frame) + set_aside == rows_in
    problems = [
        f"{v.column}: {v.rule.value}"
        for v in result.batch_violations
        if not (v.rule is Rule.NULL_FRACTION and (v.column, v.rule.value) in acknowledged)
    ]
    problems += _still_drifting(frame, reference, repaired)
    if not problems and not len(result.invalid) and accounted:
        return Verification(frame, frame.iloc[0:0], True)
    if problems:
        unresolved = frame.assign(**{REASON_COLUMN: _UNRESOLVED + "; ".join(problems)})
        return Verification(frame.iloc[0:0], unresolved, False)
    held = result.invalid.assign(**{REASON_COLUMN: _UNRESOLVED + result.invalid[REASON_COLUMN]})
    return Verification(result.valid, held, False)


def _still_drifting(
    frame: pd.DataFrame, reference: driftguard.Profile | None, repaired: Sequence[tuple[str, str]]
) -> list[str]:
    """Drift that an action should have removed and the same test still flags."""
    columns = repaired_columns(frame.columns, reference, repaired)
    if reference is None or not len(frame) or not columns:
        return []
    return still_drifting(driftguard.profile(frame[columns], like=reference), reference, repaired)


def repaired_columns(
    present: Iterable[Any], reference: driftguard.Profile | None, repaired: Sequence[tuple[str, str]]
) -> list[str]:
    """The columns of ``present`` whose drift an action tried to repair, scored against ``reference``."""
    if reference is None:
        return []
    names = set(present)
    return sorted({c for c, _ in repaired if c in reference.columns and c in names})


def still_drifting(
    profile: driftguard.Profile, reference: driftguard.Profile, repaired: Sequence[tuple[str, str]]
) -> list[str]:
    """Problems of ``profile`` (of the rows to publish, on ``reference``'s bins): each
    (column, method) of ``repaired`` that the same test still flags."""
    pairs = set(repaired)
    columns = repaired_columns(profile.columns, reference, repaired)
    if not columns or not profile.rows:
        return []
    again = driftguard.DriftDetector(columns=columns).fit(reference).score(profile)
    return [
        f"{t.column}: still drifts ({t.method})"
        for t in again.rows()
        if t.drifted and (t.column, t.method) in pairs
    ]
