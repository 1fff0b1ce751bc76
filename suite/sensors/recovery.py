"""Runs a sensor created but could not launch, asked for again.

The daemon creates a sensor's run, then submits it. If the instance's storage goes away in
between (a PostgreSQL restart), the submission fails and Dagster marks the run FAILURE although
it never started; a daemon that dies in between leaves it NOT_STARTED; a run worker that cannot
reach the storage as it starts stays STARTING until run monitoring fails it. Either way the
sensor's tick has moved on and the file would never be processed. Each such run is asked for
again:

- NOT_STARTED: under its own run key, so the daemon submits the run it already created;
- FAILURE without ever starting: under the key ``relaunch:<run id>``, so it is asked for once.

A relaunch that is itself stranded is relaunched again, at most ``MAX_RELAUNCHES`` times.
"""

import datetime as dt

import dagster as dg

STRANDED_AFTER_SECONDS = 10.0
"""A run still ``NOT_STARTED`` this long after it was created was not launched."""
MAX_RELAUNCHES = 3
RELAUNCH_OF_TAG = "dataops/relaunch_of"
RELAUNCH_COUNT_TAG = "dataops/relaunch_count"
OUTCOME_TAGS = ("dataops/decision", "dataops/alert", "dataops/escalated")
"""Tags that say what became of a run: a relaunch starts without them."""


def stranded_run_requests(context: dg.SensorEvaluationContext, sensor_name: str) -> list[dg.RunRequest]:
    """The sensor's own runs that were created but never started, asked for again."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STRANDED_AFTER_SECONDS)
    records = context.instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.FAILURE],
            tags={"dagster/sensor_name": sensor_name},
            created_before=before,
        )
    )
    requests = []
    for record in records:
        run = record.dagster_run
        if record.start_time is not None or "dagster/run_key" not in run.tags:
            continue
        own_tags = {k: v for k, v in run.tags.items() if not k.startswith(("dagster/", *OUTCOME_TAGS))}
        if run.status is dg.DagsterRunStatus.NOT_STARTED:
            run_key, tags = run.tags["dagster/run_key"], own_tags
        else:
            count = int(run.tags.get(RELAUNCH_COUNT_TAG, "0")) + 1
            if count > MAX_RELAUNCHES:
                continue
            run_key = f"relaunch:{run.run_id}"
            tags = {**own_tags, RELAUNCH_OF_TAG: run.run_id, RELAUNCH_COUNT_TAG: str(count)}
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                job_name=run.job_name,
                partition_key=run.tags.get("dagster/partition"),
                tags=tags,
            )
        )
    return requests
