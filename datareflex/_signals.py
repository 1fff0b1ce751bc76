"""Signals: what sensing found, in one shape the policy can route."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from driftguard import DriftReport
from schemasense import Rule, ValidationResult


class SignalKind(enum.StrEnum):
    CONTRACT_VIOLATION = "contract_violation"
    SCHEMA_CHANGE = "schema_change"
    DRIFT = "drift"


@dataclass(frozen=True)
class Signal:
    """One finding about a batch. ``rule`` names the contract rule or drift method."""

    kind: SignalKind
    column: str
    rule: str
    count: int = 0
    magnitude: float | None = None
    detail: str = ""

    @property
    def batch_level(self) -> bool:
        """About the batch as a whole (a schema change, drift, a null burst), not single rows."""
        return self.kind is not SignalKind.CONTRACT_VIOLATION or self.rule == Rule.NULL_FRACTION.value

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.column} {self.rule}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "magnitude": self.magnitude,
            "detail": self.detail,
        }


def sense(validation: ValidationResult | None = None, drift: DriftReport | None = None) -> list[Signal]:
    """Turn a validation result and a drift report into signals.

    Missing, unexpected or retyped columns are schema changes; every other contract finding (a
    broken row rule, a null burst) is a contract violation; each drifted column is a drift signal.
    """
    signals: list[Signal] = []
    for v in validation.violations if validation is not None else ():
        schema = v.rule.is_batch_rule and v.rule is not Rule.NULL_FRACTION
        kind = SignalKind.SCHEMA_CHANGE if schema else SignalKind.CONTRACT_VIOLATION
        signals.append(Signal(kind, v.column, v.rule.value, v.count, detail=v.detail))
    for result in drift.columns.values() if drift is not None else ():
        if not result.drifted:
            continue
        column = result.column
        signals.append(
            Signal(
                SignalKind.DRIFT,
                column,
                result.method,
                magnitude=result.statistic,
                detail=f"effect {result.statistic:.3g} ≥ {result.threshold:g}",
            )
        )
    return signals


def schema_changes(signals: Iterable[Signal]) -> list[str]:
    """Readable names of the schema changes among ``signals``."""
    words = {
        Rule.UNEXPECTED_COLUMN.value: "column added",
        Rule.MISSING_COLUMN.value: "column removed",
        Rule.TYPE_CHANGED.value: "type changed",
    }
    return [
        f"{s.column}: {words.get(s.rule, s.rule)}" + (f" ({s.detail})" if s.detail else "")
        for s in signals
        if s.kind is SignalKind.SCHEMA_CHANGE
    ]
