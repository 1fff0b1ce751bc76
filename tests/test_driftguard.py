import numpy as np
import pandas as pd
import pytest

import driftguard
from suite.cli.sample_data import DRIFTED_COLUMNS


@pytest.fixture(scope="module")
def detector(frames: dict[str, pd.DataFrame]) -> driftguard.DriftDetector:
    return driftguard.DriftDetector().fit(frames["training"])


def test_flags_exactly_the_injected_columns(
    detector: driftguard.DriftDetector, frames: dict[str, pd.DataFrame]
) -> None:
    report = detector.score(frames["drift"])
    assert report.drifted
    assert sorted(report.drifted_columns) == sorted(DRIFTED_COLUMNS)
    amount = report.columns["amount"]
    assert amount.p_adjusted < 0.05 and amount.statistic >= amount.threshold


def test_clean_batches_do_not_drift(
    detector: driftguard.DriftDetector, frames: dict[str, pd.DataFrame]
) -> None:
    assert detector.score(frames["clean"]).drifted_columns == []
    # A text-typed copy of a numeric column is read like the reference, not as new categories.
    assert "quantity" not in detector.score(frames["schema_change"]).drifted_columns


def test_identifiers_and_timestamps_are_not_tested(
    detector: driftguard.DriftDetector, frames: dict[str, pd.DataFrame]
) -> None:
    skipped = detector.score(frames["clean"]).skipped
    assert skipped["order_id"] == "identifier" and skipped["created_at"] == "timestamp"


def test_a_null_burst_is_drift() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=4000)})
    current = pd.DataFrame({"x": np.where(rng.random(1000) < 0.3, np.nan, rng.normal(size=1000))})
    assert driftguard.detect(reference, current).drifted_columns == ["x"]


def test_no_false_alarms_on_small_same_distribution_batches() -> None:
    rng = np.random.default_rng(11)
    detector = driftguard.DriftDetector(multivariate=False).fit(
        pd.DataFrame({"x": rng.normal(size=100_000), "c": rng.choice(list("abcdef"), 100_000)})
    )
    trials = 1000
    alarms = sum(
        detector.score(
            pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(list("abcdef"), 100)})
        ).drifted
        for _ in range(trials)
    )
    assert alarms / trials <= 0.06  # α = 0.05 across both columns, plus sampling slack


def test_trivial_shifts_on_large_batches_are_not_drift() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(size=100_000)})
    report = driftguard.detect(reference, pd.DataFrame({"x": rng.normal(0.02, 1, 100_000)}))
    assert report.columns["x"].p_value is not None and not report.drifted


def test_insufficient_data_is_said_not_guessed(
    detector: driftguard.DriftDetector, frames: dict[str, pd.DataFrame]
) -> None:
    report = detector.score(frames["clean"].head(10))
    assert {c.note for c in report.columns.values()} == {"insufficient data"}
    assert not report.drifted


def test_profiles_merge_and_serialise(frames: dict[str, pd.DataFrame]) -> None:
    reference = driftguard.profile(frames["training"])
    middle = len(frames["clean"]) // 2
    halves = [
        driftguard.profile(part, like=reference)
        for part in (frames["clean"].iloc[:middle], frames["clean"].iloc[middle:])
    ]
    merged = driftguard.merge_all(halves)
    whole = driftguard.profile(frames["clean"], like=reference)
    assert merged.rows == whole.rows
    for name, column in whole.columns.items():
        assert merged.columns[name].frequencies() == column.frequencies()
        assert merged.columns[name].total == pytest.approx(column.total)
    assert driftguard.Profile.from_json(merged.to_json()) == merged
    with pytest.raises(driftguard.IncompatibleProfilesError):
        reference.merge(driftguard.profile(frames["clean"]))


def test_report_round_trip_and_markdown(
    detector: driftguard.DriftDetector, frames: dict[str, pd.DataFrame]
) -> None:
    report = detector.score(frames["drift"])
    assert driftguard.DriftReport.from_dict(report.to_dict()) == report
    assert "| amount | wasserstein |" in report.to_markdown()


def test_scoring_before_fit_and_bad_parameters_fail_clearly() -> None:
    with pytest.raises(driftguard.NotFittedError):
        driftguard.DriftDetector().score(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="alpha must be in"):
        driftguard.DriftDetector(alpha=2).fit(pd.DataFrame({"x": [1.0]}))


