"""The orders stream through the live servers, and what the GraphQL API says came of it."""

from __future__ import annotations

import os
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.cli.sample_data import SampleBatch, write_orders
from suite.tags import FAILED_CHECK_RUN_TAG, RELAUNCH_OF_TAG
from tests.support.servers import DagsterServers, wait_for

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
RUNS = """
query Runs { runsOrError(limit: 500) { ... on Runs { results {
  runId jobName status creationTime startTime endTime tags { key value }
} } } }"""
MATERIALIZATIONS = """
query Materializations($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
  assetMaterializations(limit: 500) { partition runId timestamp
    metadataEntries { label ... on IntMetadataEntry { intValue } } }
} } }"""
CHECK_EXECUTIONS = """
query Checks($path: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $path}, checkName: $check, limit: 100) {
    runId status partition timestamp
    evaluation { success metadataEntries { label ... on TableMetadataEntry { table { records } } } }
} }"""
REPOSITORIES = """
query Repositories { repositoriesOrError { ... on RepositoryConnection {
  nodes { name location { name } }
} } }"""
SENSOR_TICKS = """
query Ticks($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) { ... on Sensor {
  sensorState { ticks(limit: 3) { status timestamp runIds } }
} } }"""


@dataclass
class LiveLoop:
    home: Path
    servers: DagsterServers
    batches: list[SampleBatch] = field(default_factory=list)
    landed_at: float = 0.0
    unfinished_at_middle: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    def land(self, batches: list[SampleBatch], staging: Path) -> None:
        """Move whole files into the landing folder (a rename, as the README asks)."""
        self.landing.mkdir(parents=True, exist_ok=True)
        for batch in batches:
            os.replace(staging / batch.name, self.landing / batch.name)

    def run(self, middle: Callable[[], None] | None = None, timeout: float = 480) -> None:
        """Land the sample days; call ``middle`` while batch runs are in flight after the
        training job; wait until every batch is published or remediated and both sensors have
        looked again and asked for nothing more.

        The schema-change day lands once the others are done, as a daily stream would: landed
        together, its remediation may evolve the contract before the corrupt day's remediation
        runs, which then judges that day by the new version (every row lacks ``coupon_code``)
        and holds it whole. A known gap: remediation should use the contract version its check
        used (``suite/reflex.py``).
        """
        staging = self.home / "staging"
        self.batches = write_orders(staging)
        self.landed_at = time.time()
        first, last = self.batches[:-1], self.batches[-1:]
        self.land(first, staging)
        if middle is not None:
            self.unfinished_at_middle = wait_for("the batch runs after training", self._middle, timeout, 1)
            middle()
        self._wait("the first six days published or remediated", lambda: self._done(len(first)), timeout)
        self.land(last, staging)
        self._wait("every batch published or remediated", lambda: self._done(len(self.batches)), timeout)
        quiet_since = max(r["endTime"] for r in self.runs)
        wait_for("a sensor tick after the last run", lambda: self._ticked_after(quiet_since), 60, 2)
        self.runs = self.query(RUNS)["runsOrError"]["results"]

    def _wait(self, what: str, ready: Callable[[], Any], timeout: float) -> None:
        """``wait_for``, and on a timeout the runs as the API last showed them."""
        try:
            wait_for(what, ready, timeout, 2)
        except TimeoutError as exc:
            shown = ("dagster/partition", "dagster/run_key", "dataops")
            runs = "\n".join(
                f"  {r['jobName']} {r['status']} started={r['startTime'] is not None} "
                f"{ {t['key']: t['value'] for t in r['tags'] if t['key'].startswith(shown)} }"
                for r in self.runs
            )
            raise TimeoutError(f"{exc}; runs:\n{runs}") from None

    def query(self, text: str, **variables: Any) -> dict[str, Any]:
        return self.servers.graphql(text, variables)

    def runs_of(self, job: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["jobName"] == job]

    def materializations(self, asset: str) -> list[dict[str, Any]]:
        data = self.query(MATERIALIZATIONS, path=["orders", asset])
        return data["assetOrError"]["assetMaterializations"]

    def check_executions(self, asset: str, check: str) -> list[dict[str, Any]]:
        return self.query(CHECK_EXECUTIONS, path=["orders", asset], check=check)["assetCheckExecutions"]

    def _poll_runs(self) -> bool:
        try:
            self.runs = self.query(RUNS)["runsOrError"]["results"]
        except (RuntimeError, urllib.error.URLError, OSError):
            return False  # the webserver answers 500 while PostgreSQL restarts
        return True

    def _middle(self) -> int:
        if not self._poll_runs():
            return 0
        trained = any(r["status"] == "SUCCESS" for r in self.runs_of("orders_training_job"))
        # Batches in flight after training: a carrier still running (with the batches it has not
        # created yet), its batch runs, and the remediations of those whose checks failed. Runs
        # are quick (three batches a carrier run, in about 4 s): the window is what they span.
        jobs = ("orders_batches_job", "orders_batch_job", "orders_remediation_job")
        unfinished = sum(r["status"] not in FINISHED for job in jobs for r in self.runs_of(job))
        return unfinished if trained else 0

    def _done(self, batches: int) -> bool:
        if not self._poll_runs() or any(r["status"] not in FINISHED for r in self.runs):
            return False
        batch_runs = [r for r in self.runs_of("orders_batch_job") if r["startTime"] is not None]
        failed = {r["runId"] for r in batch_runs if r["status"] == "FAILURE"}
        remediated = {tag(r, FAILED_CHECK_RUN_TAG) for r in self.runs_of("orders_remediation_job")}
        relaunched = {tag(r, RELAUNCH_OF_TAG) for r in self.runs}  # a run lost to the outage, taken again
        partitions = {tag(r, "dagster/partition") for r in batch_runs}
        return len(partitions) >= batches and failed <= remediated | relaunched

    def _ticked_after(self, moment: float) -> bool:
        (repository,) = self.query(REPOSITORIES)["repositoriesOrError"]["nodes"]
        location = {
            "repositoryLocationName": repository["location"]["name"],
            "repositoryName": repository["name"],
        }
        for sensor in ("orders_landing_sensor", "orders_reflex_sensor"):
            found = self.query(SENSOR_TICKS, selector={**location, "sensorName": sensor})["sensorOrError"]
            ticks = found["sensorState"]["ticks"]
            if not any(t["timestamp"] > moment and t["status"] == "SKIPPED" for t in ticks):
                return False
        return True


def tag(run: dict[str, Any], key: str) -> str | None:
    return next((t["value"] for t in run["tags"] if t["key"] == key), None)
