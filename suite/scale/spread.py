"""Profiling and remediation of a large batch on a Dask cluster: each worker on its parts.

:func:`profile_batch` counts each part on the reference's bins on a worker and merges the
counts on the client (exact, as in one process).

The decision is made once, on the client, by :func:`datareflex.handle_in_parts`; its
:class:`datareflex.PartPlan` (no ledger in it) goes to the workers, and each acts on and
verifies its part chunk by chunk, writing its rows into the same Parquet folders (files named
by their first row: no two workers write one file). Keys repeated across parts are found first,
as a scan finds them (:func:`.engine.earlier_repeats`), so a worker removes a
row whose key an earlier part holds exactly where one process would. The workers' tallies merge
in file order on the client, which judges the totals. :func:`remediate_batch` picks the engine
as :func:`.engine.scan_batch` does.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

import datareflex
import driftguard
import schemasense

from .batch import ScanResult, profile_file
from .chunks import CHUNK_ROWS, iter_chunks, parts
from .engine import PART_ROWS, THRESHOLD_ROWS, batch_rows, earlier_repeats, on_cluster
from .pieces import Part
from .places import Place, locate
from .remedy import ParquetSink, remediate_file, repeats_after

if TYPE_CHECKING:
    from distributed import Client


def remediate_batch(
    path: Place,
    scan: ScanResult,
    out: Place,
    *,
    contract: schemasense.Contract,
    scheduler: str | None = None,
    threshold_rows: int = THRESHOLD_ROWS,
    workers: int = 2,
    chunk_rows: int = CHUNK_ROWS,
    part_rows: int = PART_ROWS,
    **loop: Any,
) -> tuple[datareflex.PartsOutcome, tuple[str, ...]]:
    """Remediate ``path`` in this process, or on a cluster above ``threshold_rows`` rows (the
    one at ``scheduler``, else a ``LocalCluster`` of ``workers`` processes for this batch); the
    outcome, and the addresses of the workers that ran its tasks (none in this process)."""
    if scan.rows <= threshold_rows:
        return remediate_file(path, scan, out, contract=contract, chunk_rows=chunk_rows, **loop), ()
    from distributed import get_task_stream

    def on(client: Client) -> tuple[datareflex.PartsOutcome, tuple[str, ...]]:
        spread = functools.partial(
            act_on_cluster, client, path, out, chunk_rows=chunk_rows, part_rows=part_rows
        )
        with get_task_stream(client) as tasks:  # the task log: which worker ran what
            outcome = remediate_file(
                path, scan, out, contract=contract, chunk_rows=chunk_rows, spread=spread, **loop
            )
        return outcome, tuple(sorted({task["worker"] for task in tasks.data}))

    return on_cluster(on, scheduler, workers)


def profile_batch(
    path: Place,
    like: driftguard.Profile,
    *,
    contract: schemasense.Contract,
    scheduler: str | None = None,
    threshold_rows: int = THRESHOLD_ROWS,
    workers: int = 2,
    chunk_rows: int = CHUNK_ROWS,
    part_rows: int = PART_ROWS,
) -> driftguard.Profile:
    """The profile of ``path`` on ``like``'s bins: in this process, or on a cluster above
    ``threshold_rows`` rows (as :func:`remediate_batch` chooses)."""
    if batch_rows(path) <= threshold_rows:
        return profile_file(path, like, chunk_rows, contract)

    def on(client: Client) -> driftguard.Profile:
        pieces = parts(path, part_rows, contract)
        counted = client.gather(
            client.map(_profile_here, pieces, like=like, chunk_rows=chunk_rows, contract=contract, pure=False)
        )
        return functools.reduce(lambda a, b: a.merge(b) if a.rows else b, counted, driftguard.Profile(0))

    return on_cluster(on, scheduler, workers)


def _profile_here(
    part: Part, *, like: driftguard.Profile, chunk_rows: int, contract: schemasense.Contract
) -> driftguard.Profile:
    return profile_file(part.path, like, chunk_rows, contract, part)


def act_on_cluster(
    client: Client,
    path: Place,
    out: Place,
    plan: datareflex.PartPlan,
    *,
    chunk_rows: int = CHUNK_ROWS,
    part_rows: int = PART_ROWS,
) -> datareflex.PartsTally:
    """``plan`` carried out on ``client``'s workers, part by part; the merged tally."""
    pieces = parts(path, part_rows, plan.contract)
    earlier = earlier_repeats(client, pieces, plan.contract, chunk_rows)
    tallies = client.gather(
        client.map(_act_here, pieces, earlier, plan=plan, out=str(out), chunk_rows=chunk_rows, pure=False)
    )
    return functools.reduce(datareflex.PartsTally.merge, tallies, datareflex.PartsTally(plan.contract))


def _act_here(
    part: Part, earlier: dict[str, np.ndarray], *, plan: datareflex.PartPlan, out: str, chunk_rows: int
) -> datareflex.PartsTally:
    """One part on a worker: its chunks acted on and judged, its rows written."""
    frames = (chunk.frame for chunk in iter_chunks(part.path, chunk_rows, plan.contract, part))
    return plan.act(frames, _Writer(out), repeats_after(plan.contract, earlier))


class _Writer(ParquetSink):
    """A worker's sink: it writes beside the other workers, and never empties the folders."""

    def __init__(self, out: Place) -> None:
        self.out = locate(out)