def test_a_joint_change_no_single_column_shows_is_caught_by_the_classifier() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=6000)
    reference = pd.DataFrame({"a": x[:3000], "b": x[:3000] + rng.normal(0, 0.3, 3000)})
    flipped = pd.DataFrame({"a": x[3000:], "b": -x[3000:] + rng.normal(0, 0.3, 3000)})
    report = driftguard.DriftDetector().fit(reference).score(flipped)
    assert report.drifted_columns == []  # each column alone is unchanged
    assert report.multivariate is not None and report.multivariate.drifted and report.drifted
    same = pd.DataFrame({"a": x[3000:], "b": x[3000:] + rng.normal(0, 0.3, 3000)})
    assert not driftguard.DriftDetector().fit(reference).score(same).drifted


def test_methods_can_be_chosen_per_column_and_columns_weighted(frames: dict[str, pd.DataFrame]) -> None:
    detector = driftguard.DriftDetector(
        methods={"amount": "psi", "channel": "jensen_shannon"}, multivariate=False
    )
    report = detector.fit(frames["training"]).score(frames["drift"])
    assert (report.columns["amount"].method, report.columns["channel"].method) == ("psi", "jensen_shannon")
    weighted = driftguard.DriftDetector(drift_share=0.5, weights={"amount": 10.0}, multivariate=False)
    assert weighted.fit(frames["training"]).score(frames["drift"]).drifted  # amount alone outweighs the rest
    with pytest.raises(ValueError, match="method 'fancy' is not one of"):
        driftguard.DriftDetector(methods={"amount": "fancy"}).fit(frames["training"])


def test_profiles_serialise_to_bytes_and_read_quantiles_from_their_bins(
    frames: dict[str, pd.DataFrame],
) -> None:
    reference = driftguard.profile(frames["training"])
    again = driftguard.Profile.from_bytes(reference.to_bytes())
    assert again == reference
    assert again.columns["amount"].quantiles([0.5])[0] == pytest.approx(
        frames["training"]["amount"].median(), rel=0.02
    )
    assert len(dict(again.columns["country"].categories)) == frames["training"]["country"].nunique()
    # profiles stored with KLL and HLL sketches (before they were dropped) still load
    stored = reference.to_dict()
    for column in stored["columns"].values():
        column.update(quantile_sketch="AgMIGg==", distinct_sketch=None)
    assert driftguard.Profile.from_dict(stored) == reference


def test_rolling_reference_and_history_watch(frames: dict[str, pd.DataFrame]) -> None:
    base = driftguard.profile(frames["training"])
    days = [
        driftguard.profile(frames["training"].iloc[i * 300 : (i + 1) * 300], like=base) for i in range(10)
    ]
    assert driftguard.rolling(days, window=3).rows == 900
    history = [driftguard.batch_metrics(p) for p in days]
    history += [{**history[-1], "missing/discount": 0.3 + 0.01 * i} for i in range(3)]
    assert 10 in driftguard.watch(history)["missing/discount"]
    assert "rows" not in driftguard.watch(history)


def test_the_classifier_p_value_is_calibrated_under_no_drift() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"a": rng.normal(size=20_000), "b": rng.choice(list("xyz"), 20_000)})
    classifier = driftguard.DomainClassifier().fit(reference)
    p_values = np.array(
        [
            classifier.test(
                pd.DataFrame({"a": rng.normal(size=100), "b": rng.choice(list("xyz"), 100)})
            ).p_value
            for _ in range(200)
        ]
    )
    assert (p_values < 0.05).mean() <= 0.08  # 5% expected; a pooled cross-validated AUC gave 10%


@pytest.mark.parametrize("shape", ["normal", "discrete", "heavy tailed", "extreme"])
def test_bin_counts_are_searchsorted_counts_exactly(shape: str) -> None:
    from driftguard._bins import bin_counts, quantile_edges

    rng = np.random.default_rng(5)
    values = {
        "normal": rng.normal(size=50_000),
        "discrete": rng.integers(0, 20, 50_000).astype(float),
        "heavy tailed": rng.lognormal(0, 3, 50_000),
        "extreme": np.r_[rng.normal(size=1000) * 1e300, 5e-324, -0.0, 0.0, -5e-324],
    }[shape]
    ordered = np.sort(values)
    edges_at_quantiles = np.array(quantile_edges(ordered, 100))
    # each edge is the smallest value with at least k% of the values at or below it
    distinct = np.unique(values)
    at_or_below = np.searchsorted(ordered, distinct, side="right") * 100
    smallest = [distinct[np.argmax(at_or_below >= k * len(values))] for k in range(1, 100)]
    assert np.array_equal(edges_at_quantiles, np.unique(smallest))
    for edges in (
        edges_at_quantiles,
        np.unique(np.quantile(values, rng.random(7))),
        np.array([values.min(), np.nextafter(values.min(), np.inf)]),
        np.array([0.0]),
        np.array([]),
    ):
        positions = np.searchsorted(edges, values, side="left")
        counts, sums = bin_counts(ordered, edges)
        assert np.array_equal(counts, np.bincount(positions, minlength=len(edges) + 1))
        in_order = np.bincount(positions, weights=values, minlength=len(edges) + 1)
        magnitude = np.bincount(positions, weights=np.abs(values), minlength=len(edges) + 1)
        assert np.all(np.abs(sums - in_order) <= 1e-12 * magnitude)  # summed in another order


