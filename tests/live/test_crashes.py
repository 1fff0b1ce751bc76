"""Crash tests under the real daemon: a run worker SIGKILLed at each step of the loop, the
daemon's whole process group stopped (SIGTERM) and killed (SIGKILL) with runs in flight, then a
drain stop as the README gives it. Afterwards every landed file is accounted for exactly once:
its rows are published, quarantined or held, its published rows stored once, and the ledger
holds one decision for it (a batch whose runs died more than ``MAX_RELAUNCHES`` times over, which
a loaded machine can cause, is held whole by the policy and its file stays in the landing folder)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from suite.cli.sample_data import SampleBatch, write_orders
from suite.storage import BatchStorage
from suite.tags import RECOVERY_TAG, RELAUNCH_OF_TAG
from tests.support.servers import DagsterServers, start_orders_loop, wait_for

BATCH_JOB, REMEDIATION_JOB = "orders_batch_job", "orders_remediation_job"
STEPS = ("orders__raw_batch", "orders__validation", "orders__drift_report", "orders_remediate")
"""The batch job's steps, in the order they run (the checks run inside ``orders__validation``
and ``orders__drift_report``)."""
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass
class Crashes:
    """A throwaway data home, both servers on it, and the instance as the test reads it."""

    home: Path
    servers: DagsterServers
    instance: dg.DagsterInstance
    batches: list[SampleBatch]
    landed: list[str] = field(default_factory=list)
    killed: dict[str, str] = field(default_factory=dict)  # run id → the step it was killed in
    interrupted: dict[str, str] = field(default_factory=dict)  # run id → the signal its daemon got

    @property
    def storage(self) -> BatchStorage:
        return BatchStorage(self.home / "dagster_home" / "storage" / "dataops")

    def land(self, *names: str) -> None:
        """Move whole files into the landing folder (a rename, as the README asks)."""
        for name in names:
            os.replace(self.home / "staging" / name, self.home / "landing" / name)
            self.landed.append(name)

    def first_run(self, job: str, partition: str) -> dg.DagsterRun | None:
        runs = self.instance.get_runs(dg.RunsFilter(job_name=job, tags={"dagster/partition": partition}))
        originals = [r for r in runs if RELAUNCH_OF_TAG not in r.tags]
        return originals[-1] if originals else None  # get_runs is newest first

    def in_step(self, job: str, partition: str, step: str) -> dg.DagsterRun | None:
        """A STARTED run of ``job`` for ``partition`` in which ``step`` started."""
        runs = self.instance.get_runs(
            dg.RunsFilter(
                job_name=job, tags={"dagster/partition": partition}, statuses=[dg.DagsterRunStatus.STARTED]
            )
        )
        return next((r for r in runs if step in self.started_steps(r.run_id)), None)

    def started_steps(self, run_id: str) -> set[str]:
        records = self.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
        return {r.event_log_entry.step_key for r in records if r.event_log_entry.step_key}

    def worker_pid(self, run_id: str) -> int:
        """The run worker's pid, from the engine event it logs as it starts."""
        records = self.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
        for record in records:
            event = record.event_log_entry.dagster_event
            pid = event.engine_event_data.metadata.get("pid") if event and event.engine_event_data else None
            if isinstance(pid, dg.TextMetadataValue):
                return int(pid.value)
        raise AssertionError(f"run {run_id} logged no worker pid")

    def kill_at(self, targets: dict[str, tuple[str, str]], timeout: float = 600) -> None:
        """SIGKILL a ``job`` run of each partition as soon as ``step`` starts in it (the first
        run, or its relaunch when a busy machine kept the first from starting in time)."""
        pending = dict(targets)
        deadline = time.monotonic() + timeout
        while pending:
            assert time.monotonic() < deadline, f"no run reached its step in time: {pending}"
            for partition, (job, step) in list(pending.items()):
                run = self.in_step(job, partition, step)
                if run is None:
                    continue
                os.kill(self.worker_pid(run.run_id), signal.SIGKILL)
                self.killed[run.run_id] = step
                del pending[partition]
            time.sleep(0.05)

    def running(self) -> str | None:
        """A batch or remediation run with a step started (not yet interrupted by the test)."""
        for run in self.instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            if run.run_id not in {**self.killed, **self.interrupted} and self.started_steps(run.run_id):
                return run.run_id
        return None

    def unfinished(self) -> list[dg.DagsterRun]:
        return list(self.instance.get_runs(dg.RunsFilter(statuses=UNFINISHED)))

    def decisions(self) -> dict[str, list[str]]:
        ledger = self.storage.ledger()
        try:
            records = ledger.records("orders", self.landed, steps=("decision",))
        finally:
            ledger.dispose()
        found: dict[str, list[str]] = {name: [] for name in self.landed}
        for record in records:
            found[record.batch].append(record.kind)
        return found

    def given_up(self) -> set[str]:
        """Batches whose runs died ``MAX_RELAUNCHES`` times over: the relaunch sensor gave up."""
        runs = self.instance.get_runs(dg.RunsFilter(tags={RECOVERY_TAG: "given_up"}))
        return {r.tags["dagster/partition"] for r in runs}

    def settled(self) -> bool:
        """Every landed batch decided, no run in progress: quiet for two sensor intervals."""
        if self.unfinished() or not all(self.decisions().values()):
            return False
        time.sleep(3)
        return not self.unfinished()


