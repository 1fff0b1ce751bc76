"""pandera and Great Expectations exports reach the same verdicts as ``Contract.validate``."""

import pandas as pd
import pytest

import schemasense

BETWEEN = {"minimum", "maximum"}
GX_RULES = {
    "not_null": "expect_column_values_to_not_be_null",
    "allowed": "expect_column_values_to_be_in_set",
    "minimum": "expect_column_values_to_be_between",
    "maximum": "expect_column_values_to_be_between",
    "pattern": "expect_column_values_to_match_regex",
    "unique": "expect_column_values_to_be_unique",
}


@pytest.fixture(scope="module")
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


@pytest.fixture(scope="module")
def batches(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    faulty = frames["clean"].head(400).copy()
    faulty.loc[[1, 2], "email"] = "not-an-email"
    faulty.loc[[5], "discount"] = 3.0
    return {
        "clean": frames["clean"],
        "drift": frames["drift"],
        "corrupt": frames["corrupt"],
        "faulty": faulty,
    }


@pytest.mark.parametrize("name", ["clean", "drift", "corrupt", "faulty", "schema_change"])
def test_pandera_rejects_the_same_rows(contract, batches, frames, name) -> None:
    import pandera.errors

    batch = batches.get(name, frames.get(name))
    ours = set(contract.validate(batch).invalid.index)
    try:
        contract.to_pandera().validate(batch, lazy=True)
        theirs: set[int] = set()
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        theirs = set(cases["index"].astype(int))
    assert theirs == ours


@pytest.mark.parametrize("name", ["clean", "drift", "corrupt", "faulty"])
def test_great_expectations_reaches_the_same_verdicts(contract, batches, name) -> None:
    import great_expectations as gx

    batch = batches[name]
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("orders").add_dataframe_asset("batches")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    report = definition.get_batch(batch_parameters={"dataframe": batch}).validate(
        contract.to_great_expectations(), result_format="COMPLETE"
    )
    theirs = {}
    for result in report.results:
        if not result.success:
            key = (result.expectation_config.kwargs["column"], result.expectation_config.type)
            theirs[key] = set(result.result["unexpected_index_list"])
    ours: dict[tuple[str, str], set[int]] = {}
    validation = contract.validate(batch)
    for violation in validation.violations:
        rule = violation.rule.value
        gx_type = GX_RULES.get(rule, "expect_column_values_to_match_strftime_format")
        rows = set(batch.index[validation.failing(violation.column, violation.rule)])
        ours.setdefault((violation.column, gx_type), set()).update(rows)
    assert theirs.keys() == ours.keys()
    for key, rows in ours.items():
        if key[1] == GX_RULES["unique"]:
            # GX marks every copy of a repeated key; we keep the first and mark the repeats.
            assert rows < theirs[key] and len(theirs[key]) == 2 * len(rows)
        else:
            assert theirs[key] == rows, key


def test_yaml_round_trip_is_exact(contract) -> None:
    assert schemasense.Contract.from_yaml(contract.to_yaml()) == contract
