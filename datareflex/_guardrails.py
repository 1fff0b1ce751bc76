"""Guardrails: a chain of small steps, each ``(situation, proposal) -> proposal``.

Like structlog's processors, each guardrail reads what it needs and returns the proposal,
changed or not: the circuit breaker and the removal budget can hold the whole batch; a cooldown,
``after_batches`` and ask-once approvals can set single steps aside. The ledger is their only
memory, and each reads only the window it needs (event time, the last outcomes, open requests),
so the guardrails cannot drift from what really happened and stay fast on a long ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ._actions import ActionKind
from ._approvals import Record
from ._breaker import BreakerState, breaker_records, breaker_state
from ._ledger import Ledger
from ._policy import Policy, PolicyRule
from ._signals import Signal


@dataclass(frozen=True)
class Step:
    """One rule's action on its signals; ``skipped`` says why it does not act, if it does not.

    ``ledgered`` skips are written to the ledger (a cooldown); ``ask`` asks a person's approval
    first; ``notes`` are added when the step acts.
    """

    rule: PolicyRule
    signals: tuple[Signal, ...]
    skipped: str | None = None
    ledgered: bool = False
    ask: bool = False
    notes: tuple[str, ...] = ()

    @property
    def action(self) -> ActionKind:
        return self.rule.then

    @property
    def targets(self) -> list[str]:
        return sorted({s.column for s in self.signals})

    @property
    def magnitude(self) -> float:
        return max(float(s.magnitude if s.magnitude is not None else s.count) for s in self.signals)


@dataclass(frozen=True)
class Proposal:
    """What the loop means to do with a batch; ``hold`` (a reason) sets all of it aside."""

    steps: tuple[Step, ...]
    hold: str | None = None
    breaker: BreakerState | None = None
    removed: int = 0  # rows the actions removed: known after acting, for the budget

    @property
    def actions(self) -> list[str]:
        return [step.action.value for step in self.steps]


@dataclass(frozen=True)
class Situation:
    """What guardrails may read: the policy, the ledger, and the batch being handled."""

    policy: Policy
    ledger: Ledger | None
    dataset: str
    batch: str
    event_time: dt.datetime
    rows: int
    signals: tuple[Signal, ...]


Guardrail = Callable[[Situation, Proposal], Proposal]
"""A guardrail's one signature. A chain of them runs with :func:`guard`:

