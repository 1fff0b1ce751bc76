"""Scale: profile + validate (+ writing the published and quarantined rows) of one batch file of
1M, 10M and 100M rows, in one process and on a two-worker Dask cluster.

Rows are orders like the demo's (``suite/cli/sample_data.py``: countries, channels, lognormal
amounts, Poisson quantities, discounts, timestamps, e-mails, statuses) with about 0.05% faulty
rows (a negative amount, an unknown status, a missing quantity), written once per size as
Parquet in 1M-row row groups under ``--cache`` (default ``~/.cache/dataops-scale``). The
contract is learned from 200,000 clean rows with no declared key (a key column costs 8 bytes a
row of state: see ``suite/scale/keys.py``); the drift reference is their profile.

Each measurement runs in a fresh process, so its peak RSS (``VmHWM``) is that run's alone; on
the cluster the peak of each worker process is asked of the worker itself. Prints seconds
and peak MB per size and engine, the cost per million rows, and the two acceptance ratios:
peak memory from 10M to 100M rows (flat: at most 1.2) and time per row from 1M to the largest
size (at most 1.3 over linear).

    python bench/scale.py [--sizes 1e6,1e7,1e8] [--engines single,cluster] [--format csv] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the cluster helper lives in tests/support

import driftguard  # noqa: E402
import schemasense  # noqa: E402
from suite.cli.sample_data import (  # noqa: E402
    CHANNELS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DISCOUNT_WEIGHTS,
    DISCOUNTS,
    DOMAINS,
    STATUS_WEIGHTS,
    STATUSES,
)

BLOCK = 1_000_000
FAULT_SHARE = 0.0005


def orders(rng: np.random.Generator, first_id: int, rows: int, *, faults: bool = True) -> pd.DataFrame:
    """``rows`` orders with ids from ``first_id``, over a few days; a few faulty rows."""
    customer = rng.integers(1, 20_000, rows)
    emails = np.array([f"customer{c}@{DOMAINS[c % len(DOMAINS)]}" for c in range(20_000)], dtype=object)
    start = np.datetime64("2026-11-01T00:00:00") + np.timedelta64(first_id // 400, "s")
    frame = pd.DataFrame(
        {
            "order_id": np.arange(first_id, first_id + rows, dtype="int64"),
            "customer_id": customer.astype("int64"),
            "country": np.array(COUNTRIES, dtype=object)[rng.choice(len(COUNTRIES), rows, p=COUNTRY_WEIGHTS)],
            "channel": np.array(CHANNELS, dtype=object)[rng.choice(3, rows, p=(0.55, 0.35, 0.10))],
            "amount": np.round(rng.lognormal(3.6, 0.55, rows), 2),
            "quantity": (1 + rng.poisson(1.2, rows)).astype("float64"),
            "discount": np.array(DISCOUNTS)[rng.choice(len(DISCOUNTS), rows, p=DISCOUNT_WEIGHTS)],
            "created_at": start + np.sort(rng.integers(0, rows // 400 + 1, rows)).astype("timedelta64[s]"),
            "email": emails[customer],
            "status": np.array(STATUSES, dtype=object)[rng.choice(len(STATUSES), rows, p=STATUS_WEIGHTS)],
        }
    )
    if faults:
        bad = rng.choice(rows, int(rows * FAULT_SHARE), replace=False)
        third = len(bad) // 3
        frame.loc[bad[:third], "amount"] = -frame.loc[bad[:third], "amount"]
        frame.loc[bad[third : 2 * third], "status"] = "unknown"
        frame.loc[bad[2 * third :], "quantity"] = np.nan
    return frame


def batch_file(cache: Path, rows: int) -> Path:
    """The cached batch of ``rows`` rows, written block by block the first time."""
    path = cache / f"orders-{rows}.parquet"
    if path.exists():
        return path
    rng, writer, started = np.random.default_rng(rows), None, time.perf_counter()
    temporary = path.with_suffix(".tmp")
    for first in range(0, rows, BLOCK):
        table = pa.Table.from_pandas(orders(rng, first, min(BLOCK, rows - first)), preserve_index=False)
        writer = writer or pq.ParquetWriter(temporary, table.schema)
        writer.write_table(table, row_group_size=BLOCK)
    assert writer is not None
    writer.close()
    temporary.rename(path)
    print(f"generated {path} ({rows:,} rows) in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def csv_file(cache: Path, rows: int) -> Path:
    """The cached batch of ``rows`` rows as CSV (pyarrow's writer: text quoted), from its Parquet."""
    path = cache / f"orders-{rows}.csv"
    if not path.exists():
        source = pq.ParquetFile(batch_file(cache, rows))
        temporary = path.with_suffix(".tmp")
        with pacsv.CSVWriter(temporary, source.schema_arrow) as writer:
            for batch in source.iter_batches(BLOCK):
                writer.write_batch(batch)
        temporary.rename(path)
    return path


def contract_and_reference(cache: Path) -> tuple[Path, Path]:
    """The contract (no key) and reference profile learned from 200,000 clean rows, cached."""
    contract_path, reference_path = cache / "contract.yaml", cache / "reference.bin"
    if not contract_path.exists():
        training = orders(np.random.default_rng(0), 0, 200_000, faults=False)
        contract_path.write_text(schemasense.infer(training, name="orders", keys=[]).to_yaml())
        reference_path.write_bytes(driftguard.profile(training).to_bytes())
    return contract_path, reference_path


def measure(path: Path, engine: str, cache: Path) -> dict[str, Any]:
    """One scan in a fresh process: seconds, peak MB (and the workers' peaks on the cluster)."""
    command = [sys.executable, __file__, "--run", str(path), "--engine", engine, "--cache", str(cache)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{engine} on {path}: {done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def peak_mb() -> float:
    """This process's own peak resident memory (``VmHWM``). Not ``getrusage``: after a fork and
    exec, Linux reports the parent's peak as the child's ``ru_maxrss`` when it was larger."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(path: Path, engine: str, cache: Path) -> dict[str, Any]:
    """The child: scan ``path`` once with ``engine`` and report as JSON."""
    from suite.scale import scan_file, scan_on_cluster

    contract_path, reference_path = contract_and_reference(cache)
    contract = schemasense.Contract.from_yaml(contract_path.read_text())
    reference = driftguard.Profile.from_bytes(reference_path.read_bytes())
    out = Path(tempfile.mkdtemp(prefix="scale-out-", dir=cache))
    workers: list[float] = []
    if engine == "single":
        started = time.perf_counter()
        result = scan_file(path, contract, out, reference)
        seconds = time.perf_counter() - started
    else:
        from distributed import Client

        from tests.support.dask_cluster import DaskCluster

        with DaskCluster(workers=2) as cluster, Client(cluster.address) as client:
            started = time.perf_counter()
            result = scan_on_cluster(client, path, contract, out, reference)
            seconds = time.perf_counter() - started
            peaks = client.run(peak_mb)
            workers = sorted(float(v) for v in peaks.values())
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return {
        "rows": result.rows,
        "published": result.published,
        "quarantined": result.quarantined,
        "held": result.held,
        "chunks": result.chunks,
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "worker_peak_mb": workers,
    }


def report(results: dict[str, dict[int, dict[str, Any]]]) -> None:
    print(f"\n{'engine':8} {'rows':>12} {'seconds':>8} {'s / 1M rows':>11} {'peak MB':>8} {'workers MB':>14}")
    for engine, by_size in results.items():
        for rows, r in sorted(by_size.items()):
            workers = "/".join(f"{w:.0f}" for w in r["worker_peak_mb"]) or "-"
            print(f"{engine:8} {rows:>12,} {r['seconds']:>8.1f} {r['seconds'] / (rows / 1e6):>11.2f} "
                  f"{r['peak_mb']:>8.0f} {workers:>14}")  # fmt: skip
            assert r["rows"] == r["published"] + r["quarantined"] + r["held"] == rows
        sizes = sorted(by_size)
        if len(sizes) > 1:
            first, last = by_size[sizes[0]], by_size[sizes[-1]]
            linear = (last["seconds"] / sizes[-1]) / (first["seconds"] / sizes[0])
            span = f"{sizes[-1]:,} vs {sizes[0]:,} rows"
            print(f"{engine}: time per row {span}: {linear:.2f}x (acceptance <= 1.3)")
        if 10_000_000 in by_size and len([s for s in sizes if s > 10_000_000]):
            peak = max(sizes)
            ratio = largest_peak(by_size[peak]) / largest_peak(by_size[10_000_000])
            print(f"{engine}: peak memory {peak:,} vs 10,000,000 rows: {ratio:.2f}x (acceptance <= 1.2)")


def largest_peak(result: dict[str, Any]) -> float:
    """The largest peak of a measurement: its own process's or a worker's."""
    return max([result["peak_mb"], *result["worker_peak_mb"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--engines", default="single,cluster")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dataops-scale")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.run:
        print(json.dumps(run_one(args.run, args.engine, args.cache)))
        return
    contract_and_reference(args.cache)
    results: dict[str, dict[int, dict[str, Any]]] = {e: {} for e in args.engines.split(",")}
    for rows in [int(float(s)) for s in args.sizes.split(",")]:
        path = batch_file(args.cache, rows) if args.format == "parquet" else csv_file(args.cache, rows)
        for engine in results:
            results[engine][rows] = measure(path, engine, args.cache)
            r = results[engine][rows]
            print(f"{engine} {rows:,}: {r['seconds']:.1f} s, peak {largest_peak(r):.0f} MB", flush=True)
    report(results)


if __name__ == "__main__":
    main()
