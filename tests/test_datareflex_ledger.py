"""The ledger scales: handling a batch reads a bounded window of it, however long it grew."""

import datetime as dt
import json
import time

import pandas as pd
import pytest
import sqlalchemy as sa

import datareflex
import schemasense
from datareflex import Signal, SignalKind
from datareflex._ledger import _RECORDS, timestamp

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
POLICY = datareflex.Policy.from_yaml(
    "rules:\n"
    "  - {when: {kind: drift, rule: ks}, then: alert}\n"
    "  - {when: {kind: drift, rule: psi}, then: retrain, with: {after_batches: 3}}\n"
    "guardrails: {cooldown_minutes: {alert: 120}, breaker_failures: 3}\n"
)


def bulk(ledger: datareflex.Ledger, records: int) -> dt.datetime:
    """Append ``records`` records: hourly batches of orders with drift, alerts and outcomes, an
    approval carried out now and then, and another dataset in between. Returns the next hour."""
    rows: list[dict] = []
    hour = 0

    def row(step: str, kind: str, detail: dict, dataset: str = "orders") -> dict:
        at = timestamp(START + dt.timedelta(hours=hour))
        return {
            "recorded_at": at,
            "event_time": at,
            "dataset": dataset,
            "batch": f"b{hour}",
            "step": step,
            "kind": kind,
            "detail": json.dumps(detail),
        }

    while len(rows) < records:
        rows += [
            row("signal", "drift", {"column": "qty", "rule": "ks"}),
            row("decision", "alert", {"actions": ["alert"]}),
            row("action", "alert", {"targets": ["qty"], "magnitude": 0.3}),
            row("outcome", "verified", {}),
            row("decision", "publish", {}, dataset="other"),
        ]
        hour += 1
    with ledger._engine.begin() as connection:
        connection.execute(sa.insert(_RECORDS), rows[:records])
    request = ledger.append(
        "orders", "b0", "approval", "requested", {"action": "retrain", "targets": ["qty"]}
    )
    ledger.decide(request, granted=True, by="ana")
    ledger.carried_out(request, ["model v2"])
    return START + dt.timedelta(hours=hour)


def handle_one(ledger: datareflex.Ledger, at: dt.datetime) -> tuple[int, float]:
    contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="orders")
    signals = [
        Signal(SignalKind.DRIFT, "qty", "ks", magnitude=0.3),
        Signal(SignalKind.DRIFT, "qty", "psi", magnitude=0.3),
    ]
    before, started = ledger.rows_read, time.perf_counter()
    outcome = datareflex.handle_batch(
        pd.DataFrame({"qty": [1, 2, 3]}),
        contract=contract,
        policy=POLICY,
        ledger=ledger,
        batch_id="new",
        extra_signals=signals,
        event_time=at,
    )
    assert outcome.verified is True and "alert on qty skipped: cooling down" in " ".join(outcome.notes)
    assert outcome.actions == ("alert", "retrain")  # retrain: drift on qty in 3 batches in a row
    return ledger.rows_read - before, time.perf_counter() - started


@pytest.mark.parametrize("scale", [100, 100_000])
def test_handling_a_batch_reads_a_bounded_window_of_the_ledger(tmp_path, scale: int) -> None:
    ledger = datareflex.Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    at = bulk(ledger, scale)
    read, seconds = handle_one(ledger, at)
    # breaker: 3 outcomes; cooldown: the alerts of the last 2 hours; after_batches: the last
    # decisions and 2 batches' signals; approvals: the open ones (the one carried out is not read)
    print(f"\n{scale:>7} records: handling one batch read {read} records in {seconds * 1000:.1f} ms")
    assert read <= 30
    asked = ledger.append(
        "orders", "new", "approval", "requested", {"action": "rollback", "targets": ["qty"]}
    )
    before = ledger.rows_read
    ledger.decide(asked, granted=False, by="ana")
    assert ledger.rows_read - before <= 4  # that request's records, not the dataset's
    ledger.dispose()


def test_the_same_window_is_read_at_any_length(tmp_path) -> None:
    counts = []
    for scale in (100, 20_000):
        ledger = datareflex.Ledger(f"sqlite:///{tmp_path / f'{scale}.db'}")
        counts.append(handle_one(ledger, bulk(ledger, scale))[0])
        ledger.dispose()
    assert counts[0] == counts[1]


def test_an_older_ledger_is_migrated_in_place(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "recorded_at VARCHAR(32) NOT NULL, dataset VARCHAR(200) NOT NULL, "
                "batch VARCHAR(500) NOT NULL, step VARCHAR(20) NOT NULL, kind VARCHAR(100) NOT NULL, "
                "contract_version INTEGER, reference VARCHAR(500), detail TEXT NOT NULL)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO ledger (recorded_at, dataset, batch, step, kind, detail) VALUES "
                "('2026-01-01T00:00:00+00:00', 'orders', 'd1', 'approval', 'requested', "
                '\'{"action": "retrain", "targets": ["qty"]}\'), '
                "('2026-01-02T00:00:00+00:00', 'orders', 'd1', 'approval', 'refused', '{\"request\": 1}')"
            )
        )
    engine.dispose()
    ledger = datareflex.Ledger(url)
    (approval,) = ledger.open_approvals("orders")
    assert approval.status == "refused"
    assert ledger.records("orders")[0].event_time == "2026-01-01T00:00:00+00:00"
    ledger.dispose()
