import re

import numpy as np
import pandas as pd
import pytest

import datareflex
import schemasense
from datareflex import ActionKind, Decision
from suite.config import PACKAGE_DIR

POLICY = datareflex.Policy.from_file(PACKAGE_DIR / "orders_policy.yaml")


@pytest.fixture(scope="module")
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


def handle(
    batch: pd.DataFrame,
    contract: schemasense.Contract,
    ledger: datareflex.Ledger | None = None,
    policy: datareflex.Policy = POLICY,
) -> datareflex.Outcome:
    signals = datareflex.sense(contract.validate(batch))
    return datareflex.Reflex(policy, ledger).handle(batch, signals, contract=contract, batch_id="b")


def test_corrupt_rows_are_repaired_or_quarantined_with_reasons(contract, frames, stream) -> None:
    _, batches = stream
    faults = next(b for b in batches if b.kind == "corrupt").faults
    outcome = handle(frames["corrupt"], contract)
    assert outcome.decision is Decision.REMEDIATE and outcome.verified is True
    assert list(outcome.actions) == ["deduplicate", "impute", "quarantine"]
    quarantined = outcome.quarantined
    removed_for_faults = {k: v for k, v in faults.items() if k not in ("null_discount", "duplicate_order_id")}
    expected_ids = {i for ids in removed_for_faults.values() for i in ids}
    duplicates = quarantined[quarantined["_reason"] == "order_id: duplicate of an earlier row"]
    assert set(quarantined["order_id"]) - set(duplicates["order_id"]) == expected_ids
    assert sorted(duplicates["order_id"]) == sorted(faults["duplicate_order_id"])
    assert len(quarantined) == len(expected_ids) + len(faults["duplicate_order_id"])
    assert quarantined["_reason"].notna().all()
    repaired = outcome.published.set_index("order_id").loc[list(faults["null_discount"]), "discount"]
    assert (repaired == 0.0).all()
    assert set(faults["duplicate_order_id"]) <= set(outcome.published["order_id"])  # originals kept
    assert contract.validate(outcome.published).ok
    assert len(outcome.published) + len(quarantined) + len(outcome.held) == len(frames["corrupt"])


def test_type_change_is_coerced_and_added_column_accepted(contract, frames) -> None:
    outcome = handle(frames["schema_change"], contract)
    assert outcome.actions == ("accept_schema_change", "coerce")
    assert outcome.published["quantity"].dtype == "int64"
    assert outcome.contract.version == 2 and outcome.contract.columns["coupon_code"].nullable
    assert outcome.verified is True and len(outcome.published) == len(frames["schema_change"])


def test_clean_batch_needs_no_action(contract, frames) -> None:
    outcome = handle(frames["clean"], contract)
    assert (outcome.decision, outcome.actions, outcome.verified) == (Decision.PUBLISH, (), None)
    pd.testing.assert_frame_equal(outcome.published, frames["clean"])


