"""A burst: ``--files`` small files landed at once under the real daemon, worked off how fast.

Starts ``dagster-webserver`` and ``dagster-daemon run`` (``tests/support/servers.py``) on a
temporary instance (``--storage``: SQLite as ``dataops demo`` writes it, Dagster's own SQLite
classes, or a throwaway PostgreSQL), lands the three training days, waits for the contract, then moves
``--files`` clean daily CSV files (about 1,200 rows each) into the landing folder at once. It
samples memory and CPU time of every process the servers started, each second, and prints files
per minute, each sensor's longest tick and largest gap between ticks (the instance's tick
records), peak memory, CPU seconds per file, and the exactly-once check: one ``published_batch``
materialization, one ledger decision and one batch run per file.

    python bench/load.py [--files 1000] [--batches-per-run 10] [--max-concurrent-runs 4] [--carriers 2]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the servers live in tests/support

import dagster as dg  # noqa: E402
from dagster._core.definitions.run_request import InstigatorType  # noqa: E402

from suite.cli.sample_data import orders_for_day  # noqa: E402
from suite.storage import BatchStorage  # noqa: E402
from suite.tags import CARRIER_TAG  # noqa: E402
from tests.support.servers import REPO, DagsterServers, Postgres, wait_for, write_instance_yaml  # noqa: E402

TRAINING_DAYS = 3
PUBLISHED = dg.AssetKey(["orders", "published_batch"])
ACTIVE = [dg.DagsterRunStatus(s) for s in ("NOT_STARTED", "QUEUED", "STARTING", "STARTED")]
STORAGES = ("suite", "dagster-sqlite", "postgres")
"""The instance's storage: SQLite as ``dataops demo`` writes it (suite.storage.sqlite_instance),
Dagster's own SQLite classes (an engine per connection, one event file per run), or PostgreSQL."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files landed at once (default 1000)")
    parser.add_argument("--batches-per-run", type=int, default=10, help="intake.batches_per_run (10)")
    parser.add_argument("--max-concurrent-runs", type=int, default=4, help="run_queue limit (4)")
    parser.add_argument("--carriers", type=int, default=2, help="carrier runs at once (2)")
    parser.add_argument("--interval", type=int, default=5, help="sensor_interval_seconds (5)")
    parser.add_argument("--timeout", type=float, default=1500, help="give up after so many seconds")
    parser.add_argument("--storage", choices=STORAGES, default="suite", help="instance storage (suite)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dataops-load-"))
    names = write_files(home / "staging", TRAINING_DAYS + args.files)
    postgres = Postgres.start() if args.storage == "postgres" else None
    servers = start(home, args, postgres)
    memory = MemorySampler(servers)
    try:
        land(home, names[:TRAINING_DAYS])
        instance = dg.DagsterInstance.from_config(str(home / "dagster_home"))
        wait_for("the training job", lambda: trained(instance), 300, 2)
        burst = names[TRAINING_DAYS:]
        memory.start()
        landed_at = time.time()
        land(home, burst)
        print(f"training done; {len(burst)} files landed at once at {time.strftime('%H:%M:%S')}")
        finished = wait_until_done(instance, burst, args.timeout)
        memory.stop()
        report(instance, home, burst, landed_at, finished, memory, args)
    finally:
        memory.stop()
        servers.stop()
        if postgres is not None:
            postgres.stop()
        print(f"instance kept under {home}")


