"""The shape every remediation action shares: its kind, what it reads, what it returns.

Actions are small callables with one signature, chained like processors.

Each action takes the current frame, the signals routed to it and an :class:`ActionContext`,
and returns an :class:`ActionResult`: the new frame, the rows it removed (quarantined, with a
reason), the rows it set aside for a person (held, with a reason), notes, and the contract it
leaves in force. Running an action twice changes nothing the second time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import schemasense
from schemasense import Contract, Rule

from ._signals import Signal


class ActionKind(enum.StrEnum):
    """Every action a policy may name, in the order a plan applies them."""

    ACCEPT_SCHEMA_CHANGE = "accept_schema_change"
    RENAME = "rename"
    COERCE = "coerce"
    DEDUPLICATE = "deduplicate"
    CLIP = "clip"
    IMPUTE = "impute"
    QUARANTINE = "quarantine"
    HOLD = "hold"
    ROLLBACK = "rollback"
    CHANGE_CONTRACT = "change_contract"
    ALERT = "alert"
    REFRESH_REFERENCE = "refresh_reference"
    RETRAIN = "retrain"

    @property
    def changes_data(self) -> bool:
        return self not in (ActionKind.ALERT, ActionKind.REFRESH_REFERENCE, ActionKind.RETRAIN)

    @property
    def needs_approval(self) -> bool:
        """Risky actions a person must approve: they could hide real drift or change a model.

        The reflex records the request; whoever runs the pipeline carries the action out once a
        person grants it (in the suite, the approvals sensor) and records that it is done.
        """
        return self in (
            ActionKind.REFRESH_REFERENCE,
            ActionKind.RETRAIN,
            ActionKind.ROLLBACK,
            ActionKind.CHANGE_CONTRACT,
        )


@dataclass(frozen=True)
class ActionContext:
    """What an action may read besides the batch: the contract in force, the rule's params, and
    rows of the reference (known-good data) where the caller has them."""

    contract: Contract
    params: Mapping[str, Any] = field(default_factory=dict)
    reference: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class ActionResult:
    frame: pd.DataFrame
    contract: Contract
    removed: pd.DataFrame | None = None
    held: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


Action = Callable[[pd.DataFrame, Sequence[Signal], ActionContext], ActionResult]


def rows_failing(result: schemasense.ValidationResult, signals: Sequence[Signal]) -> np.ndarray:
    mask = np.zeros(len(result.reasons), dtype=bool)
    rules = {rule.value: rule for rule in Rule}
    for s in signals:
        if s.rule in rules:
            mask |= result.failing(s.column, rules[s.rule])
    return mask
