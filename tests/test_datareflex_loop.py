"""The one loop (handle_batch): batch-scope signals, holds that are decisions, event time, and a
person's way out (release, close_breaker)."""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import datareflex
import schemasense
from datareflex import BreakerState, Decision, Scope, Signal, SignalKind

PLAIN = datareflex.Policy.from_yaml(
    """
rules:
  - {when: {kind: contract_violation}, then: quarantine}
  - {when: {kind: drift}, then: alert}
  - {when: {kind: schema_change, rule: unexpected_column}, then: accept_schema_change}
  - {when: {kind: schema_change, rule: type_changed}, then: coerce}
default: hold
"""
)
DAY0 = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def contract() -> schemasense.Contract:
    rng = np.random.default_rng(0)
    training = pd.DataFrame(
        {"qty": rng.integers(1, 10, 300), "coupon": np.where(rng.random(300) < 0.1, None, "SAVE")}
    )
    return schemasense.infer(training, name="t")


def null_burst(bad_rows: int = 3) -> pd.DataFrame:
    """30 rows: two thirds without a coupon (over the cap), ``bad_rows`` with an impossible qty."""
    qty = [1, 2, 3, 4, 5, 6, 7, 8, 9, 5] * 3
    qty[:bad_rows] = [99] * bad_rows
    return pd.DataFrame({"qty": qty, "coupon": [None] * 20 + ["SAVE"] * 10})


def test_a_null_rate_breach_publishes_the_valid_rows_and_alerts(contract) -> None:
    ledger = datareflex.Ledger("sqlite://")
    outcome = datareflex.handle_batch(
        null_burst(), contract=contract, policy=PLAIN, ledger=ledger, dataset="t", batch_id="b1"
    )
    assert (outcome.actions, outcome.verified) == (("quarantine", "alert"), True)
    assert (len(outcome.published), len(outcome.quarantined), len(outcome.held)) == (27, 3, 0)
    assert outcome.quarantined["_reason"].str.startswith("qty: 99 above maximum").all()
    assert "quarantine of batch-level coupon acts as an alert: a batch breach names no rows" in outcome.notes
    breach = next(s for s in outcome.signals if s.rule == "null_fraction")
    assert (breach.kind, breach.scope, breach.to_dict()["scope"]) == (
        SignalKind.CONTRACT_VIOLATION,
        Scope.BATCH,
        "batch",
    )
    signals = [r for r in ledger.records("t") if r.step == "signal"]
    assert sorted(r.detail["scope"] for r in signals) == ["batch", "row"]
    alone = datareflex.handle_batch(null_burst(0), contract=contract, policy=PLAIN, batch_id="b2")
    assert (alone.decision, alone.actions, len(alone.published), alone.verified) == (
        Decision.ALERT,
        ("alert",),
        30,
        True,
    )


def test_only_a_rule_that_says_hold_holds_a_batch_for_its_breach(contract) -> None:
    holding = datareflex.Policy.from_yaml(
        "rules:\n"
        "  - {when: {scope: batch}, then: hold}\n"
        "  - {when: {kind: contract_violation}, then: quarantine}\n"
    )
    outcome = datareflex.handle_batch(null_burst(), contract=contract, policy=holding)
    assert outcome.decision is Decision.HOLD
    assert (len(outcome.published), len(outcome.quarantined), len(outcome.held)) == (0, 3, 27)
    assert outcome.held["_reason"].str.contains("coupon null_fraction").all()
    routed = holding.plan(outcome.signals)
    assert [(rule.then.value, [s.scope.value for s in signals]) for rule, signals in routed.steps] == [
        ("quarantine", ["row"]),
        ("hold", ["batch"]),
    ]


def test_new_categories_are_batch_drift_signals() -> None:
    validation = SimpleNamespace(
        violations=(), reasons=np.array([None] * 4), new_categories={"city": ("Oslo", "Rome")}
    )
    (signal,) = datareflex.sense(validation)  # type: ignore[arg-type]
    assert (signal.kind, signal.rule, signal.column, signal.count, signal.scope, signal.detail) == (
        SignalKind.DRIFT,
        "new_category",
        "city",
        2,
        Scope.BATCH,
        "Oslo, Rome",
    )
    older = SimpleNamespace(violations=(), reasons=np.array([None]))  # before SchemaSense had them
    assert datareflex.sense(older) == []  # type: ignore[arg-type]


