"""Guardrails with memory, driven by a simulated clock: cooldowns and the circuit breaker."""

import datetime as dt

import pandas as pd
import pytest

import datareflex
import schemasense
from datareflex import Decision, Signal, SignalKind

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


def drift(effect: float = 0.3) -> list[Signal]:
    return [Signal(SignalKind.DRIFT, "amount", "wasserstein", magnitude=effect)]


def test_an_alert_does_not_repeat_inside_its_cooldown_unless_the_signal_worsens(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: drift}, then: alert}]\nguardrails: {cooldown_minutes: {alert: 60}}\n"
    )
    clock, ledger = Clock(), datareflex.Ledger("sqlite://")
    reflex = datareflex.Reflex(policy, ledger, clock=clock)
    batch = frames["clean"].head(20)
    for _ in range(50):  # drift that persists for 50 batches, one every 10 minutes
        reflex.handle(batch, drift(), contract=contract, dataset="orders")
        clock.advance(10)
    alerts = [r for r in ledger.records("orders") if r.step == "action" and not r.detail.get("skipped")]
    times = [dt.datetime.fromisoformat(r.recorded_at) for r in alerts]
    assert len(alerts) == 9  # minutes 0, 60, 120, ... 480
    assert all(b - a >= dt.timedelta(minutes=60) for a, b in zip(times, times[1:], strict=False))
    reflex.handle(batch, drift(0.9), contract=contract, dataset="orders")  # three times worse: at once
    last = ledger.records("orders")[-2]
    assert last.step == "action" and not last.detail.get("skipped")


def test_the_breaker_opens_after_failed_remediations_and_half_opens_after_its_reset(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: contract_violation}, then: alert}]\n"
        "guardrails: {breaker_failures: 3, breaker_reset_minutes: 120}\n"
    )
    clock, ledger = Clock(), datareflex.Ledger("sqlite://")
    reflex = datareflex.Reflex(policy, ledger, clock=clock)
    broken = frames["clean"].head(30).assign(country="ZZ")  # an alert never fixes this
    signals = datareflex.sense(contract.validate(broken))
    decisions = []
    for _ in range(8):
        outcome = reflex.handle(broken, signals, contract=contract, dataset="orders")
        decisions.append((outcome.decision, outcome.verified))
        assert len(outcome.published) + len(outcome.quarantined) + len(outcome.held) == len(broken)
        clock.advance(30)
    # three failed remediations, then the breaker holds every batch for a person...
    assert decisions[:3] == [(Decision.ALERT, False)] * 3
    assert decisions[3:6] == [(Decision.HOLD, False)] * 3
    held = [r for r in ledger.records("orders") if r.step == "decision" and r.detail.get("breaker")]
    assert len(held) == 4 and "circuit breaker open" in held[0].detail["reason"]
    # ...until 120 minutes after the last failure: one trial runs (half-open), fails, opens again
    assert decisions[6] == (Decision.ALERT, False) and decisions[7] == (Decision.HOLD, False)


def test_a_verified_outcome_closes_the_breaker(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: contract_violation}, then: quarantine}]\n"
        "guardrails: {breaker_failures: 1, breaker_reset_minutes: 0, max_removed_share: 1}\n"
    )
    ledger = datareflex.Ledger("sqlite://")
    reflex = datareflex.Reflex(policy, ledger, clock=Clock())
    ledger.append("orders", "earlier", "outcome", "unverified", {}, at=START - dt.timedelta(minutes=1))
    batch = frames["clean"].head(30).assign(country=lambda d: d["country"].where(d.index % 10 != 0, "ZZ"))
    outcome = reflex.handle(
        batch, datareflex.sense(contract.validate(batch)), contract=contract, dataset="orders"
    )
    assert outcome.verified is True  # half-open trial succeeded
    state = datareflex.breaker_state(ledger.records("orders"), START, 1, 60)
    assert state is datareflex.BreakerState.CLOSED


def test_guardrail_settings_are_checked_at_load() -> None:
    with pytest.raises(
        datareflex.PolicyError, match="line 3: guardrails.cooldown_minutes 'explode' is not an action"
    ):
        datareflex.Policy.from_yaml(
            "rules: []\nguardrails:\n  cooldown_minutes: {explode: 5}\n", source="p.yaml"
        )
    with pytest.raises(datareflex.PolicyError, match="breaker_failures must be a number of at least 1"):
        datareflex.Policy.from_yaml("rules: []\nguardrails: {breaker_failures: 0}\n", source="p.yaml")


def test_persistent_drift_asks_for_a_reference_refresh_once(contract, frames, tmp_path, capsys) -> None:
    from suite.cli import main

    policy = datareflex.Policy.from_yaml("rules: [{when: {kind: drift}, then: refresh_reference}]\n")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    clock, ledger = Clock(), datareflex.Ledger(url)
    reflex = datareflex.Reflex(policy, ledger, clock=clock)
    batch = frames["clean"].head(20)
    for _ in range(50):
        outcome = reflex.handle(batch, drift(), contract=contract, dataset="orders")
        assert len(outcome.published) == 20  # the data is valid: it is published meanwhile
        clock.advance(60)
    (request,) = ledger.approvals("orders")
    assert (request.action, request.targets, request.status) == (
        "refresh_reference",
        ("amount",),
        "requested",
    )

    assert main(["reject", str(request.id), "--by", "ana", "--url", url]) == 0
    assert "refused" in capsys.readouterr().out
    assert main(["approve", str(request.id), "--url", url]) == 2  # already decided
    reflex.handle(batch, drift(), contract=contract, dataset="orders")
    assert len(ledger.approvals("orders")) == 1  # a refusal is not asked again
    assert main(["approvals", "--url", url]) == 0
    assert "refused" in capsys.readouterr().out
