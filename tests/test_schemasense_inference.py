"""Inference rules pinned on seeded data, evolution, exports, and bad input."""

import numpy as np
import pandas as pd
import pytest

import schemasense
from schemasense import ChangeKind, ColumnContract, LogicalType, Rule


def seeded(rows: int, seed: int, first_id: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(first_id, first_id + rows),
            "score": rng.normal(50, 10, rows),
            "code": [f"SKU-{n:05d}" for n in rng.integers(0, 99_999, rows)],
            "ref": [f"R{n}" for n in rng.integers(10, 99_999, rows)],
            "mail": [f"user{n}@example.org" for n in rng.integers(0, 10**6, rows)],
            "token": [
                f"{n:08x}-{n % 65536:04x}-4{n % 4096:03x}-a{n % 4096:03x}-{n:012x}"
                for n in rng.integers(0, 2**31, rows)
            ],
            "colour": rng.choice(["red", "green", "blue"], rows),
            "name": rng.choice(["Ann Lee", "Bo", "Carla Diaz-Ruiz", "D. O'Neil"], rows),
            "day": pd.date_range("2026-01-01", periods=rows, freq="min").strftime("%d/%m/%Y %H:%M"),
            "flag": rng.random(rows) < 0.5,
            "rate": np.where(rng.random(rows) < 0.003, np.nan, rng.random(rows)),
        }
    )


@pytest.fixture(scope="module")
def contract() -> schemasense.Contract:
    return schemasense.infer([seeded(2000, 1), seeded(2000, 2, 2000)], name="seeded")


def test_inference_is_pinned_on_seeded_data(contract: schemasense.Contract) -> None:
    c = contract.columns
    assert c["id"] == ColumnContract(
        "id",
        LogicalType.INTEGER,
        nullable=False,
        minimum=0.0,
        unique=True,
        role=schemasense.Role.IDENTIFIER,
        role_reason="100% of values new in each training batch",
    )
    assert (c["score"].logical_type, c["score"].minimum, c["score"].maximum) == (
        LogicalType.FLOAT,
        0.0,
        129.2,
    )
    assert c["code"].pattern == "[A-Z]{3}-[0-9]{5}" and c["code"].unique is False
    assert c["ref"].pattern == "[A-Z]{1}[0-9]{2,5}"
    assert c["mail"].pattern == schemasense.EMAIL
    assert c["token"].pattern == schemasense.UUID
    assert c["colour"].allowed == ("blue", "green", "red")
    assert (
        c["name"].allowed == ("Ann Lee", "Bo", "Carla Diaz-Ruiz", "D. O'Neil") and c["name"].pattern is None
    )
    # every day and month is at most 12: the order stays open until a batch shows it
    assert (c["day"].logical_type, c["day"].datetime_format) == (LogicalType.DATETIME, None)
    assert c["day"].datetime_candidates == ("%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M")
    assert c["flag"].logical_type is LogicalType.BOOLEAN
    assert c["rate"].nullable and c["rate"].max_null_fraction == pytest.approx(0.0 + 0.05, abs=0.01)


def test_later_clean_batches_pass(contract: schemasense.Contract) -> None:
    later = seeded(5000, 3, 4000)
    result = contract.validate(later)
    assert len(result.invalid) / len(later) <= 0.01
    assert not any(v.column == "id" for v in result.violations)  # ids grow past yesterday's maximum


def test_free_text_gets_no_pattern() -> None:
    text = pd.DataFrame(
        {"note": [f"{w} {n}" for w, n in zip(["great", "ok, thanks", "meh!"] * 100, range(300), strict=True)]}
    )
    assert schemasense.infer(text).columns["note"].pattern is None


def test_null_tolerance_flags_a_burst_not_noise() -> None:
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"x": np.where(rng.random(10_000) < 0.003, np.nan, 1.0)})
    contract = schemasense.infer(train)
    assert contract.columns["x"].max_null_fraction == pytest.approx(0.053, abs=0.001)
    noisy = pd.DataFrame({"x": np.where(rng.random(1000) < 0.02, np.nan, 1.0)})
    burst = pd.DataFrame({"x": np.where(rng.random(1000) < 0.30, np.nan, 1.0)})
    assert contract.validate(noisy).ok
    result = contract.validate(burst)
    assert [v.rule for v in result.violations] == [Rule.NULL_FRACTION]
    assert len(result.invalid) == 0  # a batch-level finding: no single row is at fault


def test_columns_that_grow_batch_after_batch_are_not_capped() -> None:
    batches = [pd.DataFrame({"year": [y] * 50, "v": range(50)}) for y in (2001, 2002, 2003)]
    contract = schemasense.infer(batches)
    assert contract.columns["year"].maximum is None and contract.columns["v"].maximum is not None
    assert contract.validate(pd.DataFrame({"year": [2010] * 5, "v": range(5)})).ok


def test_a_key_repeated_across_batches_is_not_unique() -> None:
    batches = [pd.DataFrame({"id": range(100)}), pd.DataFrame({"id": range(50, 150)})]
    assert not schemasense.infer(batches).columns["id"].unique


def test_valid_and_invalid_partition_the_rows_in_order(contract: schemasense.Contract) -> None:
    batch = seeded(300, 5, 9000)
    batch.loc[[3, 7, 8], "colour"] = "mauve"
    batch.loc[[7, 100], "score"] = 10_000.0
    result = contract.validate(batch)
    assert list(result.invalid.index) == [3, 7, 8, 100]
    assert list(result.valid.index) == sorted(set(range(300)) - {3, 7, 8, 100})
    assert (
        result.invalid.loc[7, "_reason"]
        == "score: 10000.0 above maximum 129.2; colour: 'mauve' is not an allowed value"
    )


