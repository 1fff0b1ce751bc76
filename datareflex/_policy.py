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
      - when: {kind: contract_violation}
        then: quarantine
    default: hold
    guardrails:
      max_removed_share: 0.2   # past it, the batch is held instead of thinned
      cooldown_minutes: {alert: 360}
      breaker_failures: 3
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._actions import ActionKind
from ._signals import Severity, Signal, SignalKind
from .errors import PolicyError

_TOP_KEYS = {"rules", "default", "guardrails"}
_GUARDRAIL_KEYS = {"max_removed_share", "cooldown_minutes", "breaker_failures", "breaker_reset_minutes"}
_RULE_KEYS = {"name", "when", "then", "with"}
_MATCH_KEYS = {"kind", "column", "rule", "severity", "min_magnitude", "max_magnitude"}


@dataclass(frozen=True)
class PolicyRule:
    """Route signals matching every key of ``when`` to ``then``.

    ``when`` holds the allowed values of ``kind``, ``column``, ``rule`` and ``severity``; a
    signal matches ``min_magnitude`` / ``max_magnitude`` only if it has a magnitude in range.
    """

    then: ActionKind
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    min_magnitude: float | None = None
    max_magnitude: float | None = None

    def matches(self, signal: Signal) -> bool:
        fields = {
            "kind": signal.kind.value,
            "column": signal.column,
            "rule": signal.rule,
            "severity": signal.severity.value,
        }
        if not all(fields[key] in allowed for key, allowed in self.when.items()):
            return False
        if self.min_magnitude is None and self.max_magnitude is None:
            return True
        size = signal.magnitude
        return (
            size is not None
            and (self.min_magnitude is None or size >= self.min_magnitude)
            and (self.max_magnitude is None or size <= self.max_magnitude)
        )


@dataclass(frozen=True)
class Plan:
    """The actions chosen for a batch, in the order they apply, each with its signals."""

    steps: tuple[tuple[PolicyRule, tuple[Signal, ...]], ...]

    @property
    def actions(self) -> list[str]:
        return [rule.then.value for rule, _ in self.steps]


@dataclass(frozen=True)
class Policy:
    """Rules, the action for signals no rule takes, and guardrails.

    ``max_removed_share`` is the budget: the largest share of a batch that actions may remove
    (quarantine, deduplicate, rows that cannot be coerced). Past it the whole batch is held for
    a person rather than silently thinned. ``cooldown_minutes`` maps an action to the time
    before it may act again on the same columns (unless its signal grew by half since).
    After ``breaker_failures`` remediations in a row that failed verification, the circuit
    breaker opens: batches are held for a person until ``breaker_reset_minutes`` pass, then one
    trial runs (half-open) and a verified outcome closes it again.
    """

    rules: tuple[PolicyRule, ...]
    default: ActionKind = ActionKind.HOLD
    max_removed_share: float = 0.2
    cooldown_minutes: Mapping[str, float] = field(default_factory=dict)
    breaker_failures: int = 3
    breaker_reset_minutes: float = 1440.0
    version: str = ""
    """The first 12 hex digits of the SHA-256 of the policy's text: every ledger record names it."""

    def plan(self, signals: Sequence[Signal]) -> Plan:
        """Route each signal to its first matching rule; order the steps by action kind.

        >>> policy = Policy.from_yaml("rules: [{when: {kind: drift}, then: alert}]")
        >>> s = Signal(SignalKind.DRIFT, "amount", "chi_square")
        >>> policy.plan([s]).actions
        ['alert']
        """
        taken: dict[int, list[Signal]] = {}
        fallback = PolicyRule(self.default, name="default")
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
    def from_yaml(cls, text: str, source: str = "<policy>") -> Policy:
        """Read a policy; any mistake raises :class:`PolicyError` naming file, line and key."""
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{source}: not valid YAML: {exc}") from None
        if node is None:
            raise PolicyError(f"{source}: the policy is empty")
        top = _mapping(node, source, "the policy")
        _no_unknown(top, _TOP_KEYS, source, "the policy")
        default = ActionKind.HOLD
        if "default" in top:
            default = _action(top["default"][1], source, "default")
        rules_node = top.get("rules", (None, None))[1]
        if rules_node is None or not isinstance(rules_node, yaml.SequenceNode):
            raise PolicyError(f"{source}, line {node.start_mark.line + 1}: 'rules' must be a list")
        rules = tuple(_rule(item, source, i) for i, item in enumerate(rules_node.value))
        settings: dict[str, Any] = {}
        if "guardrails" in top:
            guards = _mapping(top["guardrails"][1], source, "guardrails")
            _no_unknown(guards, _GUARDRAIL_KEYS, source, "guardrails")
            if "max_removed_share" in guards:
                settings["max_removed_share"] = _share(
                    guards["max_removed_share"][1], source, "guardrails.max_removed_share"
                )
            if "breaker_failures" in guards:
                settings["breaker_failures"] = int(
                    _number(guards["breaker_failures"][1], source, "guardrails.breaker_failures", minimum=1)
                )
            if "breaker_reset_minutes" in guards:
                settings["breaker_reset_minutes"] = _number(
                    guards["breaker_reset_minutes"][1], source, "guardrails.breaker_reset_minutes"
                )
            if "cooldown_minutes" in guards:
                cooldowns = _mapping(guards["cooldown_minutes"][1], source, "guardrails.cooldown_minutes")
                settings["cooldown_minutes"] = {
                    _action(key_node, source, "guardrails.cooldown_minutes").value: _number(
                        value_node, source, f"guardrails.cooldown_minutes.{name}"
                    )
                    for name, (key_node, value_node) in cooldowns.items()
                }
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        return cls(rules, default, **settings, version=version)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        return cls.from_yaml(Path(path).read_text(), source=str(path))


