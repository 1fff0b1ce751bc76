"""The reflex: decide → act → verify for one batch, every step written to the ledger."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import driftguard
from schemasense import REASON_COLUMN, Contract

from ._actions import ACTIONS, ActionContext, ActionKind
from ._guardrails import BreakerState, breaker_state, cooling, persisting
from ._ledger import Ledger, approvals_of
from ._policy import Policy
from ._signals import Signal, sense  # noqa: F401  (sense: used in the doctest)


class Decision(enum.StrEnum):
    PUBLISH = "publish"  # nothing was wrong
    ALERT = "alert"  # published as is, with an alert
    REMEDIATE = "remediate"  # actions changed the batch
    HOLD = "hold"  # some rows wait for a person


@dataclass(frozen=True, eq=False)
class Outcome:
    """What happened to a batch. ``published``, ``quarantined`` and ``held`` partition its rows.

    ``verified`` is ``None`` when no action was needed, else whether sensing the result again
    found every published row valid and every input row accounted for.
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

    @classmethod
    def untouched(cls, batch: pd.DataFrame) -> Outcome:
        """Publish ``batch`` as it is: nothing was sensed against it (a training batch)."""
        empty = _stack([], batch)
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


class Reflex:
    """Apply a policy to a batch's signals, then verify the result by validating it again.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(40)}), name="t")
    >>> policy = Policy.from_yaml("rules: [{when: {kind: contract_violation}, then: quarantine}]")
    >>> batch = pd.DataFrame({"id": [50, 51, 52, 53, 54, 55, 55]})
    >>> signals = sense(contract.validate(batch))
    >>> outcome = Reflex(policy).handle(batch, signals, contract=contract)
    >>> outcome.decision.value, len(outcome.published), outcome.quarantined["_reason"].tolist()
    ('remediate', 6, ['id: 55 repeats an earlier row'])
    """

    def __init__(
        self, policy: Policy, ledger: Ledger | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.policy = policy
        self.ledger = ledger
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def handle(
        self,
        batch: pd.DataFrame,
        signals: Sequence[Signal],
        *,
        contract: Contract,
        dataset: str = "",
        batch_id: str = "",
        reference: str | None = None,
        reference_rows: pd.DataFrame | None = None,
        reference_profile: driftguard.Profile | None = None,
    ) -> Outcome:
        """Decide, act and verify for ``batch``.

        ``reference`` names the drift reference for the ledger; ``reference_rows`` are known-good
        rows that actions may learn from (imputers are fitted on them). With
        ``reference_profile``, verification also scores drift again on the columns whose drift
        an action tried to repair.

        A rule's ``after_batches`` (in ``with``) makes it wait until its signal has been seen in
        that many batches in a row: retrain when drift persists, not on one odd batch.
        """
        now = self.clock()
        name = dataset or contract.name
        # Guardrails with memory read it from the ledger; without a ledger only the budget applies.
        history = self.ledger.records(dataset=name) if self.ledger is not None else []
        earlier_batches = [r for r in history if r.batch != batch_id]

        # Every record names the policy version and, after the first, the first record's id (its
        # "trail"): one handling's signal, decision, actions and outcome read back as one story.
        trail: list[int] = []

        def record(step: str, kind: str, detail: dict[str, Any], version: int) -> None:
            if self.ledger is not None:
                linked = {**detail, "policy": self.policy.version, "trail": trail[0] if trail else None}
                new = self.ledger.append(
                    name, batch_id, step, kind, linked, contract_version=version, reference=reference, at=now
                )
                trail.append(new)

        batch = batch.reset_index(drop=True)  # labels identify rows through every action
        for signal in signals:
            record("signal", signal.kind.value, signal.to_dict(), contract.version)
        state = breaker_state(history, now, self.policy.breaker_failures, self.policy.breaker_reset_minutes)
        if signals and state is BreakerState.OPEN:
            reason = (
                f"held: circuit breaker open after {self.policy.breaker_failures} remediations in a row "
                "failed verification; a person decides"
            )
            record(
                "decision", Decision.HOLD.value, {"reason": reason, "breaker": state.value}, contract.version
            )
            outcome = _held(batch, reason, contract, signals, ())
            record("outcome", "held", outcome.summary(), contract.version)
            return outcome
        plan = self.policy.plan(signals)
        decision = _decide(plan.actions)
        record(
            "decision",
            decision.value,
            {"actions": plan.actions, "signals": [str(s) for s in signals]},
            contract.version,
        )

        frame, current = batch, contract
        removed: list[pd.DataFrame] = []
        held: list[pd.DataFrame] = []
        notes: list[str] = []
        for rule, routed in plan.steps:
            targets = sorted({s.column for s in routed})
            magnitude = max(float(s.magnitude if s.magnitude is not None else s.count) for s in routed)
            minutes = self.policy.cooldown_minutes.get(rule.then.value)
            earlier = cooling(history, rule.then.value, targets, magnitude, now, minutes) if minutes else None
            if earlier is not None:
                since = earlier.recorded_at
                note = f"{rule.then.value} on {', '.join(targets)} skipped: cooling down since {since}"
                notes.append(note)
                record(
                    "action",
                    rule.then.value,
                    {"targets": targets, "skipped": True, "notes": [note]},
                    current.version,
                )
                continue
            wanted = int(rule.params.get("after_batches", 1))
            if wanted > 1:
                kinds = sorted({s.kind.value for s in routed})
                seen = 1 + persisting(earlier_batches, kinds, targets)
                if seen < wanted:
                    notes.append(
                        f"{rule.then.value} on {', '.join(targets)} waits: signal seen in {seen} "
                        f"batch(es) in a row of {wanted}"
                    )
                    continue
            if rule.then.needs_approval:
                asked = [
                    a
                    for a in approvals_of(history)
                    if a.action == rule.then.value
                    and set(a.targets) & set(targets)
                    and a.status != "done"
                    and (
                        a.batch == batch_id or not rule.then.changes_data
                    )  # a rollback is per batch, and so on
                ]
                if asked:  # asked once already: a person has it, said no, or it is being done
                    notes.append(
                        f"{rule.then.value} on {', '.join(targets)}: approval {asked[-1].id} "
                        f"is {asked[-1].status}"
                    )
                    if not rule.then.changes_data:
                        continue
                else:
                    record(
                        "approval",
                        "requested",
                        {"action": rule.then.value, "targets": targets},
                        current.version,
                    )
            result = ACTIONS[rule.then](frame, routed, ActionContext(current, rule.params, reference_rows))
            frame, current = result.frame, result.contract
            removed += [result.removed] if result.removed is not None else []
            held += [result.held] if result.held is not None else []
            notes += result.notes
            record(
                "action",
                rule.then.value,
                {
                    "rule": rule.name,
                    "targets": targets,
                    "magnitude": magnitude,
                    "signals": [str(s) for s in routed],
                    "notes": list(result.notes),
                    "rows_removed": 0 if result.removed is None else len(result.removed),
                    "rows_held": 0 if result.held is None else len(result.held),
                },
                current.version,
            )

        verified: bool | None = None
        removing = sum(len(f) for f in removed)
        if len(batch) and removing / len(batch) > self.policy.max_removed_share:
            # Guardrail: remediation would thin the batch past the budget; a person decides.
            reason = (
                f"held: remediation would remove {removing} of {len(batch)} rows, more than the "
                f"budget of {self.policy.max_removed_share:.0%}"
            )
            notes.append(reason)
            record("decision", Decision.HOLD.value, {"reason": reason}, current.version)
            outcome = _held(batch, reason, contract, signals, tuple(plan.actions), tuple(notes))
            record("outcome", "unverified", outcome.summary(), contract.version)
            return outcome
        if plan.steps and len(batch):  # a batch without rows (a failed run) has nothing to verify
            repaired = sorted(
                {
                    (s.column, s.rule)
                    for rule, routed in plan.steps
                    if rule.then.changes_data
                    for s in routed
                    if s.kind.value == "drift"
                }
            )
            frame, unresolved, verified = _verify(
                frame, current, batch, removed + held, reference_profile, repaired
            )
            held += [unresolved] if len(unresolved) else []
        outcome = Outcome(
            decision,
            tuple(plan.actions),
            frame,
            _originals(batch, removed),
            _originals(batch, held),
            verified,
            current,
            tuple(signals),
            tuple(notes),
        )
        record(
            "outcome",
            "verified" if verified else "unverified" if verified is False else "none",
            outcome.summary(),
            current.version,
        )
        return outcome


def _held(
    batch: pd.DataFrame,
    reason: str,
    contract: Contract,
    signals: Sequence[Signal],
    actions: tuple[str, ...],
    notes: tuple[str, ...] = (),
) -> Outcome:
    """Every row set aside for a person, with ``reason``; nothing published or removed."""
    return Outcome(
        Decision.HOLD,
        actions,
        batch.iloc[0:0],
        _stack([], batch),
        batch.assign(**{REASON_COLUMN: reason}),
        False,
        contract,
        tuple(signals),
        notes or (reason,),
    )


def _decide(actions: list[str]) -> Decision:
    if not actions:
        return Decision.PUBLISH
    if {ActionKind.HOLD.value, ActionKind.ROLLBACK.value, ActionKind.CHANGE_CONTRACT.value} & set(actions):
        return Decision.HOLD
    if any(ActionKind(a).changes_data for a in actions):
        return Decision.REMEDIATE
    return Decision.ALERT


def _verify(
    frame: pd.DataFrame,
    contract: Contract,
    batch: pd.DataFrame,
    set_aside: list[pd.DataFrame],
    reference: driftguard.Profile | None = None,
    repaired: Sequence[tuple[str, str]] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Sense the result again. Rows still invalid are held, never published.

    The contract judges every row; with a reference profile, drift is scored again on the
    ``repaired`` (column, method) pairs, and drift that an action should have removed (the same
    test still flags it) holds the whole batch.
    """
    result = contract.validate(frame)
    accounted = len(frame) + sum(len(f) for f in set_aside) == len(batch)
    batch_problems = [f"{v.column}: {v.rule.value}" for v in result.batch_violations]
    pairs = set(repaired)
    columns = sorted({c for c, _ in pairs if reference is not None and c in reference.columns and c in frame})
    if columns and reference is not None and len(frame):
        again = (
            driftguard.DriftDetector(columns=columns)
            .fit(reference)
            .score(driftguard.profile(frame[columns], like=reference))
        )
        batch_problems += [
            f"{t.column}: still drifts ({t.method})"
            for t in again.rows()
            if t.drifted and (t.column, t.method) in pairs
        ]
    if not batch_problems and result.ok and accounted:
        return frame, frame.iloc[0:0], True
    if batch_problems:
        reason = "; ".join(batch_problems)
        unresolved = frame.assign(**{REASON_COLUMN: f"held: unresolved after remediation: {reason}"})
        return frame.iloc[0:0], unresolved, False
    bad = pd.notna(result.reasons)
    reasons = np.array(
        [f"held: unresolved after remediation: {r}" for r in result.reasons[bad]], dtype=object
    )
    return frame[~bad], frame[bad].assign(**{REASON_COLUMN: reasons}), False


def _originals(batch: pd.DataFrame, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The input rows behind ``frames`` (as they arrived, before any repair), with their reasons."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return _stack([], batch)
    reasons = pd.concat([f[REASON_COLUMN] for f in frames])
    return batch.loc[reasons.index].assign(**{REASON_COLUMN: reasons})


def _stack(frames: list[pd.DataFrame], like: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return like.iloc[0:0].assign(**{REASON_COLUMN: pd.Series(dtype=object)})
    return pd.concat(frames)
