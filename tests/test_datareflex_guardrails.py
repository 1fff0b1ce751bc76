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
    assert decisions[3:6] == [(Decision.HOLD, None)] * 3  # held by the breaker: no remediation ran
    held = [r for r in ledger.records("orders") if r.step == "decision" and r.detail.get("breaker")]
    assert len(held) == 4 and "circuit breaker open" in held[0].detail["reason"]
    # ...until 120 minutes after the last failure: one trial runs (half-open), fails, opens again
    assert decisions[6] == (Decision.ALERT, False) and decisions[7] == (Decision.HOLD, None)


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
        datareflex.PolicyError, match="p.yaml, line 3: guardrails.cooldown_minutes.explode must be one of"
    ):
        datareflex.Policy.from_yaml(
            "rules: []\nguardrails:\n  cooldown_minutes: {explode: 5}\n", source="p.yaml"
        )
    with pytest.raises(
        datareflex.PolicyError,
        match="line 2: guardrails.breaker_failures must be greater than or equal to 1, got 0",
    ):
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


def test_retraining_waits_until_drift_persists_and_a_granted_request_is_carried_out_once(
    contract, frames
) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {kind: drift}, then: retrain, with: {after_batches: 3}}]\n"
    )
    clock, ledger = Clock(), datareflex.Ledger("sqlite://")
    reflex = datareflex.Reflex(policy, ledger, clock=clock)
    batch = frames["clean"].head(20)
    notes = []
    for day, signals in enumerate([drift(), [], drift(), drift()]):  # a gap resets the count
        outcome = reflex.handle(batch, signals, contract=contract, dataset="orders", batch_id=f"d{day}")
        notes.append(outcome.notes)
        clock.advance(60)
    assert notes[0] == ("retrain on amount waits: signal seen in 1 batch(es) in a row of 3",)
    assert notes[3] == ("retrain on amount waits: signal seen in 2 batch(es) in a row of 3",)
    assert ledger.approvals("orders") == []
    reflex.handle(batch, drift(), contract=contract, dataset="orders", batch_id="d4")
    (request,) = ledger.approvals("orders")
    assert (request.action, request.batch, request.status) == ("retrain", "d4", "requested")

    for day in (5, 6):  # pending, then granted but not yet done: not asked again
        if day == 6:
            ledger.decide(request.id, granted=True, by="ana")
        reflex.handle(batch, drift(), contract=contract, dataset="orders", batch_id=f"d{day}")
        assert len(ledger.approvals("orders")) == 1
    with pytest.raises(ValueError, match="not granted"):
        ledger.carried_out(request.id + 999, [])
    done = ledger.carried_out(request.id, ["model v2 trained on 3 batches"])
    assert done.status == "done"
    reflex.handle(batch, drift(), contract=contract, dataset="orders", batch_id="d7")
    assert [a.status for a in ledger.approvals("orders")] == ["done", "requested"]  # drift came back


def test_rules_route_on_severity_and_magnitude(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        """
rules:
  - {when: {kind: drift, severity: critical}, then: hold}
  - {when: {kind: drift, min_magnitude: 0.2, max_magnitude: 0.5}, then: alert}
  - {when: {kind: [metric_anomaly, freshness, run_failure]}, then: alert}
default: alert
"""
    )
    small = Signal(SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.12)
    medium = Signal(SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.3)
    severe = Signal(
        SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.9, severity=datareflex.Severity.CRITICAL
    )
    stale = Signal(SignalKind.FRESHNESS, "orders", "overdue", magnitude=2.0)
    plan = policy.plan([small, medium, severe, stale])
    rules = [*policy.rules]
    routed = {s.magnitude: rules.index(r) if r in rules else "default" for r, ss in plan.steps for s in ss}
    assert routed == {0.9: 0, 0.3: 1, 2.0: 2, 0.12: "default"}
    assert plan.actions[0] == "hold"  # data actions come before alerts
    with pytest.raises(
        datareflex.PolicyError,
        match=r"line 1: rules.0.when.severity must be one of \['info', 'warning', 'critical'\], got 'fatal'",
    ):
        datareflex.Policy.from_yaml("rules: [{when: {severity: fatal}, then: alert}]", source="p.yaml")
    with pytest.raises(datareflex.PolicyError, match=r"rules.0.when.min_magnitude must be a valid number"):
        datareflex.Policy.from_yaml("rules: [{when: {min_magnitude: big}, then: alert}]", source="p.yaml")


def test_sensing_grades_signals_and_sees_null_bursts_joint_drift_and_metric_jumps(contract, frames) -> None:
    import driftguard

    training, corrupt = frames["training"], frames["corrupt"].copy()
    corrupt.loc[corrupt.sample(frac=0.3, random_state=1).index, "discount"] = None  # a null burst
    report = driftguard.DriftDetector().fit(training).score(corrupt)
    signals = datareflex.sense(contract.validate(corrupt), report, anomalies=["missing/discount", "rows"])
    kinds = {(s.kind.value, s.column, s.rule): s for s in signals}
    assert ("drift", "discount", "missing_rate") in kinds  # a null burst is drift too
    assert ("metric_anomaly", "discount", "page_hinkley") in kinds and (
        "metric_anomaly",
        "rows",
        "page_hinkley",
    ) in kinds
    violations = [s for s in signals if s.kind is SignalKind.CONTRACT_VIOLATION]
    for s in violations:
        assert s.magnitude == pytest.approx(s.count / len(corrupt), abs=1e-6)
        assert s.severity is (
            datareflex.Severity.CRITICAL if s.magnitude >= 0.05 else datareflex.Severity.WARNING
        )
    schema = datareflex.sense(contract.validate(frames["schema_change"]))
    severities = {(s.column, s.rule): s.severity.value for s in schema if s.kind is SignalKind.SCHEMA_CHANGE}
    assert severities[("coupon_code", "unexpected_column")] == "warning"
    assert severities[("quantity", "type_changed")] == "critical"


def test_verification_scores_drift_again_on_the_columns_an_action_repaired(contract, frames) -> None:
    import driftguard

    training = frames["training"]
    reference = driftguard.profile(training)
    batch = frames["clean"].copy()
    batch.loc[batch.sample(frac=0.3, random_state=1).index, "discount"] = None  # a null burst
    signals = [
        s
        for s in datareflex.sense(
            None, driftguard.DriftDetector().fit(reference).score(driftguard.profile(batch, like=reference))
        )
        if s.column == "discount"
    ]
    assert {s.rule for s in signals} == {"missing_rate"}
    fixed = datareflex.Reflex(
        datareflex.Policy.from_yaml(
            "rules: [{when: {kind: drift}, then: impute, with: {strategy: most_frequent}}]"
        )
    )
    outcome = fixed.handle(
        batch, signals, contract=contract, reference_rows=training, reference_profile=reference
    )
    assert outcome.verified is True and len(outcome.published) == len(batch)  # nulls filled: drift gone

    shifted = frames["clean"].assign(amount=frames["clean"]["amount"] * 3)
    amount = [
        s
        for s in datareflex.sense(
            None, driftguard.DriftDetector().fit(reference).score(driftguard.profile(shifted, like=reference))
        )
        if s.column == "amount"
    ]
    assert amount
    clip = datareflex.Reflex(datareflex.Policy.from_yaml("rules: [{when: {kind: drift}, then: clip}]"))
    outcome = clip.handle(shifted, amount, contract=contract, reference_profile=reference)
    assert outcome.verified is False and outcome.published.empty and len(outcome.held) == len(shifted)
    assert outcome.held["_reason"].str.contains("amount: still drifts").all()
