"""Policies: YAML rules that route signals to actions. Data, never code.

A policy is a list of rules tried in order; the first rule whose ``when`` matches a signal
takes it. Signals no rule takes go to ``default`` (``hold`` unless said otherwise: what the
policy does not know, a person decides)::

    rules:
      - when: {kind: schema_change, rule: type_changed}
        then: coerce
      - when: {kind: contract_violation, rule: not_null, column: discount}
        then: impute
        with: {strategy: most_frequent}
      - when: {kind: drift, severity: critical, min_magnitude: 0.3}
        then: hold
      - when: {kind: contract_violation, scope: batch}   # a null share over its cap
        then: alert
      - when: {kind: contract_violation}
        then: quarantine
    default: hold
    guardrails:
      max_removed_share: 0.2   # past it, the batch is held instead of thinned
      cooldown_minutes: {alert: 360}   # of event time: a backfill cools down like live
      breaker_failures: 3
    alerts:
      allowed_hosts: [hooks.slack.com]   # the only hosts a rule's webhook may post to

The models are pydantic (``extra="forbid"`` everywhere), so :meth:`Policy.json_schema` is the
file's JSON Schema and every mistake is a :class:`PolicyError` naming the file, line and key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field

from ._actions import ActionKind
from ._alerts import Alerts, check_webhooks
from ._signals import Scope, Severity, Signal, SignalKind
from ._yaml import load_yaml_model
from .errors import PolicyError


def _as_list(value: Any) -> Any:
    """``kind: drift`` means ``kind: [drift]``; scalars of a list of names are read as text."""
    values = value if isinstance(value, list | tuple) else [value]
    return [v if isinstance(v, str | bool | dict | list) else str(v) for v in values]


_Kinds = Annotated[tuple[SignalKind, ...] | None, BeforeValidator(_as_list)]
_Texts = Annotated[tuple[str, ...] | None, BeforeValidator(_as_list)]
_Severities = Annotated[tuple[Severity, ...] | None, BeforeValidator(_as_list)]
_Scopes = Annotated[tuple[Scope, ...] | None, BeforeValidator(_as_list)]

_FORBID = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class When(pydantic.BaseModel):
    """Which signals a rule takes: every key given must match (each key a name or a list)."""

    model_config = _FORBID

    kind: _Kinds = Field(
        default=None, description="Signal kinds: contract_violation, schema_change, drift, …."
    )
    column: _Texts = Field(default=None, description="Column names the signal is about.")
    rule: _Texts = Field(
        default=None, description="Contract rules (not_null, maximum, …) or drift methods (ks, …)."
    )
    severity: _Severities = Field(default=None, description="Severities: info, warning, critical.")
    scope: _Scopes = Field(
        default=None, description="row (the signal names rows) or batch (it describes the batch)."
    )
    min_magnitude: float | None = Field(
        default=None, description="Only signals with a magnitude at least this."
    )
    max_magnitude: float | None = Field(
        default=None, description="Only signals with a magnitude at most this."
    )

    def matches(self, signal: Signal) -> bool:
        """Whether ``signal`` has every property named here.

        ``kind: drift`` also takes ``metric_anomaly`` signals: a batch metric that Page–Hinkley
        saw change over the batches drifted too; ``kind: metric_anomaly`` takes only those.

        >>> When(kind=["drift"], scope=["batch"]).matches(Signal(SignalKind.DRIFT, "amount", "ks"))
        True
        >>> When(kind=["drift"]).matches(Signal(SignalKind.METRIC_ANOMALY, "rows", "page_hinkley"))
        True
        """
        kinds = self.kind
        if kinds is not None and signal.kind is SignalKind.METRIC_ANOMALY and SignalKind.DRIFT in kinds:
            kinds = (*kinds, SignalKind.METRIC_ANOMALY)
        names = {
            "kind": signal.kind.value,
            "column": signal.column,
            "rule": signal.rule,
            "severity": signal.severity.value,
            "scope": str(signal.scope),
        }
        for key, value in names.items():
            allowed = kinds if key == "kind" else getattr(self, key)
            if allowed is not None and value not in [str(a) for a in allowed]:
                return False
        if self.min_magnitude is None and self.max_magnitude is None:
            return True
        size = signal.magnitude
        return (
            size is not None
            and (self.min_magnitude is None or size >= self.min_magnitude)
            and (self.max_magnitude is None or size <= self.max_magnitude)
        )


class PolicyRule(pydantic.BaseModel):
    """Route signals matching ``when`` to the action ``then``, with the action's ``with`` params.

    >>> rule = PolicyRule(when=When(kind=["drift"]), then=ActionKind.ALERT)
    >>> rule.matches(Signal(SignalKind.DRIFT, "amount", "ks")), rule.params
    (True, {})
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(default="", description="A sentence for people; the ledger names the rule by it.")
    when: When = Field(default_factory=lambda: When(), description="Which signals the rule takes.")
    then: ActionKind = Field(description="The action for the signals the rule takes.")
    params: dict[str, Any] = Field(
        default_factory=dict,
        alias="with",
        description="The action's parameters (strategy, webhook, reason, accept_additive) and "
        "after_batches: act only once the signal was seen in that many batches in a row.",
    )

    @pydantic.field_validator("params")
    @classmethod
    def _after_batches(cls, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("after_batches", 1)
        if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1:
            raise ValueError(f"after_batches must be a whole number of at least 1, got {wanted!r}")
        return params

    def matches(self, signal: Signal) -> bool:
        return self.when.matches(signal)


class Guardrails(pydantic.BaseModel):
    """Limits on what the policy may do by itself.

    >>> Guardrails(cooldown_minutes={"alert": 60}).cooldown_minutes
    {<ActionKind.ALERT: 'alert'>: 60.0}
    """

    model_config = _FORBID

    max_removed_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="The largest share of a batch that actions may remove; past it the whole batch "
        "is held for a person (a decision, not a failed remediation).",
    )
    cooldown_minutes: dict[ActionKind, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Per action, the event time before it may act again on the same columns "
        "(unless its signal grew by half since).",
    )
    breaker_failures: int = Field(
        default=3, ge=1, description="Remediations in a row that fail verification before the breaker opens."
    )
    breaker_reset_minutes: float = Field(
        default=1440.0,
        ge=0,
        description="Event time after the last failure before one trial runs (half-open).",
    )