def write_files(folder: Path, count: int) -> list[str]:
    """``count`` clean days of orders as CSV files, named in day order."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(13)
    names, next_id = [], 1
    for day in range(count):
        frame = orders_for_day(day, rng, next_id)
        next_id += len(frame)
        name = f"orders_day{day:04d}.csv"
        frame.to_csv(folder / name, index=False)
        names.append(name)
    return names


def start(home: Path, args: argparse.Namespace, postgres: Postgres | None) -> DagsterServers:
    config = home / "suite.yaml"
    config.write_text(
        "datasets:\n  orders:\n    landing: landing\n    keys: [order_id]\n"
        f"    policy: {REPO / 'suite' / 'config' / 'orders_policy.yaml'}\n"
        f"    sensor_interval_seconds: {args.interval}\n"
        f"    intake:\n      batches_per_run: {args.batches_per_run}\n"
    )
    env = {
        "DATAOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "DATAOPS_CONFIG": str(config),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        **(postgres.env if postgres else {}),
    }
    os.environ.update(env)  # the bench reads the same instance and ledger
    path = write_instance_yaml(home / "dagster_home", postgres is not None, args.max_concurrent_runs)
    limit = f"  tag_concurrency_limits:\n    - {{key: {CARRIER_TAG}, limit: {args.carriers}}}\n"
    path.write_text(path.read_text().replace("run_queue:\n", "run_queue:\n" + limit))
    if args.storage == "dagster-sqlite":
        config = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump({k: v for k, v in config.items() if not k.endswith("_storage")}))
    started = time.monotonic()
    servers = DagsterServers(env, home / "logs").start()
    up = time.monotonic() - started
    print(f"webserver and daemon up in {up:.1f} s ({args.storage}, {os.cpu_count()} cores)")
    return servers


def land(home: Path, names: list[str]) -> None:
    (home / "landing").mkdir(exist_ok=True)
    for name in names:
        os.replace(home / "staging" / name, home / "landing" / name)


def trained(instance: dg.DagsterInstance) -> bool:
    done = dg.RunsFilter(job_name="orders_training_job", statuses=[dg.DagsterRunStatus.SUCCESS])
    return bool(instance.get_run_ids(done, limit=1))


def wait_until_done(instance: dg.DagsterInstance, keys: list[str], timeout: float) -> bool:
    """Every file published and no run left queued or running; False on the timeout."""
    deadline, wanted, shown = time.monotonic() + timeout, set(keys), 0.0
    while time.monotonic() < deadline:
        published = len(instance.get_materialized_partitions(PUBLISHED) & wanted)
        if time.monotonic() - shown >= 30 or published == len(wanted):
            print(f"  {time.strftime('%H:%M:%S')} published {published} of {len(wanted)}", flush=True)
            shown = time.monotonic()
        if published == len(wanted) and not instance.get_run_ids(dg.RunsFilter(statuses=ACTIVE), limit=1):
            return True
        time.sleep(5)
    return False


class MemorySampler:
    """Peak summed RSS of every process in the servers' process groups, sampled each second."""

    def __init__(self, servers: DagsterServers) -> None:
        self.groups = set(servers._groups)  # noqa: SLF001 - the bench reads the groups it started
        self.peak_bytes, self.peak_processes = 0, 0
        self.peak_by_role: dict[str, int] = {}
        self._cpu: dict[int, tuple[float, float]] = {}  # pid → (CPU seconds first seen, last seen)
        self._roles: dict[int, str] = {}  # pid → role
        self._cpu_started = False  # processes already running at the first sample count from then
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        """CPU time the servers' processes used since sampling started (a process's last second lost)."""
        return sum(last - first for first, last in self._cpu.values())

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds since sampling started, by role (daemon, run workers, code servers…)."""
        out: dict[str, float] = collections.Counter()
        for pid, (first, last) in self._cpu.items():
            out[self._roles[pid]] += last - first
        return dict(out)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            by_role: dict[str, int] = collections.Counter()
            count = 0
            for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
                sample = _process(pid)
                if sample is not None and sample[0] in self.groups:
                    by_role[sample[1]] += sample[2]
                    count += 1
                    first = self._cpu.get(pid, (sample[3] if not self._cpu_started else 0.0, 0.0))[0]
                    self._cpu[pid] = (first, sample[3])
                    self._roles[pid] = sample[1]
            self._cpu_started = True
            total = sum(by_role.values())
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_by_role = total, dict(by_role)
            self.peak_processes = max(self.peak_processes, count)


def _process(pid: int) -> tuple[int, str, int, float] | None:
    """(process group, role, resident bytes, CPU seconds) of ``pid``, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        rss = next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")
        )
    except (OSError, StopIteration):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    group, cpu = int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    roles = (("spawn_main", "run workers"), ("execute_run", "run workers"), ("grpc", "code servers"))
    roles += (("webserver", "webserver"), ("watch_orphans", "log capture"), ("tail -F", "log capture"))
    role = next((name for marker, name in roles if marker in command), "daemon")
    return group, role, int(rss.split()[1]) * 1024, cpu


