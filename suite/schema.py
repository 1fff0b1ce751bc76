"""Assets of the contract side: the raw batch, the versioned contract, and validation."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

import schemasense

from .files import read_batch
from .metadata import changes_table, contract_schema, frame_schema, violations_table
from .settings import DatasetConfig
from .storage import SuiteStorage
from .training import training_frames

SCHEMA_CHECK = "schema_matches_contract"
ROWS_CHECK = "rows_satisfy_contract"


def build_schema_assets(dataset: DatasetConfig, partitions: dg.PartitionsDefinition) -> list[Any]:
    prefix = [dataset.name]
    group = dataset.name

    @dg.asset(
        key_prefix=prefix,
        partitions_def=partitions,
        group_name=group,
        kinds={"pandas", "parquet"},
        description="One landed file, read as it arrived.",
    )
    def raw_batch(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
        path = dataset.landing / context.partition_key
        df = read_batch(path)
        return dg.Output(
            df,
            metadata={
                "dagster/row_count": len(df),
                "dagster/column_schema": frame_schema(df),
                "path": dg.MetadataValue.path(str(path)),
            },
        )

    @dg.asset(
        key_prefix=prefix,
        deps=[raw_batch],
        group_name=group,
        kinds={"yaml"},
        description="The data contract, learned from the training window and versioned.",
    )
    def contract(context: dg.AssetExecutionContext, storage: SuiteStorage) -> dg.MaterializeResult:
        registry = storage.files.contracts()
        current = registry.latest(dataset.name)
        trained_on: list[str] = []
        if current is None:
            trained_on, frames = training_frames(context.instance, dataset, storage.files)
            current = registry.save(schemasense.infer(frames, name=dataset.name))
        return dg.MaterializeResult(metadata=contract_metadata(current, trained_on))

    schema_spec = dg.AssetCheckSpec(
        SCHEMA_CHECK,
        asset=dg.AssetKey([*prefix, "validation"]),
        blocking=True,
        description="Columns and types are those of the contract.",
    )
    rows_spec = dg.AssetCheckSpec(
        ROWS_CHECK,
        asset=dg.AssetKey([*prefix, "validation"]),
        blocking=True,
        description="Every row satisfies every rule of the contract.",
    )

    @dg.asset(
        key_prefix=prefix,
        partitions_def=partitions,
        group_name=group,
        deps=[contract],
        check_specs=[schema_spec, rows_spec],
        kinds={"pandas"},
        ins={"raw_batch": dg.AssetIn(key=raw_batch.key)},
        description="The rows of the batch that break the contract, each with its reasons.",
    )
    def validation(
        context: dg.AssetExecutionContext, storage: SuiteStorage, raw_batch: pd.DataFrame
    ) -> Iterator[Any]:
        current = storage.files.contracts().latest(dataset.name)
        if current is None:
            note = {
                "batch": context.partition_key,
                "note": "training batch: it defines the contract, nothing to check it against yet",
            }
            yield dg.Output(
                raw_batch.iloc[0:0].assign(_reason=pd.Series(dtype=object)),
                metadata={**note, "dagster/row_count": 0},
            )
            yield dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=True, metadata=note)
            yield dg.AssetCheckResult(check_name=ROWS_CHECK, passed=True, metadata=note)
            return
        result = current.validate(raw_batch)
        version = {"batch": context.partition_key, "contract_version": current.version}
        yield dg.Output(
            result.invalid,
            metadata={
                **version,
                "dagster/row_count": len(result.invalid),
                "rows_valid": len(result.valid),
                "violations": violations_table(result.violations),
            },
        )
        schema_metadata: dict[str, Any] = {**version, "findings": violations_table(result.batch_violations)}
        if result.batch_violations:
            evolution = schemasense.evolve(current, raw_batch)
            schema_metadata["diff"] = changes_table(evolution.diff)
            schema_metadata["breaking_changes"] = len(evolution.pending)
        yield dg.AssetCheckResult(
            check_name=SCHEMA_CHECK, passed=not result.batch_violations, metadata=schema_metadata
        )
        yield dg.AssetCheckResult(
            check_name=ROWS_CHECK,
            passed=not result.row_violations,
            metadata={
                **version,
                "failing_rules": violations_table(result.row_violations),
                "rows_invalid": len(result.invalid),
                "rows_valid": len(result.valid),
            },
        )

    return [raw_batch, contract, validation]


def contract_metadata(
    contract: schemasense.Contract,
    trained_on: list[str] | None = None,
    previous: schemasense.Contract | None = None,
) -> dict[str, Any]:
    """What a person sees on the contract asset: version, columns with constraints, the YAML,
    and the changes from the previous version."""
    metadata: dict[str, Any] = {
        "version": contract.version,
        "dagster/column_schema": contract_schema(contract),
        "contract": dg.MetadataValue.md(f"```yaml\n{contract.to_yaml()}```"),
    }
    if trained_on:
        metadata["trained_on"] = ", ".join(trained_on)
    if previous is not None:
        changes = schemasense.diff(previous, contract)
        metadata["changes_from_previous_version"] = changes_table(changes)
        metadata["breaking"] = changes.breaking
    return metadata