def test_a_hold_by_the_budget_is_a_decision_that_never_trips_the_breaker(contract) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: contract_violation}, then: quarantine}]\n"
        "guardrails: {max_removed_share: 0.05, breaker_failures: 2}\n"
    )
    ledger = datareflex.Ledger("sqlite://")
    for day in range(5):
        outcome = datareflex.handle_batch(
            null_burst(6),
            contract=contract,
            policy=policy,
            ledger=ledger,
            dataset="t",
            batch_id=f"d{day}",
            event_time=DAY0 + dt.timedelta(days=day),
        )
        assert (outcome.decision, outcome.verified, len(outcome.held)) == (Decision.HOLD, None, 30)
        assert "budget of 5%" in outcome.held["_reason"].iloc[0]
    outcomes = [r.kind for r in ledger.records("t", steps=("outcome",))]
    assert outcomes == ["held"] * 5
    state = datareflex.breaker_state(ledger.records("t"), DAY0 + dt.timedelta(days=5), 2, 1440)
    assert state is BreakerState.CLOSED


def _signals(day: int) -> list[Signal]:
    """Drift every day but a few; broken rows on days 20 to 29 (an alert never fixes them)."""
    return [] if day % 7 == 6 else [Signal(SignalKind.DRIFT, "qty", "ks", magnitude=0.3)]


def _batch(day: int) -> pd.DataFrame:
    return null_burst(3 if 20 <= day < 30 else 0).assign(coupon="SAVE")


def _run(contract, event_times: bool, clock) -> tuple[list, list]:
    policy = datareflex.Policy.from_yaml(
        "rules:\n"
        "  - {when: {kind: drift}, then: alert}\n"
        "  - {when: {kind: contract_violation}, then: alert}\n"
        "guardrails: {cooldown_minutes: {alert: 2880}, breaker_failures: 3, breaker_reset_minutes: 4320}\n"
    )
    ledger = datareflex.Ledger("sqlite://")
    seen = []
    for day in range(60):
        clock.day = day
        outcome = datareflex.handle_batch(
            _batch(day),
            contract=contract,
            policy=policy,
            ledger=ledger,
            dataset="t",
            batch_id=f"day-{day:02d}",
            extra_signals=_signals(day),
            event_time=DAY0 + dt.timedelta(days=day) if event_times else None,
            clock=clock,
        )
        seen.append(
            (outcome.decision.value, outcome.actions, outcome.verified, outcome.notes, len(outcome.held))
        )
    records = ledger.records("t")
    handled = [dt.datetime.fromisoformat(r.recorded_at) for r in records]
    spread = max(handled) - min(handled)
    assert spread < dt.timedelta(seconds=1) if not clock.live else spread >= dt.timedelta(days=59)
    return seen, [(r.batch, r.step, r.kind, r.event_time) for r in records]


class WallClock:
    """A fake wall clock: a backfill handles every batch within one second, live moves a day a batch."""

    def __init__(self, live: bool) -> None:
        self.live, self.day, self.ticks = live, 0, 0

    def __call__(self) -> dt.datetime:
        self.ticks += 1
        start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        if self.live:
            return start + dt.timedelta(days=self.day, minutes=5)
        return start + dt.timedelta(microseconds=self.ticks)


def test_a_backfill_decides_exactly_as_the_same_days_arriving_live(contract) -> None:
    backfill, backfill_trail = _run(contract, True, WallClock(live=False))
    live, live_trail = _run(contract, True, WallClock(live=True))
    assert backfill == live and backfill_trail == live_trail
    decisions = [d for d, *_ in live]
    notes = [" ".join(n) for *_, n, _ in live]
    # cooldowns count event time: an alert on qty at most every second day (days 6, 13: no drift)
    cooled = [day for day in range(20) if "skipped: cooling down" in notes[day]]
    assert cooled == [1, 3, 5, 8, 10, 12, 15, 17, 19]
    # the breaker trips after three unverified days (20–22) and holds; three days of event time
    # after the last failure one trial runs (half-open), fails, and it opens again
    assert [v for _, _, v, _, _ in live[20:23]] == [False] * 3
    assert decisions[23:27] == ["hold", "hold", "alert", "hold"] and "circuit breaker open" in notes[23]
    assert live[25][2] is False and live[28][2] is False
    # ... until the first trial after the broken rows stopped verifies: closed again
    assert (decisions[31], live[31][2]) == ("alert", True)
    assert set(decisions[31:]) == {"alert", "publish"}
    # judged on its wall clock instead, the same backfill cools down every alert and never resets
    wall, _ = _run(contract, False, WallClock(live=False))
    assert sum("skipped: cooling down" in " ".join(n) for *_, n, _ in wall[:20]) == 17
    assert set(d for d, *_ in wall[23:]) == {"hold", "publish"}


