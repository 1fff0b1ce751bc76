"""The Dask engine as a Dagster resource: ``dask: {scheduler: tcp://..., threshold_rows: ...}``.

A thin face over :func:`suite.scale.engine.scan_batch`: with no ``scheduler``, a batch above
``threshold_rows`` rows is scanned on a ``LocalCluster`` of ``workers`` worker processes
started for it; below the threshold, in the step's own process.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

import driftguard
import schemasense

from .batch import ScanResult
from .chunks import CHUNK_ROWS
from .engine import PART_ROWS, THRESHOLD_ROWS, scan_batch
from .places import Place


class DaskResource(dg.ConfigurableResource):  # type: ignore[misc]
    """Where large batches are scanned: a Dask scheduler's address, or none (a local cluster)."""

    scheduler: str | None = None
    threshold_rows: int = THRESHOLD_ROWS
    workers: int = 2
    chunk_rows: int = CHUNK_ROWS
    part_rows: int = PART_ROWS

    def scan(
        self,
        path: Place,
        contract: schemasense.Contract,
        out: Place,
        like: driftguard.Profile | None = None,
        hold_rules: Iterable[schemasense.Rule] = (),
    ) -> ScanResult:
        """Profile, validate and split the batch file ``path`` into ``out`` (published,
        quarantine, held)."""
        return scan_batch(
            path,
            contract,
            out,
            like,
            scheduler=self.scheduler,
            threshold_rows=self.threshold_rows,
            workers=self.workers,
            chunk_rows=self.chunk_rows,
            part_rows=self.part_rows,
            hold_rules=tuple(hold_rules),
        )
