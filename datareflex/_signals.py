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
    METRIC_ANOMALY = "metric_anomaly"  # a batch metric (rows, a null share, a mean) jumped
    RUN_FAILURE = "run_failure"  # the batch's run failed before its checks could judge it
    FRESHNESS = "freshness"  # no batch landed for longer than expected


class Severity(enum.StrEnum):
    """How bad a signal is; policies may route on it (``when: {severity: critical}``)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


CRITICAL_SHARE = 0.05
"""A contract violation on at least this share of a batch's rows is critical."""
JOINT = "(joint)"
"""The column name of a drift the domain classifier found in the columns together."""
CRITICAL_EFFECT = 2.0
"""Drift whose effect is at least this many times the method's threshold is critical."""


@dataclass(frozen=True)
class Signal:
    """One finding about a batch. ``rule`` names the contract rule or drift method.

    ``magnitude`` is the share of rows a contract violation touches, a drift method's effect
    size, or how far a metric or a delay went; policies may route on it (``min_magnitude``).
    """

    kind: SignalKind
    column: str
    rule: str
    count: int = 0
    magnitude: float | None = None
    detail: str = ""
    severity: Severity = Severity.WARNING

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
            "severity": self.severity.value,
        }


def sense(
    validation: ValidationResult | None = None,
    drift: DriftReport | None = None,
    anomalies: Iterable[str] = (),
) -> list[Signal]:
    """Turn a validation result, a drift report and metric anomalies into signals.

    Missing, unexpected or retyped columns are schema changes (critical, except an added
    column); every other contract finding (a broken row rule, a null burst) is a contract
    violation, critical from :data:`CRITICAL_SHARE` of the rows; each drifted column is a drift
    signal (its distribution or its missing rate), critical from :data:`CRITICAL_EFFECT` times
    its threshold, and a joint change the domain classifier found is one more; each metric that
    Page–Hinkley saw jump (``driftguard.watch``: ``rows``, ``missing/amount``…) is an anomaly.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="t")
    >>> [(s.kind.value, s.rule, s.magnitude, s.severity.value)
    ...  for s in sense(contract.validate(pd.DataFrame({"qty": [1, 2, 99, 3]})), anomalies=["rows"])]
    [('contract_violation', 'maximum', 0.25, 'critical'), ('metric_anomaly', 'page_hinkley', None, 'warning')]
    """
    signals: list[Signal] = []
    rows = len(validation.reasons) if validation is not None else 0
    for v in validation.violations if validation is not None else ():
        schema = v.rule.is_batch_rule and v.rule is not Rule.NULL_FRACTION
        kind = SignalKind.SCHEMA_CHANGE if schema else SignalKind.CONTRACT_VIOLATION
        share = v.count / rows if rows else 0.0
        if schema:
            severity = Severity.WARNING if v.rule is Rule.UNEXPECTED_COLUMN else Severity.CRITICAL
        else:
            severity = Severity.CRITICAL if share >= CRITICAL_SHARE else Severity.WARNING
        magnitude = None if schema else round(share, 6)
        signals.append(Signal(kind, v.column, v.rule.value, v.count, magnitude, v.detail, severity))
    for result in drift.rows() if drift is not None else ():
        if not result.drifted or result.statistic is None:
            continue
        severe = result.statistic >= CRITICAL_EFFECT * result.threshold
        signals.append(
            Signal(
                SignalKind.DRIFT,
                result.column,
                result.method,
                magnitude=result.statistic,
                detail=f"effect {result.statistic:.3g} ≥ {result.threshold:g}",
                severity=Severity.CRITICAL if severe else Severity.WARNING,
            )
        )
    joint = drift.multivariate if drift is not None else None
    if joint is not None and joint.drifted:
        signals.append(
            Signal(
                SignalKind.DRIFT,
                JOINT,
                "domain_classifier",
                magnitude=joint.auc,
                detail=f"AUC {joint.auc:.3f}",
            )
        )
    for metric in sorted(set(anomalies)):
        column = metric.partition("/")[2] or metric
        signals.append(
            Signal(SignalKind.METRIC_ANOMALY, column, "page_hinkley", detail=f"{metric} changed over time")
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