def test_a_person_releases_held_rows_and_closes_the_breaker(contract) -> None:
    ledger = datareflex.Ledger("sqlite://")
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: contract_violation}, then: alert}]\n"
        "guardrails: {breaker_failures: 1, breaker_reset_minutes: 100000}\n"
    )
    outcome = datareflex.handle_batch(
        null_burst(),
        contract=contract,
        policy=policy,
        ledger=ledger,
        dataset="t",
        batch_id="d1",
        event_time=DAY0,
    )
    assert (len(outcome.published), len(outcome.held), outcome.verified) == (
        27,
        3,
        False,
    )  # alerts fix nothing
    assert datareflex.breaker_state(ledger.records("t"), DAY0, 1, 100000) is BreakerState.OPEN
    released = datareflex.release(
        ledger, "t", "d1", outcome.held, contract=contract, by="ana", revalidate=True
    )
    assert (len(released.published), len(released.quarantined), len(released.held)) == (0, 3, 0)
    assert released.rows_in == len(outcome.held) and released.decision is Decision.RELEASE
    assert released.quarantined["_reason"].str.contains("above maximum").all()
    as_is = datareflex.release(ledger, "t", "d1", outcome.held, by="ben")
    assert (len(as_is.published), len(as_is.quarantined), as_is.verified) == (3, 0, None)
    assert "_reason" not in as_is.published
    records = ledger.records("t", "d1", steps=("decision", "outcome"), kinds=("released",))
    assert [(r.step, r.detail["by"]) for r in records] == [
        ("decision", "ana"),
        ("outcome", "ana"),
        ("decision", "ben"),
        ("outcome", "ben"),
    ]
    with pytest.raises(ValueError, match="revalidate needs the contract"):
        datareflex.release(ledger, "t", "d1", outcome.held, by="ana", revalidate=True)

    assert (
        datareflex.breaker_state(ledger.records("t"), DAY0, 1, 100000) is BreakerState.OPEN
    )  # not by a release
    closed = datareflex.close_breaker(ledger, "t", by="ana", at=DAY0)
    assert (closed.step, closed.kind, closed.detail["by"]) == ("decision", "breaker_closed", "ana")
    assert datareflex.breaker_state(ledger.records("t"), DAY0, 1, 100000) is BreakerState.CLOSED
    again = datareflex.handle_batch(
        null_burst(),
        contract=contract,
        policy=policy,
        ledger=ledger,
        dataset="t",
        batch_id="d2",
        event_time=DAY0,
    )
    assert (again.actions, again.verified) == (("alert",), False)  # let through; it failed again
    assert datareflex.breaker_state(ledger.records("t"), DAY0, 1, 100000) is BreakerState.OPEN


@pytest.mark.parametrize(
    "guardrail", [*datareflex._guardrails.BEFORE_ACTING, *datareflex._guardrails.AFTER_ACTING]
)
def test_every_guardrail_has_the_one_signature_and_works_without_a_ledger(guardrail) -> None:
    situation = datareflex.Situation(
        PLAIN,
        None,
        "t",
        "b",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        10,
        (Signal(SignalKind.DRIFT, "qty", "ks"),),
    )
    proposal = datareflex._loop.propose(PLAIN, situation.signals)
    after = guardrail(situation, proposal)
    assert isinstance(after, datareflex.Proposal) and after.hold is None
    assert [s.action for s in after.steps] == [s.action for s in proposal.steps]


def test_a_batch_that_never_came_is_judged_by_its_failure_signals_only(contract) -> None:
    failed = Signal(SignalKind.RUN_FAILURE, "t", "run_failed", severity=datareflex.Severity.CRITICAL)
    policy = datareflex.Policy.from_yaml("rules: [{when: {kind: run_failure}, then: alert}]")
    outcome = datareflex.handle_batch(
        pd.DataFrame(), contract=contract, policy=policy, extra_signals=[failed]
    )
    assert (outcome.decision, outcome.signals, outcome.rows_in) == (Decision.ALERT, (failed,), 0)
