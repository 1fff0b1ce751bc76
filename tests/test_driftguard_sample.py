"""Profiles carry a mergeable row sample, so the domain classifier runs on stored profiles."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import driftguard


def _day(seed: int, rows: int = 1500, together: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    inlet = rng.normal(20, 3, rows)
    outlet = (inlet if together else 40 - inlet) + rng.normal(0, 0.5, rows)
    return pd.DataFrame({"inlet": inlet, "outlet": outlet, "unit": rng.choice(["n", "s"], rows)})


@pytest.fixture(scope="module")
def days() -> dict[dt.date, driftguard.Profile]:
    """Four weeks of daily profiles on one training reference's bins, each stored and read back."""
    base = driftguard.profile(_day(0))
    return {
        dt.date(2026, 11, d): driftguard.Profile.from_bytes(driftguard.profile(_day(d), like=base).to_bytes())
        for d in range(1, 29)
    }


def test_a_merged_sample_is_a_sample_of_the_union() -> None:
    big = driftguard.profile(pd.DataFrame({"x": np.zeros(30_000), "c": ["big"] * 30_000}))
    small = driftguard.profile(pd.DataFrame({"x": np.ones(10_000), "c": ["small"] * 10_000}), like=big)
    merged = big.merge(small).sample
    assert merged is not None and len(merged) == 2000
    assert (merged.rows["c"] == "small").mean() == pytest.approx(0.25, abs=0.04)
    assert merged == small.merge(big).sample  # merging is order-free


@pytest.mark.parametrize("reference", ["rolling", "same_weekday"])
def test_joint_drift_is_found_on_merged_stored_profiles(days, reference) -> None:
    today = dt.date(2026, 11, 29)
    merged = (
        driftguard.rolling(list(days.values()), 7)
        if reference == "rolling"
        else driftguard.same_weekday(days, today, weeks=4)
    )
    base = next(iter(days.values()))
    for seed, together in ((101, True), (102, False)):
        batch = driftguard.profile(_day(seed, together=together), like=base)
        report = driftguard.detect(merged, driftguard.Profile.from_json(batch.to_json()))
        joint = report.multivariate
        assert joint is not None and joint.columns == ("inlet", "outlet", "unit")
        assert joint.rows == len(merged.sample) + len(batch.sample)
        assert report.drifted_columns == []  # neither column alone changed
        assert joint.drifted is not together and report.drifted is not together


def test_no_sample_no_classifier() -> None:
    reference = driftguard.profile(_day(1), sample_rows=0)
    assert reference.sample is None
    assert driftguard.detect(reference, _day(2, together=False)).multivariate is None
    sampled = driftguard.profile(_day(1), like=reference)
    assert sampled.merge(reference).sample is None  # a sample of one side is no sample of both


def test_a_column_missing_from_the_batch_is_left_out_of_the_classifier(days) -> None:
    reference = driftguard.rolling(list(days.values()), 7)
    report = driftguard.detect(reference, _day(103).drop(columns=["unit"]))
    assert report.skipped["unit"] == "missing from the batch"
    assert report.multivariate is not None and report.multivariate.columns == ("inlet", "outlet")
    assert not report.multivariate.drifted
