from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import schemasense
from schemasense import LogicalType, Rule


@pytest.fixture(scope="module")
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


def test_infers_types_keys_ranges_and_categories(contract: schemasense.Contract) -> None:
    columns = contract.columns
    assert columns["order_id"].logical_type is LogicalType.INTEGER
    assert columns["order_id"].unique and columns["order_id"].maximum is None  # ids grow
    assert not columns["customer_id"].unique
    assert columns["amount"].logical_type is LogicalType.FLOAT
    assert columns["amount"].minimum == 0.0 and columns["amount"].maximum > 300
    assert columns["channel"].allowed == ("marketplace", "mobile", "web")
    assert columns["email"].logical_type is LogicalType.STRING and columns["email"].allowed is None
    assert columns["created_at"].logical_type is LogicalType.DATETIME
    assert columns["created_at"].datetime_format == "%Y-%m-%dT%H:%M:%S"
    assert not any(c.nullable for c in columns.values())


def test_accepts_later_clean_and_drifted_batches(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    assert contract.validate(frames["clean"]).ok
    assert contract.validate(frames["drift"]).ok


def test_names_every_broken_rule_per_row(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    result = contract.validate(frames["corrupt"])
    counts = {(v.column, v.rule): v.count for v in result.violations}
    assert counts == {
        ("order_id", Rule.UNIQUE): 5,
        ("country", Rule.NOT_NULL): 6,
        ("country", Rule.ALLOWED): 5,
        ("channel", Rule.ALLOWED): 3,
        ("amount", Rule.MINIMUM): 4,
        ("amount", Rule.MAXIMUM): 3,
        ("quantity", Rule.MAXIMUM): 3,
        ("discount", Rule.NOT_NULL): 6,
        ("created_at", Rule.TYPE): 5,
    }
    assert len(result.valid) + len(result.invalid) == len(frames["corrupt"])
    assert set(result.valid.index).isdisjoint(result.invalid.index)
    assert result.invalid["_reason"].str.contains("country: 'ZZ' is not an allowed value").sum() == 5


def test_a_row_breaking_two_rules_carries_both_reasons(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    row = frames["clean"].head(1).assign(amount=-3.0, channel="fax")
    reason = contract.validate(row).invalid["_reason"].iloc[0]
    assert reason == "channel: 'fax' is not an allowed value; amount: -3.0 below minimum 0.0"


def test_schema_changes_are_batch_violations(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    result = contract.validate(frames["schema_change"])
    assert {(v.column, v.rule) for v in result.batch_violations} == {
        ("quantity", Rule.TYPE_CHANGED),
        ("coupon_code", Rule.UNEXPECTED_COLUMN),
    }
    assert not result.row_violations  # every quantity string reads as an integer
    missing = contract.validate(frames["clean"].drop(columns=["email"]))
    assert [v.rule for v in missing.violations] == [Rule.MISSING_COLUMN]
    assert len(missing.invalid) == len(frames["clean"])


def test_gaps_in_an_integer_csv_column_are_not_a_type_change(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    batch = frames["clean"].head(50).copy()
    batch["quantity"] = batch["quantity"].astype(float)
    batch.loc[batch.index[0], "quantity"] = None
    result = contract.validate(batch)
    assert [(v.column, v.rule) for v in result.violations] == [("quantity", Rule.NOT_NULL)]


def test_yaml_round_trip_and_registry(contract: schemasense.Contract, tmp_path) -> None:
    assert schemasense.Contract.from_yaml(contract.to_yaml()) == contract
    registry = schemasense.ContractRegistry(tmp_path)
    first = registry.save(contract)
    second = registry.save(first.with_columns(schemasense.ColumnContract("coupon", LogicalType.STRING)))
    assert (first.version, second.version, registry.versions("orders")) == (1, 2, [1, 2])
    assert registry.get("orders", 1) == first
    assert "coupon" in registry.latest("orders").columns


def test_concurrent_evolutions_keep_every_change(contract: schemasense.Contract, tmp_path) -> None:
    """Eight batches each add a column to the same version at once: a compare-and-swap on the
    version number replays each on whatever was stored meanwhile, so none is dropped."""
    registry = schemasense.ContractRegistry(tmp_path)
    base = registry.save(contract)
    changes = [
        base.with_columns(schemasense.ColumnContract(f"extra_{i}", LogicalType.STRING)) for i in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        stored = list(pool.map(lambda change: registry.save(change, based_on=base), changes))
    assert sorted(s.version for s in stored) == list(range(2, 10))
    latest = registry.latest("orders")
    assert {f"extra_{i}" for i in range(8)} <= set(latest.columns)
    assert set(contract.columns) <= set(latest.columns)
    assert registry.versions("orders") == list(range(1, 10))


def test_a_rebased_change_keeps_a_removal_and_the_other_writers_column(
    contract: schemasense.Contract,
) -> None:
    dropped = next(iter(contract.columns))
    removal = schemasense.Contract(
        contract.name, {n: c for n, c in contract.columns.items() if n != dropped}, 2
    )
    meanwhile = contract.with_columns(schemasense.ColumnContract("coupon", LogicalType.STRING))
    rebased = schemasense.rebase(removal, contract, onto=meanwhile)
    assert dropped not in rebased.columns and "coupon" in rebased.columns
    assert rebased.version == meanwhile.version + 1


def test_bad_contract_yaml_names_the_problem() -> None:
    with pytest.raises(schemasense.ContractError, match="column 'a': 'type' must be one of"):
        schemasense.Contract.from_yaml("name: t\ncolumns:\n  a: {type: decimal}\n")
    with pytest.raises(schemasense.ContractError, match="unknown key"):
        schemasense.Contract.from_yaml("name: t\ncolumns:\n  a: {type: integer, maximun: 3}\n")


def test_diff_classifies_changes(contract: schemasense.Contract) -> None:
    added = contract.with_columns(schemasense.ColumnContract("coupon", LogicalType.CATEGORY, allowed=("A",)))
    retyped = contract.with_columns(schemasense.ColumnContract("quantity", LogicalType.STRING))
    assert [(c.kind.value, c.breaking) for c in schemasense.diff(contract, added).changes] == [
        ("column_added", False)
    ]
    assert schemasense.diff(contract, retyped).breaking
    assert schemasense.diff(added, contract).breaking  # a removed column breaks readers


def test_pandera_export_agrees_on_the_sample(
    contract: schemasense.Contract, frames: dict[str, pd.DataFrame]
) -> None:
    import pandera.errors

    schema = contract.to_pandera()
    schema.validate(frames["clean"], lazy=True)
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        schema.validate(frames["corrupt"], lazy=True)
    failing = caught.value.failure_cases.dropna(subset=["index"])
    assert set(failing["index"].astype(int)) == set(contract.validate(frames["corrupt"]).invalid.index)


def test_great_expectations_export_lists_the_rules(contract: schemasense.Contract) -> None:
    suite = contract.to_great_expectations()
    kinds = {type(e).__name__ for e in suite.expectations}
    assert {
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToMatchStrftimeFormat",
    } <= kinds
    assert suite.name == "orders.v1"


def test_a_datetime_column_without_a_format_reads_as_pandas_guesses() -> None:
    contract = schemasense.Contract.from_dict({"name": "t", "columns": {"d": {"type": "datetime"}}})
    result = contract.validate(pd.DataFrame({"d": ["2026-01-02", "not a date"]}))
    assert result.invalid["_reason"].tolist() == ["d: 'not a date' is not datetime"]
