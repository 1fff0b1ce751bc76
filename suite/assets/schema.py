"""Assets of the contract side: the raw batch, the versioned contract, and validation."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

import schemasense
from suite.assets.metadata import changes_table, contract_schema, violations_table
from suite.config import DatasetConfig
from suite.storage import IO_RETRY, SuiteStorage
from suite.storage.files import BatchFileError, read_batch
from suite.storage.partitions import training_frames

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
        retry_policy=IO_RETRY,
        description=f"One landed file of {dataset.landing}, read as it arrived.",
    )
    def raw_batch(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
        path = dataset.landing / context.partition_key
        try:
            df = read_batch(path)
        except BatchFileError as exc:
            if isinstance(exc.__cause__, OSError):
                raise  # the file system: worth another try
            raise dg.Failure(str(exc), allow_retries=False) from exc  # the content: retrying cannot help
        return dg.Output(df, metadata={"path": dg.MetadataValue.path(str(path))})

    @dg.asset(
        key_prefix=prefix,
        deps=[raw_batch],
        group_name=group,
        kinds={"yaml"},
        retry_policy=IO_RETRY,
        description="The data contract, learned from the training window and versioned.",
    )
    def contract(context: dg.AssetExecutionContext, storage: SuiteStorage) -> dg.MaterializeResult:
        registry = storage.files.contracts()
        current = registry.latest(dataset.name)
        trained_on: list[str] = []
        if current is None:
            trained_on, frames = training_frames(context.instance, dataset, storage.files)
            current = registry.save(learn_contract(dataset, frames))
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


def learn_contract(dataset: DatasetConfig, frames: list[pd.DataFrame]) -> schemasense.Contract:
    """The first contract of ``dataset``: inference with the declared options, the declared keys
    its only unique columns (``keys`` and ``contract`` in suite.yaml)."""
    try:
        return schemasense.infer(
            frames, name=dataset.name, keys=list(dataset.keys) or None, **dict(dataset.contract)
        )
    except schemasense.SchemaSenseError as exc:
        raise dg.Failure(f"dataset {dataset.name!r}: {exc}", allow_retries=False) from exc


def contract_metadata(
    contract: schemasense.Contract,
    trained_on: list[str] | None = None,
    previous: schemasense.Contract | None = None,
) -> dict[str, Any]:
    """What a person sees on the contract asset: version, columns with constraints, the YAML,
    and the changes from the previous version."""
    metadata: dict[str, Any] = {
        "version": contract.version,
        "keys": ", ".join(n for n, c in contract.columns.items() if c.unique) or "none",
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
