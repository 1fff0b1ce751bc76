"""What the assets promise a Dagster user beyond their values: retries where they help only."""

import dagster as dg

from suite.build import build_definitions
from suite.storage import IO_RETRY


def test_reads_retry_but_an_unreadable_file_fails_at_once(settings, instance) -> None:
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    for asset in ("raw_batch", "contract", "reference_profile"):
        node = graph.get(dg.AssetKey(["orders", asset]))
        assert node.assets_def.op.retry_policy == IO_RETRY, asset

    landing = settings.datasets[0].landing
    (landing / "orders_broken.parquet").write_bytes(b"not parquet at all")
    instance.add_dynamic_partitions("orders_batches", ["orders_broken.parquet"])
    result = defs.resolve_job_def("orders_batch_job").execute_in_process(
        instance=instance, partition_key="orders_broken.parquet", raise_on_error=False
    )
    assert not result.success
    events = instance.all_logs(result.run_id)
    retries = [
        e for e in events if e.dagster_event and e.dagster_event.event_type_value == "STEP_UP_FOR_RETRY"
    ]
    assert retries == []
    (failure,) = [e for e in events if e.dagster_event and e.dagster_event.is_step_failure]
    assert "orders_broken.parquet: no rows, only a header (1 column)" in str(
        failure.dagster_event.step_failure_data.error
    )
