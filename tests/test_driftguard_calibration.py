"""Calibration of the categorical rule: sparse counts, the reference's partition, diffuse shifts."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import driftguard
from driftguard import _method
from driftguard._counting import TOP_CATEGORIES
from driftguard._total_variation import expected_total_variation

NAMES = np.array([f"c{i:03d}" for i in range(100)])


def population(seed: int = 0) -> np.ndarray:
    """Shares of 100 categories, Dirichlet(1): a few common ones, many rare ones."""
    return np.random.default_rng(seed).dirichlet(np.ones(len(NAMES)))


def pearson_p(reference: np.ndarray, current: np.ndarray, draws: int, exceedances: int) -> float:
    totals = np.rint(reference + current).astype(np.int64)
    size = int(current.sum())
    observed = float(_method.pearson_statistic(current, totals, size))
    return _method.permutation_p(
        observed,
        totals,
        size,
        lambda counts: _method.pearson_statistic(counts, totals, size),
        draws=draws,
        exceedances=exceedances,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_permutation_p_value_matches_scipy_where_counts_are_large(seed) -> None:
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(6) * 5)
    reference = rng.multinomial(3000, shares).astype(float)
    current = rng.multinomial(
        2000, shares * np.linspace(0.9, 1.1, 6) / (shares * np.linspace(0.9, 1.1, 6)).sum()
    )
    current = current.astype(float)
    table = np.vstack([reference, current])
    theirs = stats.chi2_contingency(table, correction=False)
    assert _method.pearson_statistic(current, reference + current, 2000) == pytest.approx(theirs.statistic)
    assert pearson_p(reference, current, 20_000, 20_000) == pytest.approx(theirs.pvalue, abs=0.01)
    # the defaults stop early: coarser, but of the same order
    assert pearson_p(reference, current, _method.PERMUTATIONS, _method.EXCEEDANCES) == pytest.approx(
        theirs.pvalue, rel=0.5, abs=2 / _method.PERMUTATIONS
    )
    # large expected counts keep scipy's asymptotic test
    assert _method.chi_square_p(reference, current) == (theirs.statistic, theirs.pvalue, "chi_square")


def test_the_permutation_p_value_is_calibrated_where_counts_are_small() -> None:
    """100 categories, 20,000 reference rows, 100-row batches: p-values are uniform-ish."""
    rng = np.random.default_rng(11)
    shares = population()
    p_values, tests = [], set()
    for _ in range(300):
        reference = rng.multinomial(20_000, shares).astype(float)
        current = rng.multinomial(100, shares).astype(float)
        _, p_value, test = _method.chi_square_p(reference, current)
        p_values.append(p_value)
        tests.add(test)
    p = np.array(p_values)
    assert tests == {"chi_square_permutation"}
    assert (p <= 0.05).mean() <= 0.08  # at most alpha, with room for 300 trials' noise
    assert (p <= 0.01).mean() <= 0.03
    assert 0.35 <= (p <= 0.5).mean() <= 0.65  # not conservative to the point of uselessness
    assert p.min() >= 1 / (_method.PERMUTATIONS + 1)


def test_unknown_batch_values_fold_into_the_reference_other() -> None:
    many = [f"v{i:04d}" for i in range(TOP_CATEGORIES + 50)]
    reference = driftguard.profile(pd.DataFrame({"c": many * 20}))
    batch = pd.DataFrame({"c": many[-30:] * 2})  # only values outside the reference's counted ones
    current = driftguard.profile(batch, like=reference)
    keys, ref, cur = _method.aligned(reference.columns["c"], current.columns["c"])
    assert driftguard.OTHER in keys and set(keys) <= set(reference.columns["c"].frequencies())
    assert cur[keys.index(driftguard.OTHER)] == 60
    # a reference that counted every value: the batch's unseen values are new, and named
    small = driftguard.profile(pd.DataFrame({"c": ["a", "b"] * 50}))
    result = driftguard.TotalVariation().compare(
        small.columns["c"],
        driftguard.profile(pd.DataFrame({"c": ["a"] * 50 + ["z"] * 50}), like=small).columns["c"],
    )
    assert "new categories: ['z']" in result.note and result.effect > 0.4


def test_the_expected_distance_without_drift_is_the_known_bias() -> None:
    """100 categories, 20,000 vs 500 rows: about 0.18 apart by chance alone."""
    rng = np.random.default_rng(5)
    shares = np.full(100, 0.01)
    reference = rng.multinomial(20_000, shares).astype(float)
    current = rng.multinomial(500, shares).astype(float)
    analytic = 0.5 * np.sqrt(2 / np.pi) * np.sqrt(shares * (1 - shares) * (1 / 500 + 1 / 20_000)).sum()
    assert expected_total_variation(reference, current) == pytest.approx(analytic, rel=0.1)
    assert 0.15 < analytic < 0.2


def tilted(tilt: float) -> np.ndarray:
    """Uniform shares over 100 categories, each multiplied by 1 - tilt ... 1 + tilt (TV = tilt / 2)."""
    weights = np.linspace(1 - tilt, 1 + tilt, len(NAMES))
    return weights / weights.sum()


@pytest.mark.parametrize("seed", range(5))
def test_a_diffuse_shift_is_flagged_by_the_default_rule_and_missed_by_l_infinity(seed) -> None:
    """Every one of 100 categories moves (at most 0.6 points, TV 0.15): the default rule (total
    variation beyond 10 categories) flags it at 5,000 rows against 20,000; L-infinity cannot."""
    rng = np.random.default_rng(seed)
    shifted = tilted(0.6)
    assert np.abs(shifted - 0.01).max() < 0.05 and 0.5 * np.abs(shifted - 0.01).sum() == pytest.approx(
        0.15, abs=0.005
    )
    reference = pd.DataFrame({"c": rng.choice(NAMES, 20_000)})
    current = pd.DataFrame({"c": rng.choice(NAMES, 5_000, p=shifted)})
    report = driftguard.DriftDetector(multivariate=False).fit(reference).score(current)
    assert report.columns["c"].method == "total_variation" and report.drifted_columns == ["c"]
    assert report.columns["c"].statistic > 0.05
    only_l_infinity = driftguard.DriftDetector(multivariate=False, methods={"c": "l_infinity"})
    assert only_l_infinity.fit(reference).score(current).drifted_columns == []


def test_few_categories_keep_l_infinity() -> None:
    reference = pd.DataFrame({"c": list("abcdefghij") * 10})
    report = driftguard.DriftDetector(multivariate=False).fit(reference).score(reference)
    assert report.columns["c"].method == "l_infinity"


def test_a_rare_null_in_a_small_batch_is_tested_exactly() -> None:
    """1% nulls in 100,000 reference rows against 100-row batches: the z-test's p-values fall
    below 0.0025 about 3.5 times too often there; Fisher's exact test does not."""
    rng = np.random.default_rng(5)
    method, below = driftguard.MissingRate(), 0
    for _ in range(1000):
        reference = driftguard.ColumnProfile("x", "numeric", 100_000, int(rng.binomial(100_000, 0.01)))
        current = driftguard.ColumnProfile("x", "numeric", 100, int(rng.binomial(100, 0.01)))
        result = method.compare(reference, current)
        assert result.test == "fisher_exact"
        below += result.p_value < 0.0025
    assert below <= 1000 * 0.0025  # the z-test: about 9