def _copies(*texts: str) -> list[str]:
    """Equal strings that are distinct objects."""
    return ["".join([text]) for text in texts] + [text[:1] + text[1:] for text in texts]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(np.array(["1", 1, True, "x", None, np.nan, pd.NA, 1.5], dtype=object)[np.arange(5000) % 8]),
        pd.Series(_copies("alpha", "beta") * 700 + [float("nan") for _ in range(300)], dtype=object),
        pd.Series([f"late-{i}" if i >= 20_000 and i % 500 == 0 else "early" for i in range(40_000)]),
        pd.Series([f"late-{i}" if i == 39_999 else "early" for i in range(40_000)]),
        pd.Series([f"id-{i % 70_000}" for i in range(140_000)]),  # too many objects: counted by value
        pd.DataFrame({"a": ["x", "y", None] * 50, "b": ["u", "v", "v"] * 50}, dtype=object).T.iloc[1:].T["b"],
        pd.Series(["x", "y", None, "y"] * 100, dtype="string[pyarrow]"),
        pd.Series(["x", "y", None, "y"] * 100, dtype="string[python]"),
        pd.Series(pd.Categorical(["x", "y", None, "y"] * 100)),
        pd.Series([True, False, None] * 100, dtype=object),
        pd.Series([], dtype=object),
    ],
)
def test_categories_are_counted_by_their_text_like_pandas_does(column: pd.Series) -> None:
    from driftguard._counting import _value_counts

    expected = column.dropna().astype(str).value_counts()
    counted = _value_counts(column)
    counted.index = pd.Index(counted.index.map(str), dtype=object)
    counted = counted.groupby(level=0).sum()
    assert counted.sort_index().to_dict() == expected.sort_index().to_dict()
    profiled = driftguard.profile(pd.DataFrame({"c": column}), like=None).columns["c"]
    if profiled.kind == "categorical":
        assert profiled.missing == column.isna().sum()


def test_objects_are_counted_in_strided_arrays_too() -> None:
    from driftguard._counting import _object_counts

    objects = np.array(["a", "b", None, 1, "1"], dtype=object)[np.arange(10_000) % 5]
    for view in (objects, objects[::3], objects[::-1], objects[1::7]):
        counted = _object_counts(view)
        assert counted is not None and counted.to_dict() == pd.Series(view).value_counts().to_dict()


def test_the_domain_classifier_learns_the_same_categories_from_profile_counts() -> None:
    rng = np.random.default_rng(6)
    reference = pd.DataFrame(
        {
            "text": rng.choice(["a", "b", "c", "d"], 5000, p=[0.4, 0.3, 0.2, 0.1]).astype(object),
            "mixed": rng.choice(np.array(["1", 1, True, "x", None], dtype=object), 5000),
            "tied": np.array(["x", "y"] * 2500, dtype=object),
        }
    )
    counts = {c: dict(driftguard.profile(reference).columns[c].categories) for c in reference.columns}
    with_counts = driftguard.DomainClassifier().fit(reference, counts).categories_
    counted_again = driftguard.DomainClassifier().fit(reference).categories_
    expected = {c: pd.Index(reference[c].dropna().astype(str).value_counts().index) for c in reference}
    for column, index in expected.items():
        assert with_counts[column].equals(index) and counted_again[column].equals(index)


def test_a_column_without_values_does_not_stop_the_multivariate_test() -> None:
    rng = np.random.default_rng(0)

    def frame(nulls: float) -> pd.DataFrame:
        y = np.where(rng.random(500) < nulls, np.nan, 1.0)
        return pd.DataFrame({"x": rng.normal(size=500), "y": y, "c": rng.choice(["a", "b"], 500)})

    report = driftguard.DriftDetector().fit(frame(1.0)).score(frame(0.5))
    assert report.multivariate is not None and not report.multivariate.drifted
    assert report.drifted_columns == ["y"]  # half the values appeared: the missing rate says so
