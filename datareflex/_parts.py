"""The loop for a batch read in parts: decide once, act and verify part by part, judge on totals.

A batch larger than memory comes as parts: frames labelled by their rows in the batch, read
again whenever :func:`handle_in_parts` needs them. Its signals come from the whole batch's
validation (:func:`~datareflex.sense_totals`); the policy and the guardrails decide once, with
the batch's row count; every part is acted on with that plan and judged again as
:func:`~datareflex.verify` judges a whole batch: row rules per part, a key repeated across parts
through ``repeats``, null shares and drift on the totals. Each part's rows go to a
:class:`PartSink` as published, quarantined or held; the ledger gets one record per signal,
decision, action (its rows summed over the parts) and outcome, as for a whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pandas as pd

import driftguard
from schemasense import REASON_COLUMN, Contract, Rule, Violation

from ._action_types import ActionKind
from ._guardrails import AFTER_ACTING, BEFORE_ACTING, Proposal, Situation, guard
from ._handling import Handling, as_datetime, wall_clock
from ._ledger import Ledger
from ._loop import _acknowledged, _act, _repaired, propose, record_hold
from ._outcome import Decision, PartsOutcome, decide, originals
from ._policy import Policy
from ._signals import Signal, sense_totals
from ._tally import PartsTally
from ._verify import _UNRESOLVED

PUBLISHED, QUARANTINE, HELD = "published", "quarantine", "held"


class PartSink(Protocol):
    """Where the rows of a batch handled in parts go."""

    def write(self, output: str, frame: pd.DataFrame) -> None:
        """Keep ``frame`` as ``output`` (published, quarantine or held; held and quarantined
        rows carry ``_reason``)."""

    def hold_published(self, reason: str) -> None:
        """Move every published row to held, with ``reason``."""

    def discard(self) -> None:
        """Forget every row written so far."""


def handle_in_parts(
    parts: Callable[[], Iterable[pd.DataFrame]],
    sink: PartSink,
    *,
    rows: int,
    violations: Iterable[Violation],
    new_categories: Mapping[str, Sequence[Any]],
    contract: Contract,
    policy: Policy,
    ledger: Ledger | None = None,
    dataset: str = "",
    batch_id: str = "",
    drift_report: driftguard.DriftReport | None = None,
    anomalies: Iterable[str] = (),
    repeats: Callable[[pd.DataFrame], pd.Series] | None = None,
    reference: str | None = None,
    reference_rows: pd.DataFrame | None = None,
    reference_profile: driftguard.Profile | None = None,
    event_time: dt.datetime | dt.date | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    spread: Callable[[PartPlan], PartsTally] | None = None,
) -> PartsOutcome:
    """:func:`~datareflex.handle_batch` for a batch of ``rows`` rows read part by part with
    ``parts()``, its ``violations`` and ``new_categories`` counted over all of it.
    ``repeats(part)`` gives, by row, the column whose key an earlier part already holds (else
    missing), and remembers the part's keys: those rows are removed where a routed quarantine
    or deduplicate would remove them from the whole batch, else held as unresolved.
    ``spread(plan)``, when given, acts on every part with ``plan`` elsewhere (a cluster's
    workers, each :meth:`PartPlan.act` on its parts into the same sink) and returns the
    merged tally; ``parts`` is then read here only to hold the whole batch.
    """
    signals = tuple(sense_totals(violations, rows, new_categories, drift_report, anomalies))
    now = (clock or wall_clock)()
    handling = Handling(
        policy, ledger, dataset or contract.name, batch_id, as_datetime(event_time) or now, now, reference
    )
    for signal in signals:
        handling.record("signal", signal.kind.value, signal.to_dict(), contract.version)
    situation = Situation(policy, ledger, handling.dataset, batch_id, handling.event_time, rows, signals)
    proposal = guard(BEFORE_ACTING, situation, propose(policy, signals))
    if proposal.hold is not None:
        return _held(parts, sink, contract, signals, proposal, handling, ())
    actions = proposal.actions
    detail = {"actions": actions, "signals": [str(s) for s in signals]}
    handling.record("decision", decide(actions).value, detail, contract.version)
    plan = PartPlan(contract, proposal, replace(handling, ledger=None), reference_rows, reference_profile)
    tally = spread(plan) if spread is not None else plan.act(parts(), sink, repeats)
    for step, kind, record in tally.records:
        handling.record(step, kind, record, tally.contract.version)
    proposal = guard(AFTER_ACTING, situation, replace(proposal, removed=tally.removed))
    if proposal.hold is not None:
        sink.discard()
        return _held(parts, sink, contract, signals, proposal, handling, tally.notes)
    return _verified(sink, tally, proposal, signals, reference_profile, handling)


def _verified(
    sink: PartSink,
    tally: PartsTally,
    proposal: Proposal,
    signals: tuple[Signal, ...],
    reference_profile: driftguard.Profile | None,
    handling: Handling,
) -> PartsOutcome:
    """Judge the batch on its totals (a breach moves every published row to held); the outcome."""
    verified: bool | None = None
    published = tally.published if proposal.steps else tally.rows - tally.removed - tally.held
    if proposal.steps and tally.rows:
        problems = tally.judge(_acknowledged(proposal), reference_profile, _repaired(proposal))
        if problems:
            sink.hold_published(_UNRESOLVED + "; ".join(problems))
            published = 0
        verified = not problems and not tally.unresolved
    outcome = PartsOutcome(
        decide(proposal.actions),
        tuple(proposal.actions),
        published,
        tally.removed,
        tally.rows - tally.removed - published,
        verified,
        tally.contract,
        signals,
        tally.notes,
    )
    kind = "verified" if verified else "unverified" if verified is False else "none"
    handling.record("outcome", kind, outcome.summary(), tally.contract.version)
    return outcome


@dataclass(frozen=True)
class PartPlan:
    """How each part of a batch is acted on and verified, as the decision settled it. It holds
    no ledger, so it travels to another process (a Dask worker) as it is."""

    contract: Contract
    proposal: Proposal
    handling: Handling
    reference_rows: pd.DataFrame | None = None
    reference_profile: driftguard.Profile | None = None

    def act(
        self,
        parts: Iterable[pd.DataFrame],
        sink: PartSink,
        repeats: Callable[[pd.DataFrame], pd.Series] | None = None,
    ) -> PartsTally:
        """Act on each of ``parts`` (consecutive, in file order) and judge it again; write its
        rows to ``sink``; the tally of them all."""
        proposal, contract = self.proposal, self.contract
        tally, repaired, remover = PartsTally(contract), _repaired(proposal), _repeat_remover(proposal)
        for part in parts:
            repeated = repeats(part) if repeats is not None else None
            early = part.iloc[0:0]
            if repeated is not None and remover is not None:  # what it removes from a whole batch
                early = part[repeated.notna()]
                early = early.assign(**{REASON_COLUMN: _worded(early, repeated, remover)})
            acted = _act(part.drop(early.index), contract, proposal, self.reference_rows, self.handling)
            acted.removed.insert(0, early)
            acted.notes.append(f"removed {len(early)} rows whose key an earlier part holds")
            tally.add(part, acted)
            held, frame = list(acted.held), acted.frame
            if proposal.steps and len(part):
                later = None if remover or repeated is None else _worded(part, repeated, None)
                frame, unresolved = tally.verify_part(frame, later, self.reference_profile, repaired)
                held.append(unresolved)
            tally.removed += acted.removed_rows
            tally.held += sum(len(f) for f in held)
            sink.write(QUARANTINE, originals(part, acted.removed))
            sink.write(HELD, originals(part, held))
            sink.write(PUBLISHED, frame)
        return tally


def _repeat_remover(proposal: Proposal) -> ActionKind | None:
    """The acting step's action that removes rows of a broken ``unique`` rule (quarantine or
    deduplicate), if one does."""
    for step in proposal.steps:
        removes = step.action in (ActionKind.QUARANTINE, ActionKind.DEDUPLICATE)
        if step.skipped is None and removes and any(s.rule == Rule.UNIQUE.value for s in step.signals):
            return step.action
    return None


def _worded(frame: pd.DataFrame, repeated: pd.Series, action: ActionKind | None) -> pd.Series:
    """The reason of each row of ``frame`` whose key (column ``repeated``) an earlier part
    holds, in the words of ``action`` (deduplicate), else of the contract's ``unique`` rule."""
    column = repeated.reindex(frame.index).dropna()
    if action is ActionKind.DEDUPLICATE:
        return column + ": duplicate of an earlier row"
    said = [f"{name}: {frame.at[row, name]!s} repeats an earlier row" for row, name in column.items()]
    return pd.Series(said, index=column.index, dtype=object)


def _held(
    parts: Callable[[], Iterable[pd.DataFrame]],
    sink: PartSink,
    contract: Contract,
    signals: tuple[Signal, ...],
    proposal: Proposal,
    handling: Handling,
    notes: tuple[str, ...],
) -> PartsOutcome:
    """A guardrail held the whole batch: every row to held, with its reason."""
    assert proposal.hold is not None
    actions = record_hold(proposal, contract, handling)
    rows = 0
    for part in parts():
        rows += len(part)
        sink.write(HELD, part.assign(**{REASON_COLUMN: proposal.hold}))
    outcome = PartsOutcome(
        Decision.HOLD, actions, 0, 0, rows, None, contract, signals, (*notes, proposal.hold)
    )
    handling.record("outcome", "held", outcome.summary(), contract.version)
    return outcome