@dataclass(frozen=True)
class Plan:
    """The actions chosen for a batch, in the order they apply, each with its signals."""

    steps: tuple[tuple[PolicyRule, tuple[Signal, ...]], ...]

    @property
    def actions(self) -> list[str]:
        return [rule.then.value for rule, _ in self.steps]


class Policy(pydantic.BaseModel):
    """Rules, the action for signals no rule takes, and guardrails.

    ``max_removed_share`` is the budget: the largest share of a batch that actions may remove
    (quarantine, deduplicate, rows that cannot be coerced). Past it the whole batch is held for
    a person rather than silently thinned. ``cooldown_minutes`` maps an action to the event time
    before it may act again on the same columns (unless its signal grew by half since).
    After ``breaker_failures`` remediations in a row that failed verification, the circuit
    breaker opens: batches are held for a person until ``breaker_reset_minutes`` of event time
    pass, then one trial runs (half-open) and a verified outcome closes it again.

    >>> policy = Policy.from_yaml("rules: [{when: {kind: drift}, then: alert}]")
    >>> policy.default.value, policy.max_removed_share, len(policy.version)
    ('hold', 0.2, 12)
    """

    model_config = _FORBID

    rules: tuple[PolicyRule, ...] = Field(description="Rules tried in order; the first match takes a signal.")
    default: ActionKind = Field(default=ActionKind.HOLD, description="The action for signals no rule takes.")
    guardrails: Guardrails = Field(default_factory=lambda: Guardrails(), description="Limits on the policy.")
    alerts: Alerts = Field(default_factory=lambda: Alerts(), description="Where alerts may be sent.")
    _version: str = pydantic.PrivateAttr("")

    @pydantic.model_validator(mode="after")
    def _webhooks_allowed(self) -> Policy:
        check_webhooks(self.rules, self.alerts)
        return self

    @property
    def version(self) -> str:
        """The first 12 hex digits of the SHA-256 of the policy's text: every ledger record names it."""
        if not self._version:
            text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
            self._version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        return self._version

    @property
    def max_removed_share(self) -> float:
        return self.guardrails.max_removed_share

    @property
    def cooldown_minutes(self) -> dict[str, float]:
        return {action.value: minutes for action, minutes in self.guardrails.cooldown_minutes.items()}

    @property
    def breaker_failures(self) -> int:
        return self.guardrails.breaker_failures

    @property
    def breaker_reset_minutes(self) -> float:
        return self.guardrails.breaker_reset_minutes

    def plan(self, signals: Sequence[Signal]) -> Plan:
        """Route each signal to its first matching rule; order the steps by action kind.

        >>> policy = Policy.from_yaml("rules: [{when: {kind: drift}, then: alert}]")
        >>> s = Signal(SignalKind.DRIFT, "amount", "chi_square")
        >>> policy.plan([s]).actions
        ['alert']
        """
        taken: dict[int, list[Signal]] = {}
        fallback = PolicyRule(then=self.default, name="default")
        rules = [*self.rules, fallback]
        for signal in signals:
            index = next(i for i, r in enumerate(rules) if r is fallback or r.matches(signal))
            taken.setdefault(index, []).append(signal)
        order = list(ActionKind)
        steps = sorted(
            ((rules[i], tuple(s)) for i, s in taken.items()), key=lambda st: order.index(st[0].then)
        )
        return Plan(tuple(steps))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a policy file, with a description of every key.

        >>> sorted(Policy.json_schema()["properties"])
        ['alerts', 'default', 'guardrails', 'rules']
        """
        return cls.model_json_schema(by_alias=True)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<policy>") -> Policy:
        """Read a policy; any mistake raises :class:`PolicyError` naming file, line and key.

        >>> try:
        ...     Policy.from_yaml("rules:\\n  - when: {kind: drift}\\n    then: quarantin\\n", "p.yaml")
        ... except PolicyError as error:
        ...     print(str(error)[:45], "…", str(error)[-15:])
        p.yaml, line 3: rules.0.then must be one of [ … got 'quarantin'
        """
        policy = load_yaml_model(cls, text, source, error=PolicyError)
        policy._version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        return policy

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        return cls.from_yaml(Path(path).read_text(), source=str(path))
