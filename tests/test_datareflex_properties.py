"""Every row is accounted for, whatever the batch and whatever the policy (property-based)."""

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datareflex
import schemasense
from datareflex import ActionKind, SignalKind

RULES = [rule.value for rule in schemasense.Rule]
FAULTS = {
    "amount": [None, -5.0, 1e9, float("inf")],
    "country": [None, "ZZ", "", 7],
    "quantity": [None, -1, 10_000, 2.5],
    "created_at": [None, "yesterday", "2026-13-45T00:00:00"],
    "discount": [None, 3.0],
    "order_id": [None],
}


@pytest.fixture(scope="module")
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


rule_strategy = st.fixed_dictionaries(
    {"then": st.sampled_from([a.value for a in ActionKind])},
    optional={
        "when": st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from([k.value for k in SignalKind]),
                "rule": st.sampled_from(RULES),
                "column": st.sampled_from(sorted(FAULTS)),
            },
        )
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.integers(min_value=0, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    faults=st.lists(
        st.tuples(st.sampled_from(sorted(FAULTS)), st.integers(0, 59), st.integers(0, 3)), max_size=15
    ),
    duplicates=st.integers(min_value=0, max_value=5),
    drop=st.sampled_from([None, "email", "status"]),
    extra=st.booleans(),
    rules=st.lists(rule_strategy, max_size=6),
    default=st.sampled_from([a.value for a in ActionKind]),
)
def test_rows_in_equal_published_plus_quarantined_plus_held(
    contract, frames, rows, seed, faults, duplicates, drop, extra, rules, default
) -> None:
    batch = frames["clean"].sample(n=rows, random_state=seed).reset_index(drop=True).astype(object)
    for column, row, choice in faults:
        if row < len(batch):
            batch.loc[row, column] = FAULTS[column][choice % len(FAULTS[column])]
    if len(batch) and duplicates:
        batch = pd.concat(
            [batch, batch.sample(n=duplicates, replace=True, random_state=seed)], ignore_index=True
        )
    if drop:
        batch = batch.drop(columns=[drop])
    if extra:
        batch["coupon"] = np.where(np.arange(len(batch)) % 2, "X", None)
    policy = datareflex.Policy.from_yaml(yaml.safe_dump({"rules": rules, "default": default}))
    signals = datareflex.sense(contract.validate(batch))
    outcome = datareflex.Reflex(policy).handle(batch, signals, contract=contract)

    assert len(outcome.published) + len(outcome.quarantined) + len(outcome.held) == len(batch)
    assert outcome.quarantined["_reason"].notna().all() and outcome.held["_reason"].notna().all()
    ids = [*outcome.published.index, *outcome.quarantined.index, *outcome.held.index]
    assert sorted(ids) == list(range(len(batch)))  # each input row exactly once
    if outcome.verified is not None and len(outcome.published):
        final = outcome.contract or contract
        result = final.validate(outcome.published)
        assert not result.row_violations  # nothing invalid is ever published
        signalled = {(s.column, s.rule) for s in outcome.signals if s.scope is datareflex.Scope.BATCH}
        # a batch-level breach may stand only where it was signalled and routed (a null burst)
        assert all(
            v.rule is schemasense.Rule.NULL_FRACTION and (v.column, v.rule.value) in signalled
            for v in result.batch_violations
        )


@settings(max_examples=40, deadline=None)
@given(
    nulls=st.integers(min_value=0, max_value=30),
    bad=st.integers(min_value=0, max_value=30),
    rules=st.lists(rule_strategy, max_size=5),
    default=st.sampled_from([a.value for a in ActionKind]),
    scope=st.sampled_from([None, "row", "batch"]),
)
def test_batch_breaches_never_cost_valid_rows_their_accounting(nulls, bad, rules, default, scope) -> None:
    rng = np.random.default_rng(0)
    training = pd.DataFrame(
        {"qty": rng.integers(1, 10, 300), "coupon": np.where(rng.random(300) < 0.1, None, "SAVE")}
    )
    contract = schemasense.infer(training, name="t")
    batch = pd.DataFrame({"qty": [5] * 30, "coupon": ["SAVE"] * 30}).astype(object)
    batch.loc[: nulls - 1, "coupon"] = None
    batch.loc[30 - bad :, "qty"] = 99
    if scope:
        rules = [{"when": {"scope": scope}, "then": "alert"}, *rules]
    policy = datareflex.Policy.from_yaml(yaml.safe_dump({"rules": rules, "default": default}))
    outcome = datareflex.handle_batch(batch, contract=contract, policy=policy)
    assert len(outcome.published) + len(outcome.quarantined) + len(outcome.held) == 30
    assert not (outcome.contract or contract).validate(outcome.published).row_violations
    assert 99 not in set(outcome.published["qty"])
