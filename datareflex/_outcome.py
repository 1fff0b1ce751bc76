"""What happened to a batch: the decision, and the rows published, quarantined and held."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from schemasense import REASON_COLUMN, Contract

from ._actions import ActionKind
from ._signals import Signal


class Decision(enum.StrEnum):
    """What the loop decided for a batch, as a whole.

    >>> decide(["deduplicate", "alert"]).value, decide([]).value, decide(["rollback"]).value
    ('remediate', 'publish', 'hold')
    """

    PUBLISH = "publish"  # nothing was wrong
    ALERT = "alert"  # published as is, with an alert
    REMEDIATE = "remediate"  # actions changed the batch
    HOLD = "hold"  # some rows wait for a person
    RELEASE = "release"  # a person released held rows
    REJECT = "reject"  # the whole file refused (unreadable, or refused at landing): no row read


@dataclass(frozen=True, eq=False)
class Outcome:
    """What happened to a batch. ``published``, ``quarantined`` and ``held`` partition its rows.

    ``verified`` is ``None`` when no remediation ran (nothing was needed, or a guardrail held
    the batch before acting), else whether sensing the result again found every published row
    valid and every input row accounted for. ``event_time`` is the batch's own time, as the
    guardrails counted it.

    >>> outcome = Outcome.untouched(pd.DataFrame({"qty": [1, 2]}))
    >>> outcome.decision.value, outcome.rows_in, outcome.summary()["rows_published"]
    ('publish', 2, 2)
    """

    decision: Decision
    actions: tuple[str, ...]
    published: pd.DataFrame
    quarantined: pd.DataFrame
    held: pd.DataFrame
    verified: bool | None
    contract: Contract | None
    signals: tuple[Signal, ...]
    notes: tuple[str, ...]
    dataset: str = ""
    batch: str = ""
    event_time: dt.datetime | None = None

    @classmethod
    def untouched(cls, batch: pd.DataFrame) -> Outcome:
        """Publish ``batch`` as it is: nothing was sensed against it (a training batch)."""
        empty = stack([], batch)
        return cls(Decision.PUBLISH, (), batch, empty, empty, None, None, (), ())

    @property
    def rows_in(self) -> int:
        return len(self.published) + len(self.quarantined) + len(self.held)

    def summary(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "actions": list(self.actions),
            "rows_in": self.rows_in,
            "rows_published": len(self.published),
            "rows_quarantined": len(self.quarantined),
            "rows_held": len(self.held),
            "verified": self.verified,
            "contract_version": None if self.contract is None else self.contract.version,
            "notes": list(self.notes),
        }

    def to_dict(self) -> dict[str, Any]:
        """The summary, the signals and where the batch came from: plain JSON types."""
        return {
            **self.summary(),
            "dataset": self.dataset,
            "batch": self.batch,
            "event_time": None if self.event_time is None else self.event_time.isoformat(),
            "signals": [s.to_dict() for s in self.signals],
        }


@dataclass(frozen=True)
class PartsOutcome:
    """What happened to a batch handled in parts: the counts of :class:`Outcome`, the rows in
    the sink."""

    decision: Decision
    actions: tuple[str, ...]
    published: int
    quarantined: int
    held: int
    verified: bool | None
    contract: Contract
    signals: tuple[Signal, ...]
    notes: tuple[str, ...]

    @property
    def rows_in(self) -> int:
        return self.published + self.quarantined + self.held

    def summary(self) -> dict[str, Any]:
        """The keys of ``Outcome.summary``."""
        return {
            "decision": self.decision.value,
            "actions": list(self.actions),
            "rows_in": self.rows_in,
            "rows_published": self.published,
            "rows_quarantined": self.quarantined,
            "rows_held": self.held,
            "verified": self.verified,
            "contract_version": self.contract.version,
            "notes": list(self.notes),
        }


def held_whole(
    batch: pd.DataFrame,
    reason: str,
    contract: Contract,
    signals: Sequence[Signal],
    actions: tuple[str, ...],
    notes: tuple[str, ...] = (),
) -> Outcome:
    """Every row set aside for a person, with ``reason``: a guardrail's decision, nothing acted."""
    return Outcome(
        Decision.HOLD,
        actions,
        batch.iloc[0:0],
        stack([], batch),
        batch.assign(**{REASON_COLUMN: reason}),
        None,
        contract,
        tuple(signals),
        notes or (reason,),
    )


def decide(actions: Sequence[str]) -> Decision:
    """The decision a plan of ``actions`` amounts to."""
    if not actions:
        return Decision.PUBLISH
    if {ActionKind.HOLD.value, ActionKind.ROLLBACK.value, ActionKind.CHANGE_CONTRACT.value} & set(actions):
        return Decision.HOLD
    if any(ActionKind(a).changes_data for a in actions):
        return Decision.REMEDIATE
    return Decision.ALERT


def originals(batch: pd.DataFrame, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The input rows behind ``frames`` (as they arrived, before any repair), with their reasons."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return stack([], batch)
    reasons = pd.concat([f[REASON_COLUMN] for f in frames])
    return batch.loc[reasons.index].assign(**{REASON_COLUMN: reasons})


def stack(frames: list[pd.DataFrame], like: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return like.iloc[0:0].assign(**{REASON_COLUMN: pd.Series(dtype=object)})
    return pd.concat(frames)
