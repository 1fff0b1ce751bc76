"""The Dask engine as a Dagster resource: ``dask: {scheduler: tcp://..., threshold_rows: ...}``.

A thin face over :func:`suite.scale.engine.scan_batch` and :mod:`suite.scale.spread`'s
``profile_batch`` and ``remediate_batch``: with no ``scheduler``, a batch above
``threshold_rows`` rows is worked on by a ``LocalCluster`` of ``workers`` worker processes
started for it; below the threshold, in the step's own process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg

import datareflex
import driftguard
import schemasense

from .batch import ScanResult
from .chunks import CHUNK_ROWS
from .engine import PART_ROWS, THRESHOLD_ROWS, scan_batch
from .places import Place
from .spread import profile_batch, remediate_batch


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
        return scan_batch(path, contract, out, like, hold_rules=tuple(hold_rules), **self.options)

    def profile(
        self, path: Place, like: driftguard.Profile, contract: schemasense.Contract
    ) -> driftguard.Profile:
        """The profile of the batch file ``path`` on ``like``'s bins, part by part."""
        return profile_batch(path, like, contract=contract, **self.options)

    def remediate(
        self, path: Place, scan: ScanResult, out: Place, contract: schemasense.Contract, **loop: Any
    ) -> tuple[datareflex.PartsOutcome, tuple[str, ...]]:
        """Decide once, act and verify part by part (:func:`.spread.remediate_batch`)."""
        return remediate_batch(path, scan, out, contract=contract, **self.options, **loop)

    @property
    def options(self) -> dict[str, Any]:
        """The settings, as the engine's functions take them."""
        names = ("scheduler", "threshold_rows", "workers", "chunk_rows", "part_rows")
        return {name: getattr(self, name) for name in names}
