"""The ``<dataset>/approvals`` asset: requests for a person's approval and their answers.

The reflex records a request in the ledger for each risky action (refresh the drift reference,
retrain the model, roll a batch back, change the contract). The approvals sensor
(:mod:`suite.sensors.approvals`) records an observation of this asset with the table of
requests whenever one is made or decided; the jobs that answer and carry them out are in
:mod:`suite.jobs.approvals`.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

import datareflex
from suite.assets.metadata import approvals_table, redacted
from suite.config import DatasetConfig


def approvals_key(dataset: DatasetConfig) -> dg.AssetKey:
    return dg.AssetKey([dataset.name, "approvals"])


def build_approvals_spec(dataset: DatasetConfig) -> dg.AssetSpec:
    return dg.AssetSpec(
        approvals_key(dataset),
        group_name=dataset.name,
        kinds={"sqlite"},
        description=(
            "Requests for a person's approval (reference refresh, retraining, rollback) and their "
            f"answers. Grant or refuse one with `dataops approve ID` / `dataops reject ID`, or by "
            f"launching `{dataset.name}_approval_job` from the Launchpad. Also who released held "
            f"rows (`dataops release`, `{dataset.name}_release_job`) or closed the circuit breaker "
            f"(`dataops breaker close`, `{dataset.name}_breaker_job`)."
        ),
    )


def approvals_metadata(
    approvals: list[datareflex.Approval], people: Sequence[datareflex.Record] = ()
) -> dict[str, Any]:
    """The requests and their answers; with ``people``, also who released rows or closed the breaker."""
    metadata: dict[str, Any] = {
        "pending": sum(a.status == "requested" for a in approvals),
        "requests": approvals_table(approvals[-200:]),
    }
    if people:
        metadata["person_actions"] = person_table(people)
    return redacted(metadata)


def person_table(records: Sequence[datareflex.Record]) -> dg.MetadataValue:
    """Releases and breaker closures, newest first: what, on which batch, by whom."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, "string") for name in ("recorded_at", "action", "batch", "by", "what")]
    )
    rows = [
        dg.TableRecord(
            {
                "recorded_at": r.recorded_at[:19],
                "action": r.kind,
                "batch": r.batch or "-",
                "by": str(r.detail.get("by", "")),
                "what": str(r.detail.get("reason", "")),
            }
        )
        for r in sorted(records, key=lambda r: -r.id)
    ]
    return dg.MetadataValue.table(rows, schema=schema)