def test_unrouted_signals_are_held_for_a_person(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml("rules: [{when: {kind: drift}, then: alert}]")
    batch = frames["clean"].head(100).assign(amount=lambda d: d["amount"].where(d.index % 10 != 0, -1.0))
    outcome = handle(batch, contract, policy=policy)
    assert outcome.decision is Decision.HOLD
    assert (len(outcome.published), len(outcome.held)) == (90, 10)
    assert outcome.held["_reason"].str.startswith("held: amount: -1.0 below minimum").all()


def test_an_action_that_does_not_fix_the_batch_is_caught_by_verification(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml("rules: [{when: {kind: contract_violation}, then: alert}]")
    batch = frames["clean"].head(20).assign(country="ZZ")
    outcome = handle(batch, contract, policy=policy)
    assert outcome.verified is False
    assert len(outcome.published) == 0 and len(outcome.held) == 20  # invalid rows are never published


def test_actions_are_idempotent(contract, frames) -> None:
    result = contract.validate(frames["corrupt"])
    signals = datareflex.sense(result)
    context = datareflex.ActionContext(contract)
    for kind in (ActionKind.QUARANTINE, ActionKind.DEDUPLICATE, ActionKind.IMPUTE):
        once = datareflex.ACTIONS[kind](frames["corrupt"], signals, context)
        twice = datareflex.ACTIONS[kind](once.frame, signals, context)
        pd.testing.assert_frame_equal(once.frame, twice.frame)
        assert twice.removed is None or len(twice.removed) == 0


def test_ledger_records_every_step(contract, frames) -> None:
    ledger = datareflex.Ledger("sqlite://")
    handle(frames["corrupt"], contract, ledger)
    steps = [r.step for r in ledger.records(batch="b")]
    assert steps[0] == "signal" and steps[-1] == "outcome"
    assert steps.count("signal") == 9 and steps.count("decision") == 1 and steps.count("action") == 3
    outcome = ledger.records(batch="b")[-1]
    assert outcome.detail["rows_quarantined"] == 34 and outcome.contract_version == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - when: {kind: drift}\n    then: explode\n",
            "line 3: rules.0.then must be one of ['accept_schema_change', 'rename', 'coerce', "
            "'deduplicate', 'clip', 'impute', 'quarantine', 'hold', 'rollback', 'change_contract', "
            "'alert', 'refresh_reference', 'retrain'], got 'explode'",
        ),
        (
            "rules:\n  - when: {kind: drift, colour: red}\n    then: alert\n",
            "line 2: rules.0.when.colour is not a valid key; valid keys: ['column', 'kind'",
        ),
        (
            "rules:\n  - when: {kind: weather}\n    then: alert\n",
            "line 2: rules.0.when.kind must be one of ['contract_violation', 'schema_change', 'drift', "
            "'metric_anomaly', 'run_failure', 'freshness'], got 'weather'",
        ),
        (
            "rulez: []\n",
            "line 1: rulez is not a valid key; valid keys: ['alerts', 'default', 'guardrails', 'rules']",
        ),
        ("rules:\n  - then: alert\n    with: 3\n", "line 3: rules.0.with must be a mapping, got 3"),
    ],
)
def test_a_wrong_policy_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(datareflex.PolicyError, match=f"^policy.yaml, {re.escape(message)}"):
        datareflex.Policy.from_yaml(text, source="policy.yaml")


def test_evolution_policy_can_refuse_additive_changes(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules:\n"
        "  - when: {kind: schema_change, rule: unexpected_column}\n"
        "    then: accept_schema_change\n"
        "    with: {accept_additive: false}\n"
        "  - when: {kind: schema_change, rule: type_changed}\n"
        "    then: coerce\n"
    )
    outcome = handle(frames["schema_change"], contract, policy=policy)
    assert outcome.contract.version == 1 and outcome.verified is False
    assert len(outcome.published) == 0 and len(outcome.held) == len(frames["schema_change"])
    assert outcome.held["_reason"].str.contains("coupon_code: unexpected_column").all()


def test_a_remediation_past_the_budget_holds_the_batch_instead(contract, frames) -> None:
    rules = "rules: [{when: {kind: contract_violation}, then: quarantine}]\n"
    policy = datareflex.Policy.from_yaml(rules + "guardrails: {max_removed_share: 0.1}\n")
    batch = frames["clean"].head(100).assign(amount=lambda d: d["amount"].where(d.index % 5 != 0, -1.0))
    outcome = handle(batch, contract, policy=policy)
    assert outcome.decision is Decision.HOLD and outcome.verified is None  # a decision, not a failure
    assert (len(outcome.published), len(outcome.quarantined), len(outcome.held)) == (0, 0, 100)
    assert outcome.held["_reason"].str.contains("remove 20 of 100 rows, more than the budget of 10%").all()
    generous = datareflex.Policy.from_yaml(
        policy_text := "rules: [{when: {kind: contract_violation}, then: quarantine}]"
    )
    assert generous.max_removed_share == 0.2 and "guardrails" not in policy_text
    assert (
        len(handle(batch.head(50).assign(amount=lambda d: d["amount"].abs()), contract, policy=generous).held)
        == 0
    )


def test_a_budget_outside_zero_to_one_is_refused_with_its_line() -> None:
    with pytest.raises(
        datareflex.PolicyError,
        match="line 3: guardrails.max_removed_share must be less than or equal to 1, got 3",
    ):
        datareflex.Policy.from_yaml("rules: []\nguardrails:\n  max_removed_share: 3\n", source="p.yaml")


