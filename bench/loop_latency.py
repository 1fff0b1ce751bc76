"""How long the live loop takes: a file landing → its batch published, a failed check → the end
of its remediation run, and where the time goes.

Starts ``dagster-webserver`` and ``dagster-daemon run`` (``suite.servers``, as the live tests do)
on a temporary instance with sensor intervals of 5 s, lands the three training days and waits for
the contract, then lands ``--files`` more files, one every ``--every`` seconds (every fourth one
corrupt), and reads every timestamp back through the GraphQL API: when each run was created
(the sensor saw the file), launched (the run queue let it go: RUN_STARTING), started (the new
run worker had imported the code: RUN_START) and ended, and when the batch's ``published_batch`` was written.

    python bench/loop_latency.py [--files 20] [--every 6] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the servers live in tests/support

from suite.cli.sample_data import corrupt, orders_for_day  # noqa: E402
from suite.tags import FAILED_CHECK_RUN_TAG  # noqa: E402
from tests.support.servers import REPO, DagsterServers, Postgres, wait_for, write_instance_yaml  # noqa: E402

TRAINING_DAYS = 3
RUN_EVENTS = """
query Run($runId: ID!) { runOrError(runId: $runId) { ... on Run {
  runId jobName status creationTime startTime endTime tags { key value }
  eventConnection(limit: 1000) { events { __typename ... on MessageEvent { timestamp } } }
} } }"""
RUNS = """
query Runs { runsOrError(limit: 500) { ... on Runs {
  results { runId jobName status tags { key value } }
} } }"""
PUBLISHED = """
query Published { assetOrError(assetKey: {path: ["orders", "published_batch"]}) { ... on Asset {
  assetMaterializations(limit: 500) { partition timestamp runId }
} } }"""
CHECKS = """
query Checks($path: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $path}, checkName: $check, limit: 500) {
    runId status evaluation { timestamp }
} }"""
CHECK_KEYS = (
    (["orders", "validation"], "rows_satisfy_contract"),
    (["orders", "validation"], "schema_matches_contract"),
    (["orders", "drift_report"], "no_drift"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20, help="files landed after training (default 20)")
    parser.add_argument("--every", type=float, default=6.0, help="seconds between two landings (default 6)")
    parser.add_argument(
        "--postgres", action="store_true", help="instance and ledger on a throwaway PostgreSQL"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dataops-latency-"))
    postgres = Postgres.start() if args.postgres else None
    servers = start(home, postgres)
    try:
        files = write_stream(home / "staging", args.files)
        land(home, files[:TRAINING_DAYS])
        training = wait_for("the training job", lambda: training_done(servers), 300, 2)
        run_phases(servers, training)  # the queries answer before anything is timed
        print(
            f"training window published and learned; landing {args.files} files, one every {args.every:g} s"
        )
        landed = {}
        for name in files[TRAINING_DAYS:]:
            landed.update(land(home, [name]))
            time.sleep(args.every)
        wait_for(
            "every file published",
            lambda: len(published(servers).keys() & landed.keys()) == len(landed),
            600,
            2,
        )
        report(servers, landed, args)
    finally:
        servers.stop()
        if postgres is not None:
            postgres.stop()


def start(home: Path, postgres: Postgres | None) -> DagsterServers:
    config = home / "suite.yaml"
    config.write_text(
        "datasets:\n  orders:\n    landing: landing\n    keys: [order_id]\n"
        f"    policy: {REPO / 'suite' / 'config' / 'orders_policy.yaml'}\n    sensor_interval_seconds: 5\n"
    )
    env = {
        "DATAOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "DATAOPS_CONFIG": str(config),
        **(postgres.env if postgres else {}),
    }
    write_instance_yaml(home / "dagster_home", postgres=postgres is not None)
    started = time.monotonic()
    servers = DagsterServers(env, home / "logs").start()
    storage = "PostgreSQL" if postgres else "SQLite"
    print(f"webserver and daemon up in {time.monotonic() - started:.1f} s ({storage})")
    return servers


def write_stream(folder: Path, count: int) -> list[str]:
    """Training days, then ``count`` days of which every fourth carries corrupt rows."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(11)
    names, next_id = [], 100_000
    for day in range(TRAINING_DAYS + count):
        frame = orders_for_day(day, rng, next_id)
        next_id += len(frame)
        if day >= TRAINING_DAYS and (day - TRAINING_DAYS) % 4 == 3:
            frame, _ = corrupt(frame, rng)
        name = f"orders_day{day:03d}.parquet"
        frame.to_parquet(folder / name, index=False)
        names.append(name)
    return names