def test_diff_names_and_classifies_each_change(contract: schemasense.Contract) -> None:
    c = contract.columns
    new = schemasense.Contract(
        "seeded",
        {
            **{n: col for n, col in c.items() if n not in ("code", "flag", "colour", "score", "id")},
            "sku": ColumnContract("sku", LogicalType.STRING, nullable=False, pattern=c["code"].pattern),
            "colour": ColumnContract(
                "colour", LogicalType.CATEGORY, nullable=False, allowed=("blue", "red", "teal")
            ),
            "score": ColumnContract(
                "score", LogicalType.FLOAT, nullable=True, max_null_fraction=0.1, minimum=0.0, maximum=200.0
            ),
            "id": ColumnContract("id", LogicalType.FLOAT, nullable=False, minimum=0.0, unique=True),
            "extra": ColumnContract("extra", LogicalType.STRING),
        },
    )
    changes = {(ch.kind, ch.column): ch.breaking for ch in schemasense.diff(contract, new).changes}
    assert changes == {
        (ChangeKind.COLUMN_RENAMED, "code"): True,
        (ChangeKind.COLUMN_ADDED, "extra"): False,
        (ChangeKind.COLUMN_REMOVED, "flag"): True,
        (ChangeKind.TYPE_WIDENED, "id"): True,
        (ChangeKind.CATEGORIES_ADDED, "colour"): True,
        (ChangeKind.CATEGORIES_REMOVED, "colour"): False,
        (ChangeKind.NULLABILITY_CHANGED, "score"): True,
        (ChangeKind.RANGE_CHANGED, "score"): True,
    }
    narrowed = schemasense.diff(new, contract)
    assert {(ch.kind, ch.column): ch.breaking for ch in narrowed.changes}[
        (ChangeKind.TYPE_NARROWED, "id")
    ] is False


def test_a_renamed_batch_column_is_seen_as_a_rename(contract: schemasense.Contract) -> None:
    batch = seeded(500, 6, 9000).rename(columns={"colour": "color"})
    evolution = schemasense.evolve(contract, batch)
    assert [(c.kind, c.column, c.renamed_to) for c in evolution.pending] == [
        (ChangeKind.COLUMN_RENAMED, "colour", "color")
    ]
    assert evolution.needs_approval and evolution.contract is contract


def test_evolution_accepts_added_columns_and_holds_breaking_ones(contract: schemasense.Contract) -> None:
    batch = seeded(500, 7, 9000).assign(coupon="X").drop(columns=["flag"])
    evolution = schemasense.evolve(contract, batch)
    assert [c.column for c in evolution.accepted] == ["coupon"]
    assert [c.kind for c in evolution.pending] == [ChangeKind.COLUMN_REMOVED]
    assert (
        evolution.contract.version == contract.version + 1 and evolution.contract.columns["coupon"].nullable
    )
    strict = schemasense.evolve(contract, batch, schemasense.EvolutionPolicy(accept_additive=False))
    assert strict.accepted == () and strict.contract is contract


def test_registry_versions_are_readable_yaml(tmp_path, contract: schemasense.Contract) -> None:
    registry = schemasense.ContractRegistry(tmp_path)
    registry.save(contract)
    text = (tmp_path / "seeded" / "v0001.yaml").read_text()
    assert "pattern: '[A-Z]{3}-[0-9]{5}'" in text
    assert schemasense.Contract.from_yaml(text) == registry.latest("seeded")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"a": []}), "0 rows"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicated column names \\['a'\\]"),
    ],
)
def test_bad_training_input_is_named(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(schemasense.InferenceError, match=message):
        schemasense.infer(frame)


def test_odd_columns_get_explicit_entries() -> None:
    frame = pd.DataFrame(
        {0: [1, 2, 3] * 10, "gone": [None] * 30, "mixed": [1, "a", 2.5] * 10, "x": [1.0, np.inf, 2.0] * 10}
    )
    contract = schemasense.infer(frame)
    assert set(contract.columns) == {"0", "gone", "mixed", "x"}  # names as text
    assert contract.columns["gone"] == ColumnContract("gone", LogicalType.STRING, nullable=True)
    assert contract.columns["mixed"].logical_type is LogicalType.STRING
    assert contract.columns["x"].maximum is not None and np.isfinite(contract.columns["x"].maximum)
    assert contract.validate(frame.head(3)).invalid.index.tolist() == [1]  # inf is out of range
    with pytest.raises(schemasense.BatchError, match="duplicated column names"):
        contract.validate(pd.DataFrame([[1, 2]], columns=["x", "x"]))


def test_invoice_numbers_read_as_numbers_are_compared_as_text() -> None:
    contract = schemasense.infer(pd.DataFrame({"invoice": [str(n) for n in range(536365, 536465)]}))
    assert (contract.columns["invoice"].logical_type, contract.columns["invoice"].pattern) == (
        LogicalType.STRING,
        "[0-9]{6}",
    )
    digits = pd.DataFrame({"invoice": [536365.0, None, 536366.0]})  # a CSV day of digits with a gap
    assert [v.rule for v in contract.validate(digits).violations] == [Rule.NOT_NULL]  # no type change
    assert contract.coerce(digits)["invoice"].tolist()[::2] == ["536365", "536366"]
