"""Signals: what sensing found, in one shape the policy can route.

Every signal has a scope: a row-level one names rows (they can be quarantined); a batch-level one
(a null share over its cap, drift, a schema change, a new category) describes the batch and is
routed by the policy (alert, hold) without by itself keeping valid rows from being published.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from driftguard import DriftReport
from schemasense import Rule, ValidationResult, Violation


class SignalKind(enum.StrEnum):
    CONTRACT_VIOLATION = "contract_violation"
    SCHEMA_CHANGE = "schema_change"
    DRIFT = "drift"
    METRIC_ANOMALY = "metric_anomaly"  # a batch metric (rows, a null share, a mean) jumped
    RUN_FAILURE = "run_failure"  # the batch's run failed before its checks could judge it
    FRESHNESS = "freshness"  # no batch landed for longer than expected


class Scope(enum.StrEnum):
    """What a signal is about: single rows (they can be removed) or the batch as a whole.

    >>> Signal(SignalKind.DRIFT, "amount", "ks").scope is Scope.BATCH
    True
    """

    ROW = "row"  # a row-level rule broke on some rows: those rows can be quarantined or held
    BATCH = "batch"  # a null share over its cap, drift, a schema change: routed, never removes rows


class Severity(enum.StrEnum):
    """How bad a signal is; policies may route on it (``when: {severity: critical}``)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


CRITICAL_SHARE = 0.05
"""A contract violation on at least this share of a batch's rows is critical."""
_BATCH_RULES = frozenset(rule.value for rule in Rule if rule.is_batch_rule)
JOINT = "(joint)"
"""The column name of a drift the domain classifier found in the columns together."""
CRITICAL_EFFECT = 2.0
"""Drift whose effect is at least this many times the method's threshold is critical."""


@dataclass(frozen=True)
class Signal:
    """One finding about a batch. ``rule`` names the contract rule or drift method.

    ``magnitude`` is the share of rows a contract violation touches, a drift method's effect
    size, or how far a metric or a delay went; policies may route on it (``min_magnitude``).
    ``scope`` says whether it names rows or the batch (``when: {scope: batch}``); left out, it
    is inferred: a contract violation of a row rule is ``row``, everything else ``batch``.

    >>> Signal(SignalKind.CONTRACT_VIOLATION, "qty", "maximum", count=2).scope.value
    'row'
    >>> Signal(SignalKind.CONTRACT_VIOLATION, "qty", "null_fraction", count=9).to_dict()["scope"]
    'batch'
    """

    kind: SignalKind
    column: str
    rule: str
    count: int = 0
    magnitude: float | None = None
    detail: str = ""
    severity: Severity = Severity.WARNING
    scope: Scope | None = None  # None: inferred from kind and rule (never None once built)

    def __post_init__(self) -> None:
        if self.scope is None:
            row = self.kind is SignalKind.CONTRACT_VIOLATION and self.rule not in _BATCH_RULES
            object.__setattr__(self, "scope", Scope.ROW if row else Scope.BATCH)
        elif not isinstance(self.scope, Scope):
            object.__setattr__(self, "scope", Scope(self.scope))

    @property
    def batch_level(self) -> bool:
        """About the batch as a whole (a schema change, drift, a null burst), not single rows."""
        return self.scope is Scope.BATCH

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
            "scope": str(self.scope),
        }


def sense(
    validation: ValidationResult | None = None,
    drift: DriftReport | None = None,
    anomalies: Iterable[str] = (),
) -> list[Signal]:
    """Turn a validation result, a drift report and metric anomalies into signals.

    Missing, unexpected or retyped columns are schema changes (critical, except an added
    column); every other contract finding is a contract violation, critical from
    :data:`CRITICAL_SHARE` of the rows: of ``row`` scope when a row rule broke, of ``batch``
    scope for a null share over its cap. Values of an open category never seen in training
    (``validation.new_categories``) are ``new_category`` drift of the batch. Each drifted column
    is a drift signal (its distribution or its missing rate), critical from
    :data:`CRITICAL_EFFECT` times its threshold, and a joint change the domain classifier found
    is one more; each metric that Page–Hinkley saw jump (``driftguard.watch``: ``rows``,
    ``missing/amount``…) is an anomaly.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="t")
    >>> for s in sense(contract.validate(pd.DataFrame({"qty": [1, 2, 99, 3]})), anomalies=["rows"]):
    ...     print(s.kind.value, s.rule, s.magnitude, s.severity.value, s.scope.value)
    contract_violation maximum 0.25 critical row
    metric_anomaly page_hinkley None warning batch
    """
    if validation is None:
        return sense_totals((), 0, {}, drift, anomalies)
    # ``new_categories`` is newer than some SchemaSense versions: read it only where it exists.
    new_categories: dict[str, tuple[str, ...]] = getattr(validation, "new_categories", None) or {}
    return sense_totals(validation.violations, len(validation.reasons), new_categories, drift, anomalies)


def sense_totals(
    violations: Iterable[Violation],
    rows: int,
    new_categories: Mapping[str, Sequence[Any]],
    drift: DriftReport | None = None,
    anomalies: Iterable[str] = (),
) -> list[Signal]:
    """:func:`sense` for a batch validated in parts: its ``violations`` counted over all its
    ``rows``, and the ``new_categories`` of any part."""
    signals = _validation_signals(tuple(violations), rows, new_categories)
    signals += _drift_signals(drift) if drift is not None else []
    for metric in sorted(set(anomalies)):
        column = metric.partition("/")[2] or metric
        signals.append(
            Signal(SignalKind.METRIC_ANOMALY, column, "page_hinkley", detail=f"{metric} changed over time")
        )
    return signals


def _validation_signals(
    violations: Sequence[Violation], rows: int, new_categories: Mapping[str, Sequence[Any]]
) -> list[Signal]:
    signals: list[Signal] = []
    for v in violations:
        schema = v.rule.is_batch_rule and v.rule is not Rule.NULL_FRACTION
        kind = SignalKind.SCHEMA_CHANGE if schema else SignalKind.CONTRACT_VIOLATION
        share = v.count / rows if rows else 0.0
        if schema:
            severity = Severity.WARNING if v.rule is Rule.UNEXPECTED_COLUMN else Severity.CRITICAL
        else:
            severity = Severity.CRITICAL if share >= CRITICAL_SHARE else Severity.WARNING
        scope = Scope.BATCH if v.rule.is_batch_rule else Scope.ROW
        magnitude = None if schema else round(share, 6)
        signals.append(Signal(kind, v.column, v.rule.value, v.count, magnitude, v.detail, severity, scope))
    for column, values in sorted(new_categories.items()):
        shown = ", ".join(str(v) for v in values)
        signals.append(
            Signal(SignalKind.DRIFT, column, "new_category", len(values), detail=shown, scope=Scope.BATCH)
        )
    return signals


def _drift_signals(drift: DriftReport) -> list[Signal]:
    signals: list[Signal] = []
    for result in drift.rows():
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
    joint = drift.multivariate
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
    return signals


def schema_changes(signals: Iterable[Signal]) -> list[str]:
    """Readable names of the schema changes among ``signals``.

    >>> schema_changes([Signal(SignalKind.SCHEMA_CHANGE, "coupon", "unexpected_column", detail="text")])
    ['coupon: column added (text)']
    """
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
