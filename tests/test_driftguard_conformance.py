"""Every public DriftGuard detector and method passes the same checks; statistics match scipy."""

import inspect

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

import driftguard

PUBLIC = [getattr(driftguard, name) for name in driftguard.__all__]
METHODS = [
    m
    for m in PUBLIC
    if inspect.isclass(m) and hasattr(m, "compare") and not getattr(m, "_is_protocol", False)
]
DETECTORS = [d for d in PUBLIC if inspect.isclass(d) and hasattr(d, "fit")]


def frames(shift: float, seed: int, rows: int = 4000) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(delta: float) -> pd.DataFrame:
        categories = ["a", "b", "c"] if not delta else ["a", "c", "c"]
        return pd.DataFrame({"x": rng.normal(delta, 1, rows), "c": rng.choice(categories, rows)})

    return frame(0.0), frame(shift)


def test_every_public_method_and_detector_is_covered() -> None:
    assert {m.__name__ for m in METHODS} >= {
        "KolmogorovSmirnov",
        "Wasserstein",
        "PSI",
        "ChiSquare",
        "JensenShannon",
        "LInfinity",
        "TotalVariation",
        "MissingRate",
    }
    assert {d.__name__ for d in DETECTORS} == {"DriftDetector", "DomainClassifier"}


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_method_conformance(method) -> None:
    reference, same = frames(0.0, 1)
    _, shifted = frames(1.0, 2)
    column = "c" if "categorical" in method.kinds and method.__name__ != "MissingRate" else "x"
    base = driftguard.profile(reference)
    alike = driftguard.profile(same, like=base).columns[column]
    moved = (
        shifted.assign(x=lambda d: d["x"].where(d.index % 3 != 0))
        if method.__name__ == "MissingRate"
        else shifted
    )
    far = driftguard.profile(moved, like=base).columns[column]
    instance = method()
    quiet = instance.compare(base.columns[column], alike)
    loud = instance.compare(base.columns[column], far)
    assert quiet.effect < instance.threshold and quiet.p_value > 0.001
    assert loud.effect >= instance.threshold and loud.p_value < 1e-6
    assert instance.compare(base.columns[column], far) == loud  # stable


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.__name__)
def test_detector_conformance(detector) -> None:
    reference, same = frames(0.0, 3)
    _, shifted = frames(1.0, 4)
    fresh = detector()
    assert fresh.fit(reference) is fresh
    judge = fresh.score if hasattr(fresh, "score") else fresh.test
    unfitted = detector()
    with pytest.raises((driftguard.NotFittedError, AttributeError)):
        (unfitted.score if hasattr(unfitted, "score") else unfitted.test)(same)
    quiet, loud = judge(same), judge(shifted)
    if isinstance(quiet, driftguard.DriftReport):
        assert not quiet.drifted and loud.drifted and "x" in loud.drifted_columns
        assert driftguard.DriftReport.from_dict(loud.to_dict()) == loud
    else:
        assert quiet.auc < quiet.threshold and loud.auc > 0.75 and loud.p_value < 1e-6
        assert driftguard.DomainClassifierResult(**loud.to_dict()) == loud
    assert judge(shifted) == loud  # seeded results are stable


def test_scoring_before_fit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        driftguard.DriftDetector().score(pd.DataFrame({"x": [1.0]}))


@pytest.fixture(scope="module")
def discrete() -> tuple[driftguard.ColumnProfile, driftguard.ColumnProfile, np.ndarray, np.ndarray]:
    """Integer data with every value a bin edge of the reference: binned statistics are exact."""
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 30, 3000).astype(float), rng.integers(2, 30, 2000).astype(float)
    base = driftguard.profile(pd.DataFrame({"v": a}), bins=200)
    return base.columns["v"], driftguard.profile(pd.DataFrame({"v": b}), like=base).columns["v"], a, b


def test_ks_matches_scipy(discrete) -> None:
    reference, current, a, b = discrete
    ours = driftguard.KolmogorovSmirnov().compare(reference, current)
    theirs = stats.ks_2samp(a, b, method="asymp")
    assert ours.effect == pytest.approx(theirs.statistic) and ours.p_value == pytest.approx(
        theirs.pvalue, rel=1e-6
    )


def test_wasserstein_matches_scipy(discrete) -> None:
    reference, current, a, b = discrete
    from driftguard._wasserstein import wasserstein

    assert wasserstein(reference, current) == pytest.approx(stats.wasserstein_distance(a, b))


def test_chi_square_and_jensen_shannon_match_scipy() -> None:
    reference = driftguard.profile(pd.DataFrame({"c": ["a"] * 300 + ["b"] * 500 + ["c"] * 200}))
    current = driftguard.profile(pd.DataFrame({"c": ["a"] * 200 + ["b"] * 500 + ["c"] * 300}), like=reference)
    table = np.array([[300, 500, 200], [200, 500, 300]])
    chi2 = stats.chi2_contingency(table, correction=False)
    result = driftguard.ChiSquare().compare(reference.columns["c"], current.columns["c"])
    assert result.p_value == pytest.approx(chi2.pvalue) and result.effect == pytest.approx(
        np.sqrt(chi2.statistic / 2000 - 2 / 1999)
    )
    js = driftguard.JensenShannon().compare(reference.columns["c"], current.columns["c"]).effect
    assert js == pytest.approx(distance.jensenshannon([0.3, 0.5, 0.2], [0.2, 0.5, 0.3], base=2))


def test_missing_rate_matches_a_two_proportion_test() -> None:
    reference = driftguard.profile(pd.DataFrame({"x": [1.0] * 950 + [None] * 50}))
    current = driftguard.profile(pd.DataFrame({"x": [1.0] * 850 + [None] * 150}), like=reference)
    ours = driftguard.MissingRate().compare(reference.columns["x"], current.columns["x"])
    chi2 = stats.chi2_contingency(np.array([[50, 950], [150, 850]]), correction=False)
    assert ours.p_value == pytest.approx(chi2.pvalue) and ours.effect == pytest.approx(0.1)


@pytest.mark.parametrize("rows", [100, 500])
def test_sparse_categories_against_a_large_reference_do_not_false_alarm(rows) -> None:
    """About 100 categories (Dirichlet(1) shares: many rare), beside a 3-category and a numeric
    column; 20,000 reference rows, batches of ``rows`` from the same population: 4 references,
    40 batches each. Dataset verdict at most 5%, any column at most 10%."""
    rng = np.random.default_rng(rows)
    names = np.array([f"n{i:03d}" for i in range(100)])
    shares = rng.dirichlet(np.ones(len(names)))

    def frame(size: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "many": rng.choice(names, size, p=shares),
                "few": rng.choice(["a", "b", "c"], size, p=[0.6, 0.3, 0.1]),
                "x": rng.lognormal(0, 1, size),
            }
        )

    verdicts, columns = [], []
    for _ in range(4):
        detector = driftguard.DriftDetector(multivariate=False).fit(frame(20_000))
        for _ in range(40):
            report = detector.score(frame(rows))
            verdicts.append(report.drifted)
            columns.append(bool(report.drifted_columns))
    assert report.columns["many"].method == "total_variation"
    assert report.columns["many"].test == "chi_square_permutation"
    assert np.mean(verdicts) <= 0.05 and np.mean(columns) <= 0.10