def start(home: Path) -> Crashes:
    servers = start_orders_loop(
        home,
        interval=2,
        intake="{stable_seconds: 0, batches_per_run: 1}",
        monitoring_seconds=2,
        start_timeout_seconds=180,
    )
    batches = write_orders(home / "staging", clean_days=8)
    return Crashes(home, servers, dg.DagsterInstance.from_config(str(home / "dagster_home")), batches)


@pytest.fixture
def crashes(tmp_path: Path) -> Iterator[Crashes]:
    loop = start(tmp_path / "home")
    try:
        yield loop
    finally:
        loop.servers.stop()
        loop.instance.dispose()


def test_no_batch_is_lost_whatever_dies(crashes: Crashes) -> None:
    clean = [b.name for b in crashes.batches if b.kind == "clean"]
    corrupt = next(b.name for b in crashes.batches if b.kind == "corrupt")
    crashes.land(*clean[:3])
    wait_for("the training job", lambda: crashes.storage.contracts().latest("orders"), 600, 1)

    # a run worker SIGKILLed as each step of the loop starts: four batch runs, one remediation run
    crashes.land(*clean[3:7], corrupt)
    crashes.kill_at(
        {
            **{name: (BATCH_JOB, step) for name, step in zip(clean[3:7], STEPS, strict=True)},
            corrupt: (REMEDIATION_JOB, "orders_remediate"),
        }
    )
    assert sorted(crashes.killed.values()) == sorted([*STEPS, "orders_remediate"])

    # the daemon's whole process group stopped, then killed, while a relaunch is running; restarted
    for sig in (signal.SIGTERM, signal.SIGKILL):
        in_flight = wait_for(f"a run in a step before the {sig.name}", crashes.running, 600, 0.1)
        crashes.servers.signal_daemon_group(sig)
        crashes.interrupted[in_flight] = sig.name
        crashes.servers.start_daemon()

    wait_for("every landed batch decided and no run in progress", crashes.settled, 600, 1)
    assert_accounted_for(crashes)

    # the README's drain stop: no new batch taken, runs in flight finish, then both groups stop
    (last,) = [b.name for b in crashes.batches if b.kind == "clean"][7:8]
    crashes.land(last)
    wait_for("the last batch run in a step", crashes.running, 600, 0.1)
    crashes.servers.cli("sensor", "stop", "orders_landing_sensor")
    wait_for("no run in progress", lambda: crashes.servers.runs_in_progress() == 0, 120, 1)
    crashes.servers.stop()
    run = crashes.first_run(BATCH_JOB, last)
    assert run is not None and run.status is dg.DagsterRunStatus.SUCCESS
    assert crashes.decisions()[last] == ["publish"]


def assert_accounted_for(crashes: Crashes) -> None:
    """Rows in = published + quarantined + held for every file; one decision each; published once."""
    killed = [crashes.instance.get_run_by_id(run_id) for run_id in crashes.killed]
    assert all(run is not None and run.status is dg.DagsterRunStatus.FAILURE for run in killed)
    decisions = crashes.decisions()
    assert {name: len(kinds) for name, kinds in decisions.items()} == {n: 1 for n in crashes.landed}
    given_up = crashes.given_up()  # relaunched MAX_RELAUNCHES times: held by the policy, file kept
    assert all(decisions[name] == ["hold"] for name in given_up)
    materialized = crashes.instance.fetch_materializations(
        dg.AssetKey(["orders", "published_batch"]), limit=1000
    ).records
    partitions = sorted(r.partition_key for r in materialized if r.partition_key)
    assert partitions == sorted(set(crashes.landed) - given_up), "each batch's published rows stored once"
    for batch in (b for b in crashes.batches if b.name in crashes.landed):
        if batch.name in given_up:
            assert len(pd.read_parquet(crashes.home / "landing" / batch.name)) == batch.rows
            continue
        frames = {
            asset: crashes.storage.read(["orders", asset], batch.name)
            for asset in ("published_batch", "quarantine", "held_batch")
        }
        counts = {asset: len(frame) for asset, frame in frames.items()}
        assert sum(counts.values()) == batch.rows, (batch.name, batch.kind, counts)
        published: pd.DataFrame = frames["published_batch"]
        assert published["order_id"].is_unique, batch.name
