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
        assert final.validate(outcome.published).ok  # nothing invalid is ever published
