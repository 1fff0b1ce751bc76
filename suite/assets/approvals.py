"""The ``<dataset>/approvals`` asset: requests for a person's approval and their answers.

The reflex records a request in the ledger for each risky action (refresh the drift reference,
retrain the model, roll a batch back, change the contract). The approvals sensor
(:mod:`suite.sensors.approvals`) records an observation of this asset with the table of
requests whenever one is made or decided; the jobs that answer and carry them out are in
:mod:`suite.jobs.approvals`.
"""

from typing import Any

import dagster as dg

import datareflex
from suite.assets.metadata import approvals_table
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
            f"launching `{dataset.name}_approval_job` from the Launchpad."
        ),
    )


def approvals_metadata(approvals: list[datareflex.Approval]) -> dict[str, Any]:
    return {
        "pending": sum(a.status == "requested" for a in approvals),
        "requests": approvals_table(approvals[-200:]),
    }