def _rule(node: yaml.Node, source: str, index: int) -> PolicyRule:
    where = f"rules[{index}]"
    entries = _mapping(node, source, where)
    _no_unknown(entries, _RULE_KEYS, source, where)
    if "then" not in entries:
        raise PolicyError(f"{source}, line {node.start_mark.line + 1}: {where} needs 'then' (an action)")
    then = _action(entries["then"][1], source, f"{where}.then")
    when: dict[str, tuple[str, ...]] = {}
    bounds: dict[str, float] = {}
    if "when" in entries:
        match = _mapping(entries["when"][1], source, f"{where}.when")
        _no_unknown(match, _MATCH_KEYS, source, f"{where}.when")
        for key, (_, value_node) in match.items():
            if key in ("min_magnitude", "max_magnitude"):
                bounds[key] = _number(value_node, source, f"{where}.when.{key}")
                continue
            values = yaml.safe_load(yaml.serialize(value_node))
            values = tuple(str(v) for v in (values if isinstance(values, list) else [values]))
            enums: dict[str, list[str]] = {
                "kind": [k.value for k in SignalKind],
                "severity": [k.value for k in Severity],
            }
            for v in values:
                if key in enums and v not in enums[key]:
                    raise PolicyError(
                        f"{source}, line {value_node.start_mark.line + 1}: "
                        f"{where}.when.{key} {v!r} is not one of {enums[key]}"
                    )
            when[key] = values
    params: dict[str, Any] = {}
    if "with" in entries:
        params = yaml.safe_load(yaml.serialize(entries["with"][1])) or {}
        if not isinstance(params, dict):
            raise PolicyError(
                f"{source}, line {entries['with'][1].start_mark.line + 1}: {where}.with must be a mapping"
            )
    name = str(yaml.safe_load(yaml.serialize(entries["name"][1]))) if "name" in entries else ""
    return PolicyRule(then, when, params, name, **bounds)


def _mapping(node: yaml.Node, source: str, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise PolicyError(f"{source}, line {node.start_mark.line + 1}: {where} must be a mapping")
    return {str(k.value): (k, v) for k, v in node.value}


def _no_unknown(
    entries: Mapping[str, tuple[yaml.Node, yaml.Node]], valid: set[str], source: str, where: str
) -> None:
    for key, (key_node, _) in entries.items():
        if key not in valid:
            raise PolicyError(
                f"{source}, line {key_node.start_mark.line + 1}: unknown key {key!r} in "
                f"{where}; valid keys: {sorted(valid)}"
            )


def _share(node: yaml.Node, source: str, where: str) -> float:
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise PolicyError(
            f"{source}, line {node.start_mark.line + 1}: {where} must be a share between 0 and 1, "
            f"got {value!r}"
        )
    return float(value)


def _number(node: yaml.Node, source: str, where: str, minimum: float = 0.0) -> float:
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise PolicyError(
            f"{source}, line {node.start_mark.line + 1}: {where} must be a number of at least "
            f"{minimum:g}, got {value!r}"
        )
    return float(value)


def _action(node: yaml.Node, source: str, where: str) -> ActionKind:
    value = str(node.value) if isinstance(node, yaml.ScalarNode) else None
    try:
        return ActionKind(value or "")
    except ValueError:
        valid = [a.value for a in ActionKind]
        raise PolicyError(
            f"{source}, line {node.start_mark.line + 1}: {where} {value!r} is not an "
            f"action; valid actions: {valid}"
        ) from None