>>> import datetime as dt
>>> from datareflex import Policy, SignalKind
>>> policy = Policy.from_yaml("rules: []\nguardrails: {max_removed_share: 0.1}")
>>> situation = Situation(policy, None, "orders", "day-1", dt.datetime(2026, 1, 1), 100, ())
>>> guard(AFTER_ACTING, situation, Proposal((), removed=30)).hold
'held: remediation would remove 30 of 100 rows, more than the budget of 10%'
"""
_HANDLED = ("publish", "alert", "remediate", "hold")  # decisions of a handling, not of a person


def guard(chain: Sequence[Guardrail], situation: Situation, proposal: Proposal) -> Proposal:
    """Run ``chain`` in order; a guardrail that holds the batch ends it."""
    for guardrail in chain:
        proposal = guardrail(situation, proposal)
        if proposal.hold is not None:
            break
    return proposal


def circuit_breaker(situation: Situation, proposal: Proposal) -> Proposal:
    """Hold a batch with signals while the breaker is open (reads the last few outcomes only)."""
    policy, ledger = situation.policy, situation.ledger
    if not situation.signals or ledger is None:
        return proposal
    records = breaker_records(ledger, situation.dataset, policy.breaker_failures)
    state = breaker_state(
        records, situation.event_time, policy.breaker_failures, policy.breaker_reset_minutes
    )
    if state is not BreakerState.OPEN:
        return proposal
    reason = (
        f"held: circuit breaker open after {policy.breaker_failures} remediations in a row "
        "failed verification; a person decides"
    )
    return replace(proposal, hold=reason, breaker=state)


def cooldown(situation: Situation, proposal: Proposal) -> Proposal:
    """Skip an action that acted on the same columns within its cooldown of event time."""
    minutes = situation.policy.cooldown_minutes
    if situation.ledger is None or not minutes:
        return proposal
    steps = []
    for step in proposal.steps:
        window = minutes.get(step.action.value)
        if window is None or step.skipped is not None:
            steps.append(step)
            continue
        since = situation.event_time - dt.timedelta(minutes=window)
        recent = situation.ledger.records(
            situation.dataset, steps=("action",), kinds=(step.action.value,), event_since=since
        )
        earlier = cooling(
            recent, step.action.value, step.targets, step.magnitude, situation.event_time, window
        )
        if earlier is not None:
            note = (
                f"{step.action.value} on {', '.join(step.targets)} skipped: cooling down since {earlier.when}"
            )
            step = replace(step, skipped=note, ledgered=True)
        steps.append(step)
    return replace(proposal, steps=tuple(steps))


def after_batches(situation: Situation, proposal: Proposal) -> Proposal:
    """Make a rule with ``after_batches: N`` wait until its signal was seen in N batches in a row."""
    steps = []
    for step in proposal.steps:
        wanted = int(step.rule.params.get("after_batches", 1))
        if wanted > 1 and step.skipped is None:
            kinds = sorted({s.kind.value for s in step.signals})
            seen = 1 + _persisting(situation, kinds, step.targets, wanted - 1)
            if seen < wanted:
                note = (
                    f"{step.action.value} on {', '.join(step.targets)} waits: signal seen in {seen} "
                    f"batch(es) in a row of {wanted}"
                )
                step = replace(step, skipped=note)
        steps.append(step)
    return replace(proposal, steps=tuple(steps))


def ask_once(situation: Situation, proposal: Proposal) -> Proposal:
    """Ask a person once before a risky action; while a request is open, do not ask again.

    A request that changes data (a rollback) is per batch; one that does not (retrain, refresh
    the reference) is per dataset, and the step waits while it is open.
    """
    risky = [s for s in proposal.steps if s.action.needs_approval and s.skipped is None]
    if not risky:
        return proposal
    open_requests = situation.ledger.open_approvals(situation.dataset) if situation.ledger else []
    steps = []
    for step in proposal.steps:
        if step in risky:
            asked = [
                a
                for a in open_requests
                if a.action == step.action.value
                and set(a.targets) & set(step.targets)
                and (a.batch == situation.batch or not step.action.changes_data)
            ]
            if not asked:
                step = replace(step, ask=True)
            else:
                latest, columns = asked[-1], ", ".join(step.targets)
                note = f"{step.action.value} on {columns}: approval {latest.id} is {latest.status}"
                step = (
                    replace(step, notes=(note,)) if step.action.changes_data else replace(step, skipped=note)
                )
        steps.append(step)
    return replace(proposal, steps=tuple(steps))


def removal_budget(situation: Situation, proposal: Proposal) -> Proposal:
    """Hold the whole batch, as a decision, when actions would remove more than the budget."""
    share = situation.policy.max_removed_share
    if not situation.rows or proposal.removed / situation.rows <= share:
        return proposal
    reason = (
        f"held: remediation would remove {proposal.removed} of {situation.rows} rows, more than the "
        f"budget of {share:.0%}"
    )
    return replace(proposal, hold=reason)


BEFORE_ACTING: tuple[Guardrail, ...] = (circuit_breaker, cooldown, after_batches, ask_once)
AFTER_ACTING: tuple[Guardrail, ...] = (removal_budget,)


def cooling(
    records: Sequence[Record],
    action: str,
    targets: Sequence[str],
    magnitude: float,
    now: dt.datetime,
    minutes: float,
) -> Record | None:
    """The earlier action among ``records`` that keeps ``action`` cooling down on ``targets``.

    Times are event times. Hysteresis: a signal half again as large as the one that triggered
    the earlier action acts at once.

    >>> earlier = Record(1, "2026-01-01T00:00:00+00:00", "orders", "d1", "action", "alert", 1, None,
    ...                  {"targets": ["amount"], "magnitude": 0.2}, "2026-01-01T00:00:00+00:00")
    >>> at = dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
    >>> cooling([earlier], "alert", ["amount"], 0.25, at, 120) is earlier
    True
    >>> cooling([earlier], "alert", ["amount"], 0.4, at, 120) is None  # twice as strong
    True
    """
    earlier = next(
        (
            r
            for r in reversed(records)
            if r.step == "action"
            and r.kind == action
            and not r.detail.get("skipped")
            and set(r.detail.get("targets", [])) & set(targets)
        ),
        None,
    )
    if earlier is None or now - dt.datetime.fromisoformat(earlier.when) >= dt.timedelta(minutes=minutes):
        return None
    before = float(earlier.detail.get("magnitude") or 0.0)
    return None if before and magnitude > 1.5 * before else earlier


def _persisting(situation: Situation, kinds: Sequence[str], targets: Sequence[str], most: int) -> int:
    """In how many of the latest earlier batches in a row (at most ``most``) a signal of ``kinds``
    hit any of ``targets``. Reads the last few decisions and those batches' signals only."""
    if situation.ledger is None:
        return 0
    decisions = situation.ledger.records(situation.dataset, steps=("decision",), last=4 * most + 4)
    batches: list[str] = []
    for record in reversed(decisions):
        if record.batch != situation.batch and record.batch not in batches and record.kind in _HANDLED:
            batches.append(record.batch)
    batches = batches[:most]
    signals = situation.ledger.records(situation.dataset, batches, steps=("signal",), kinds=kinds)
    hit = {r.batch for r in signals if r.detail.get("column") in targets}
    run = 0
    for batch in batches:
        if batch not in hit:
            break
        run += 1
    return run