def sensor_ticks(instance: dg.DagsterInstance, since: float) -> dict[str, list[Any]]:
    """Each sensor's ticks that started after ``since``, oldest first."""
    out = {}
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=100_000)
        out[state.instigator_name] = sorted(
            (t for t in ticks if t.timestamp >= since), key=lambda t: t.timestamp
        )
    return out


def publications(instance: dg.DagsterInstance) -> list[Any]:
    records: list[Any] = []
    page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=PUBLISHED), limit=1000)
    while True:
        records += page.records
        if not page.has_more:
            return records
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=PUBLISHED), limit=1000, cursor=page.cursor
        )


def report(
    instance: dg.DagsterInstance,
    home: Path,
    keys: list[str],
    landed_at: float,
    finished: bool,
    memory: MemorySampler,
    args: argparse.Namespace,
) -> None:
    wanted = set(keys)
    records = [r for r in publications(instance) if r.partition_key in wanted]
    minutes = (max((r.timestamp for r in records), default=landed_at) - landed_at) / 60
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"\n{len(keys)} files landed at once; batches_per_run {args.batches_per_run}, "
        f"max_concurrent_runs {args.max_concurrent_runs} ({args.carriers} carriers), "
        f"sensors every {args.interval} s, {args.storage} storage, {os.cpu_count()} cores (load {load})"
    )
    rate = len({r.partition_key for r in records}) / minutes if minutes else 0.0
    print(f"all done: {finished}; last file published {minutes:.1f} min after landing: {rate:.1f} files/min")
    jobs = collections.Counter(r.dagster_run.job_name for r in instance.get_run_records(dg.RunsFilter()))
    print("runs by job: " + ", ".join(f"{job} {n}" for job, n in sorted(jobs.items())))
    print_ticks(instance, landed_at, args.interval)
    roles = ", ".join(f"{role} {size / 2**20:.0f} MB" for role, size in sorted(memory.peak_by_role.items()))
    print(
        f"peak memory: {memory.peak_bytes / 2**20:.0f} MB summed RSS ({roles}); "
        f"at most {memory.peak_processes} processes"
    )
    per_file = memory.cpu_seconds / max(1, len({r.partition_key for r in records}))
    cores = os.cpu_count() or 1
    print(
        f"CPU: {memory.cpu_seconds:.0f} s used by the servers' processes, {per_file:.2f} s per file "
        f"published: at most {60 * cores / per_file if per_file else 0:.0f} files/min on {cores} idle cores"
    )
    by_role = sorted(memory.cpu_by_role().items(), key=lambda item: -item[1])
    print("CPU by role: " + ", ".join(f"{role} {seconds:.0f} s" for role, seconds in by_role))
    ledger = BatchStorage(home / "dagster_home" / "storage" / "dataops").ledger()
    decisions = ledger.records(dataset="orders", steps=("decision",))
    batch_runs = instance.get_run_records(dg.RunsFilter(job_name="orders_batch_job"))
    once = {
        "published_batch materializations": collections.Counter(r.partition_key for r in records),
        "ledger decisions": collections.Counter(r.batch for r in decisions),
        "batch runs": collections.Counter(r.dagster_run.tags.get("dagster/partition") for r in batch_runs),
    }
    for what, counts in once.items():
        exact = sum(counts.get(k, 0) == 1 for k in keys)
        missing = sum(counts.get(k, 0) == 0 for k in keys)
        twice = len(keys) - exact - missing
        print(f"exactly once, {what}: {exact} of {len(keys)} (missing {missing}, twice or more {twice})")


def print_ticks(instance: dg.DagsterInstance, since: float, interval: int) -> None:
    """Each sensor's longest tick and largest gap between two ticks since ``since``."""
    longest = {}
    for sensor, ticks in sensor_ticks(instance, since).items():
        spans = [t.end_timestamp - t.timestamp for t in ticks if t.end_timestamp]
        gap = max((b.timestamp - a.timestamp for a, b in zip(ticks, ticks[1:], strict=False)), default=0)
        longest[sensor] = max(spans, default=0.0)
        print(f"  {sensor}: {len(ticks)} ticks, longest {longest[sensor]:.1f} s, largest gap {gap:.1f} s")
    print(f"longest sensor tick: {max(longest.values()):.1f} s (limit: interval + 30 = {interval + 30} s)")


if __name__ == "__main__":
    main()