def test_clip_brings_out_of_range_values_to_the_bounds(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules:\n  - when: {kind: contract_violation, rule: [minimum, maximum]}\n    then: clip\n"
    )
    batch = frames["clean"].head(50).copy()
    batch.loc[[1, 2], "amount"] = [-4.0, 1e9]
    outcome = handle(batch, contract, policy=policy)
    bounds = contract.columns["amount"]
    assert outcome.verified is True and len(outcome.published) == 50
    assert outcome.published.loc[[1, 2], "amount"].tolist() == [bounds.minimum, bounds.maximum]
    again = datareflex.ACTIONS[ActionKind.CLIP](
        outcome.published, outcome.signals, datareflex.ActionContext(contract)
    )
    pd.testing.assert_frame_equal(again.frame, outcome.published)  # idempotent


def test_a_renamed_column_is_mapped_back(contract, frames) -> None:
    text = "rules: [{when: {kind: schema_change, rule: [missing_column, unexpected_column]}, then: rename}]"
    policy = datareflex.Policy.from_yaml(text)
    batch = frames["clean"].rename(columns={"channel": "sales_channel"})
    outcome = handle(batch, contract, policy=policy)
    assert outcome.verified is True and list(outcome.published.columns) == list(frames["clean"].columns)
    assert "renamed sales_channel back to channel" in outcome.notes
    unrelated = frames["clean"].drop(columns=["channel"]).assign(note="x")
    assert handle(unrelated, contract, policy=policy).verified is False  # not a rename: held


def test_ledger_records_of_one_handling_are_linked_and_name_the_policy(contract, frames) -> None:
    ledger = datareflex.Ledger("sqlite://")
    handle(frames["corrupt"], contract, ledger)
    handle(frames["clean"].head(10).assign(country="ZZ"), contract, ledger)
    records = ledger.records()
    first, second = records[0], next(r for r in records if r.id > 1 and r.detail["trail"] is None)
    assert all(r.detail["policy"] == POLICY.version and len(POLICY.version) == 12 for r in records)
    assert all(r.detail["trail"] == first.id for r in records[1 : second.id - 1])
    assert all(r.detail["trail"] == second.id for r in records if r.id > second.id)


def test_imputers_learn_from_the_reference_and_iteratively_from_related_columns(contract, frames) -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(100, 20, 2000)
    reference = pd.DataFrame({"price": x, "total": 3 * x + rng.normal(0, 1, 2000)})
    related = schemasense.infer(reference, name="related")
    batch = reference.head(200).copy()
    batch.loc[:19, "total"] = np.nan
    signals = datareflex.sense(related.validate(batch))
    policy = datareflex.Policy.from_yaml(
        "rules: [{when: {rule: not_null}, then: impute, with: {strategy: iterative}}]"
    )
    outcome = datareflex.Reflex(policy).handle(batch, signals, contract=related, reference_rows=reference)
    filled = outcome.published.loc[:19, "total"]
    assert outcome.verified is True
    assert np.allclose(filled, 3 * batch.loc[:19, "price"], atol=5)  # learned total ≈ 3 × price
    median = datareflex.Policy.from_yaml("rules: [{when: {rule: not_null}, then: impute}]")
    flat = datareflex.Reflex(median).handle(batch, signals, contract=related, reference_rows=reference)
    assert (flat.published.loc[:19, "total"] == reference["total"].median()).all()  # fitted on the reference


def test_alerts_post_to_a_webhook_and_a_dead_one_is_noted(contract, frames) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    shown = f"http://127.0.0.1:{server.server_port}/***"  # notes never carry a webhook's path
    text = (
        f"rules: [{{when: {{kind: drift}}, then: alert, with: {{webhook: '{url}'}}}}]\n"
        "alerts: {allowed_hosts: [127.0.0.1]}\n"
    )
    policy = datareflex.Policy.from_yaml(text)
    signal = datareflex.Signal(datareflex.SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.4)
    outcome = datareflex.Reflex(policy).handle(frames["clean"].head(5), [signal], contract=contract)
    server.server_close()
    assert received == [{"contract": "orders", "signals": [signal.to_dict()]}]
    assert f"webhook {shown}: HTTP 204" in outcome.notes
    dead = datareflex.Policy.from_yaml(text)
    again = datareflex.Reflex(dead).handle(frames["clean"].head(5), [signal], contract=contract)
    assert any(n.startswith(f"webhook {shown} failed") for n in again.notes) and again.verified is True
