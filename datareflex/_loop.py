"""The loop: sense → decide → act → verify for one batch, every step written to the ledger.

:func:`handle_batch` is the one function that the Dagster remediation step, the backtest and the
tests call. Guardrails (``_guardrails``) run as a chain before and after acting; verification
(``_verify``) senses the result again. Every record of one handling names the policy version
and the first record's id (its trail), so signal, decision, actions and outcome read as one story.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

import driftguard
from schemasense import Contract

from ._actions import ACTIONS, ActionContext, ActionKind
from ._guardrails import AFTER_ACTING, BEFORE_ACTING, Proposal, Situation, Step, guard
from ._handling import Handling, as_datetime, wall_clock
from ._ledger import Ledger
from ._outcome import Decision, Outcome, decide, held_whole, originals
from ._policy import Policy
from ._signals import Scope, Signal, SignalKind, sense
from ._verify import verify


def handle_batch(
    batch: pd.DataFrame,
    *,
    contract: Contract,
    policy: Policy,
    ledger: Ledger | None = None,
    dataset: str = "",
    batch_id: str = "",
    drift_report: driftguard.DriftReport | None = None,
    anomalies: Iterable[str] = (),
    extra_signals: Iterable[Signal] = (),
    reference: str | None = None,
    reference_rows: pd.DataFrame | None = None,
    reference_profile: driftguard.Profile | None = None,
    event_time: dt.datetime | dt.date | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Outcome:
    """Sense, decide, act and verify for ``batch``; return what happened to every row.

    The batch is validated with ``contract``; validation, ``drift_report`` and ``anomalies``
    (metrics Page–Hinkley saw jump) become signals with :func:`sense`, plus ``extra_signals``
    (a failed run, a late batch). ``policy`` routes them, the guardrails may set steps or the
    whole batch aside, actions run, and the result is validated again. With a ``ledger`` every
    step is recorded and the guardrails remember. ``reference`` names the drift reference for
    the ledger, ``reference_rows`` are known-good rows that imputers learn from, and with
    ``reference_profile`` verification scores drift again where an action tried to repair it.

    ``event_time`` is the batch's own time (its date): cooldowns and the breaker count it, never
    the wall clock, so a backfill behaves like the same days arriving live. Without it the
    batch's arrival (``clock``, the wall clock by default) stands in.

    A frame without columns stands for a batch that never arrived (its run failed, it is late):
    it is not validated, and only ``extra_signals`` speak for it.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(40)}), name="t")
    >>> policy = Policy.from_yaml("rules: [{when: {kind: contract_violation}, then: quarantine}]")
    >>> batch = pd.DataFrame({"id": [50, 51, 52, 53, 54, 55, 55]})
    >>> outcome = handle_batch(batch, contract=contract, policy=policy, batch_id="day-1")
    >>> outcome.decision.value, len(outcome.published), outcome.quarantined["_reason"].tolist()
    ('remediate', 6, ['id: 55 repeats an earlier row'])
    """
    batch = batch.reset_index(drop=True)
    validation = contract.validate(batch) if len(batch.columns) else None  # no columns: no batch came
    signals = [*sense(validation, drift_report, anomalies), *extra_signals]
    now = (clock or wall_clock)()
    handling = Handling(
        policy, ledger, dataset or contract.name, batch_id, as_datetime(event_time) or now, now, reference
    )
    return respond(batch, signals, contract, handling, reference_rows, reference_profile)


def respond(
    batch: pd.DataFrame,
    signals: Sequence[Signal],
    contract: Contract,
    handling: Handling,
    reference_rows: pd.DataFrame | None = None,
    reference_profile: driftguard.Profile | None = None,
) -> Outcome:
    """Decide, act and verify for signals already sensed (``handle_batch`` senses first)."""
    batch = batch.reset_index(drop=True)  # labels identify rows through every action
    for signal in signals:
        handling.record("signal", signal.kind.value, signal.to_dict(), contract.version)
    situation = Situation(
        handling.policy,
        handling.ledger,
        handling.dataset,
        handling.batch,
        handling.event_time,
        len(batch),
        tuple(signals),
    )
    proposal = guard(BEFORE_ACTING, situation, propose(handling.policy, signals))
    if proposal.hold is not None:
        return _held(batch, contract, signals, proposal, handling, ())
    handling.record(
        "decision",
        decide(proposal.actions).value,
        {"actions": proposal.actions, "signals": [str(s) for s in signals]},
        contract.version,
    )
    acted = _act(batch, contract, proposal, reference_rows, handling)
    proposal = guard(AFTER_ACTING, situation, replace(proposal, removed=acted.removed_rows))
    if proposal.hold is not None:
        return _held(batch, contract, signals, proposal, handling, tuple(acted.notes))
    return _verified(batch, signals, proposal, acted, reference_profile, handling)


def propose(policy: Policy, signals: Sequence[Signal]) -> Proposal:
    """The policy's plan as steps. A quarantine of batch-scope signals acts as an alert: a
    batch-level breach names no rows to remove."""
    steps: list[Step] = []
    for rule, routed in policy.plan(signals).steps:
        batch_level = tuple(s for s in routed if s.scope is Scope.BATCH)
        if rule.then is not ActionKind.QUARANTINE or not batch_level:
            steps.append(Step(rule, routed))
            continue
        rows = tuple(s for s in routed if s.scope is not Scope.BATCH)
        steps += [Step(rule, rows)] if rows else []
        columns = ", ".join(sorted({s.column for s in batch_level}))
        note = f"quarantine of batch-level {columns} acts as an alert: a batch breach names no rows"
        alert = rule.model_copy(update={"then": ActionKind.ALERT})
        steps.append(Step(alert, batch_level, notes=(note,)))
    order = list(ActionKind)
    return Proposal(tuple(sorted(steps, key=lambda step: order.index(step.action))))


@dataclass
class _Acted:
    """The batch after the actions ran: what they removed and held, and what they said."""

    frame: pd.DataFrame
    contract: Contract
    removed: list[pd.DataFrame] = field(default_factory=list)
    held: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """What acting wrote to the ledger, (step, kind, detail) in order."""

    @property
    def removed_rows(self) -> int:
        return sum(len(f) for f in self.removed)


def _act(
    batch: pd.DataFrame,
    contract: Contract,
    proposal: Proposal,
    reference_rows: pd.DataFrame | None,
    handling: Handling,
) -> _Acted:
    acted = _Acted(batch, contract)

    def record(step: str, kind: str, detail: dict[str, Any]) -> None:
        acted.records.append((step, kind, detail))
        handling.record(step, kind, detail, acted.contract.version)

    for step in proposal.steps:
        if step.skipped is not None:
            acted.notes.append(step.skipped)
            if step.ledgered:
                skipped = {"targets": step.targets, "skipped": True, "notes": [step.skipped]}
                record("action", step.action.value, skipped)
            continue
        acted.notes += step.notes
        if step.ask:
            record("approval", "requested", {"action": step.action.value, "targets": step.targets})
        context = ActionContext(acted.contract, step.rule.params, reference_rows)
        result = ACTIONS[step.action](acted.frame, step.signals, context)
        acted.frame, acted.contract = result.frame, result.contract
        acted.removed += [result.removed] if result.removed is not None else []
        acted.held += [result.held] if result.held is not None else []
        acted.notes += result.notes
        detail = {
            "rule": step.rule.name,
            "targets": step.targets,
            "magnitude": step.magnitude,
            "signals": [str(s) for s in step.signals],
            "notes": [*step.notes, *result.notes],
            "rows_removed": 0 if result.removed is None else len(result.removed),
            "rows_held": 0 if result.held is None else len(result.held),
        }
        record("action", step.action.value, detail)
    return acted


def _held(
    batch: pd.DataFrame,
    contract: Contract,
    signals: Sequence[Signal],
    proposal: Proposal,
    handling: Handling,
    notes: tuple[str, ...],
) -> Outcome:
    """A guardrail held the whole batch: a decision for a person, not a failed remediation."""
    assert proposal.hold is not None
    actions = record_hold(proposal, contract, handling)
    outcome = held_whole(batch, proposal.hold, contract, signals, actions, (*notes, proposal.hold))
    outcome = replace(outcome, dataset=handling.dataset, batch=handling.batch, event_time=handling.event_time)
    handling.record("outcome", "held", outcome.summary(), contract.version)
    return outcome


def record_hold(proposal: Proposal, contract: Contract, handling: Handling) -> tuple[str, ...]:
    """Record a guardrail's hold of the whole batch as the decision; the actions it set aside
    (none when the breaker held it: nothing was planned)."""
    assert proposal.hold is not None
    detail: dict[str, Any] = {"reason": proposal.hold}
    if proposal.breaker is not None:
        detail["breaker"] = proposal.breaker.value
    handling.record("decision", Decision.HOLD.value, detail, contract.version)
    return () if proposal.breaker is not None else tuple(proposal.actions)


def _verified(
    batch: pd.DataFrame,
    signals: Sequence[Signal],
    proposal: Proposal,
    acted: _Acted,
    reference_profile: driftguard.Profile | None,
    handling: Handling,
) -> Outcome:
    """Sense the result again and write the outcome."""
    verified: bool | None = None
    frame, held = acted.frame, list(acted.held)
    if proposal.steps and len(batch):  # a batch without rows (a failed run) has nothing to verify
        check = verify(
            frame,
            acted.contract,
            len(batch),
            acted.removed_rows + sum(len(f) for f in acted.held),
            acknowledged=_acknowledged(proposal),
            reference=reference_profile,
            repaired=_repaired(proposal),
        )
        frame, verified = check.published, check.verified
        held += [check.unresolved] if len(check.unresolved) else []
    outcome = Outcome(
        decide(proposal.actions),
        tuple(proposal.actions),
        frame,
        originals(batch, acted.removed),
        originals(batch, held),
        verified,
        acted.contract,
        tuple(signals),
        tuple(acted.notes),
        handling.dataset,
        handling.batch,
        handling.event_time,
    )
    kind = "verified" if verified else "unverified" if verified is False else "none"
    handling.record("outcome", kind, outcome.summary(), acted.contract.version)
    return outcome


def _acknowledged(proposal: Proposal) -> set[tuple[str, str]]:
    """Batch-level contract breaches the policy routed to an action that changes no data."""
    return {
        (s.column, s.rule)
        for step in proposal.steps
        if not step.action.changes_data
        for s in step.signals
        if s.scope is Scope.BATCH and s.kind is SignalKind.CONTRACT_VIOLATION
    }


def _repaired(proposal: Proposal) -> list[tuple[str, str]]:
    """The (column, drift method) pairs an action that changes data tried to repair."""
    return sorted(
        {
            (s.column, s.rule)
            for step in proposal.steps
            if step.action.changes_data and step.skipped is None
            for s in step.signals
            if s.kind is SignalKind.DRIFT
        }
    )