def land(home: Path, names: list[str]) -> dict[str, float]:
    (home / "landing").mkdir(exist_ok=True)
    moments = {}
    for name in names:
        os.replace(home / "staging" / name, home / "landing" / name)
        moments[name] = time.time()
    return moments


def training_done(servers: DagsterServers) -> str | None:
    runs = servers.graphql(RUNS)["runsOrError"]["results"]
    done = [r["runId"] for r in runs if r["jobName"] == "orders_training_job" and r["status"] == "SUCCESS"]
    return done[0] if done else None


def published(servers: DagsterServers) -> dict[str, float]:
    events = servers.graphql(PUBLISHED)["assetOrError"]["assetMaterializations"]
    return {e["partition"]: int(e["timestamp"]) / 1000 for e in events}


def run_phases(servers: DagsterServers, run_id: str) -> dict[str, Any]:
    run = servers.graphql(RUN_EVENTS, {"runId": run_id})["runOrError"]
    at = {}
    for event in run["eventConnection"]["events"]:
        at.setdefault(event["__typename"], int(event["timestamp"]) / 1000)
    # RUN_STARTING: the queue let the run go and the launcher started its worker process
    dequeued = at.get("RunStartingEvent", at.get("RunDequeuedEvent", run["creationTime"]))
    return {
        "created": run["creationTime"],
        "queue": dequeued - run["creationTime"],
        "launch": run["startTime"] - dequeued,
        "steps": run["endTime"] - run["startTime"],
        "end": run["endTime"],
    }


def tag(run: dict[str, Any], key: str) -> str | None:
    return next((t["value"] for t in run["tags"] if t["key"] == key), None)


def report(servers: DagsterServers, landed: dict[str, float], args: argparse.Namespace) -> None:
    runs = servers.graphql(RUNS)["runsOrError"]["results"]
    batch_run = {tag(r, "dagster/partition"): r for r in runs if r["jobName"] == "orders_batch_job"}
    remediation_of = {
        tag(r, FAILED_CHECK_RUN_TAG): r for r in runs if r["jobName"] == "orders_remediation_job"
    }
    published_at = published(servers)
    failed_at: dict[str, float] = {}
    for path, check in CHECK_KEYS:
        for execution in servers.graphql(CHECKS, {"path": path, "check": check})["assetCheckExecutions"]:
            if execution["status"] == "FAILED" and execution["evaluation"]:
                moment = execution["evaluation"]["timestamp"]
                failed_at[execution["runId"]] = min(failed_at.get(execution["runId"], moment), moment)

    to_published, sensor, queue, launch, steps = [], [], [], [], []
    to_remediated, reflex_wait, r_queue, r_launch, r_steps = [], [], [], [], []
    for name, moment in landed.items():
        batch = run_phases(servers, batch_run[name]["runId"])
        to_published.append(published_at[name] - moment)
        sensor.append(batch["created"] - moment)
        queue.append(batch["queue"])
        launch.append(batch["launch"])
        steps.append(batch["steps"])
        remediation = remediation_of.get(batch_run[name]["runId"])
        if remediation is not None:
            fix = run_phases(servers, remediation["runId"])
            failed = failed_at[batch_run[name]["runId"]]
            to_remediated.append(fix["end"] - failed)
            reflex_wait.append(fix["created"] - failed)
            r_queue.append(fix["queue"])
            r_launch.append(fix["launch"])
            r_steps.append(fix["steps"])

    print(
        f"\n{len(landed)} files, one every {args.every:g} s, sensors every 5 s, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'} instance, {os.cpu_count()} cores"
    )
    print(f"{'':44}{'median':>8}{'p90':>8}{'max':>8}")
    line("file landed → batch published", to_published)
    line("  landing sensor: landed → run created", sensor)
    line("  run queue: created → launched", queue)
    line("  launch: new process imports the code", launch)
    line("  batch run: started → ended", steps)
    if to_remediated:
        line(f"failed check → remediation run ended (n={len(to_remediated)})", to_remediated)
        line("  reflex sensor: check failed → run created", reflex_wait)
        line("  run queue: created → launched", r_queue)
        line("  launch: new process imports the code", r_launch)
        line("  remediation run: started → ended", r_steps)
    median = statistics.median(to_published)
    print(f"\ngoal: median file → published ≤ 30 s: {'met' if median <= 30 else 'NOT met'} ({median:.1f} s)")


def line(label: str, values: list[float]) -> None:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print(f"{label:44}{statistics.median(ordered):8.1f}{p90:8.1f}{ordered[-1]:8.1f}")


if __name__ == "__main__":
    sys.exit(main())
