"""A batch file on a Dask cluster: its parts scanned on the workers, merged on the client.

The file splits into parts (:func:`.chunks.parts`: runs of Parquet row groups, CSV byte
ranges); each worker scans its parts chunk by chunk exactly as :func:`.batch.scan_file` does
and writes its rows into the same dataset folders (one file per chunk, named by its first row,
so no two workers write one file); the client merges the chunk verdicts with
:func:`.batch.finish`. Keys repeated across parts are found first: each part's key hashes are
gathered on the client in file order and every part is told which of its rows repeat an
earlier part. The verdicts are those of the single-process scan, row for row.

:func:`scan_batch` picks the engine: one process below ``threshold_rows``; above it the
cluster at ``scheduler``, else a ``LocalCluster`` of worker processes for this batch alone
(its caller needs an ``if __name__ == "__main__":`` guard: workers are spawned).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

import driftguard
import schemasense
from schemasense import Rule

from .batch import ScanResult, finish, first_profile, prepare, scan_file, scan_part
from .chunks import CHUNK_ROWS, file_format, iter_chunks, parts
from .csv_chunks import CSV_BLOCK
from .keys import KeyLedger, Keys, key_hashes
from .pieces import Part
from .places import Place, as_text, open_read, parquet_file, size
from .scan import ChunkScan

if TYPE_CHECKING:
    from distributed import Client  # imported where used: a process without a large batch never pays for it

THRESHOLD_ROWS = 5_000_000
"""Batches of more rows than this go to the cluster: below it, shipping parts costs more."""
PART_ROWS = 2_000_000


def scan_on_cluster(
    client: Client,
    path: Place,
    contract: schemasense.Contract,
    out: Place,
    like: driftguard.Profile | None = None,
    *,
    part_rows: int = PART_ROWS,
    chunk_rows: int = CHUNK_ROWS,
    hold_rules: Iterable[Rule] = (),
    sample_rows: int = 2000,
) -> ScanResult:
    """Scan ``path`` on ``client``'s workers (``path`` and ``out`` must be where they all reach:
    a shared folder, or an object store whose credentials and endpoint each worker's
    environment holds)."""
    template = like or first_profile(path, contract, chunk_rows)
    prepare(out)
    pieces = parts(path, part_rows, contract)
    earlier = earlier_repeats(client, pieces, contract, chunk_rows)
    futures = client.map(
        _scan_part_here,
        pieces,
        earlier,
        contract=contract,
        like=template,
        out=as_text(out),
        chunk_rows=chunk_rows,
        sample_rows=sample_rows,
        pure=False,
    )
    scans: list[ChunkScan] = [scan for scan in client.gather(futures) if scan is not None]
    return finish(as_text(path), scans, contract, out, hold_rules)


def earlier_repeats(
    client: Client, pieces: list[Part], contract: schemasense.Contract, chunk_rows: int
) -> list[dict[str, np.ndarray]]:
    """For each part, the rows (per unique column) whose key an earlier part holds. The parts'
    key hashes are computed on the workers and taken one part at a time, in file order, so the
    client holds the ledger's hashes and one part's keys, never every part's at once."""
    if not any(c.unique for c in contract.columns.values()):
        return [{} for _ in pieces]
    futures = client.map(part_keys, pieces, contract=contract, chunk_rows=chunk_rows, pure=False)
    ledger, earlier = KeyLedger(), []
    for future in futures:
        earlier.append(ledger.repeats(future.result()))
        future.release()
    return earlier


def part_keys(part: Part, contract: schemasense.Contract, chunk_rows: int) -> Keys:
    """Key hashes of every unique column over one part, by file row."""
    collected: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for chunk in iter_chunks(part.path, chunk_rows, contract, part):
        for name, pair in key_hashes(contract, chunk.frame).items():
            collected.setdefault(name, []).append(pair)
    return {
        n: (np.concatenate([r for r, _ in p]), np.concatenate([h for _, h in p]))
        for n, p in collected.items()
    }


def _scan_part_here(
    part: Part,
    earlier: dict[str, np.ndarray],
    *,
    contract: schemasense.Contract,
    like: driftguard.Profile,
    out: str,
    chunk_rows: int,
    sample_rows: int,
) -> ChunkScan | None:
    """One part on a worker; its verdict names the worker that made it."""
    from distributed import get_worker

    return scan_part(part, contract, like, out, chunk_rows, earlier, sample_rows, worker=get_worker().address)


def batch_rows(path: Place) -> int:
    """Rows of a Parquet file (from its footer); of a CSV, estimated from its first block. A
    local path, or a file on an object store (a URL or a UPath)."""
    if file_format(path) == "parquet":
        return int(parquet_file(path).metadata.num_rows)
    with open_read(path) as handle:
        head = handle.read(CSV_BLOCK)
    lines = max(head.count(b"\n"), 1)
    return int(size(path) * lines / max(len(head), 1))


def scan_batch(
    path: Place,
    contract: schemasense.Contract,
    out: Place,
    like: driftguard.Profile | None = None,
    *,
    scheduler: str | None = None,
    threshold_rows: int = THRESHOLD_ROWS,
    workers: int = 2,
    **options: Any,
) -> ScanResult:
    """Scan ``path`` in one process, or on a cluster when it holds more than ``threshold_rows``
    rows (``options``: ``chunk_rows``, ``hold_rules``, ``sample_rows``; ``part_rows`` on a
    cluster)."""
    if batch_rows(path) <= threshold_rows:
        options.pop("part_rows", None)
        return scan_file(path, contract, out, like, **options)
    return on_cluster(
        lambda client: scan_on_cluster(client, path, contract, out, like, **options), scheduler, workers
    )


Result = TypeVar("Result")


def on_cluster(work: Callable[[Client], Result], scheduler: str | None, workers: int) -> Result:
    """``work(client)`` on the cluster at ``scheduler``, else on a ``LocalCluster`` of
    ``workers`` single-threaded processes started for it and stopped after."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            return work(client)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port
        ) as cluster,
        Client(cluster) as client,
    ):
        return work(client)
