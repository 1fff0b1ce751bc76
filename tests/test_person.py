"""A person's way out: release held rows and close the breaker, from the CLI and as Dagster jobs."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

import datareflex
from suite.build import build_definitions
from suite.cli.main import main
from suite.cli.runner import run_until_quiet
from suite.cli.sample_data import SampleBatch
from suite.config import Settings
from suite.storage import BatchStorage
from tests.support.declared import declare

HOLD_DRIFT = """
rules:
  - {when: {kind: drift}, then: hold}
  - {when: {kind: schema_change, rule: unexpected_column}, then: accept_schema_change}
  - {when: {kind: schema_change, rule: type_changed}, then: coerce}
  - {when: {kind: contract_violation}, then: quarantine}
  - {when: {kind: metric_anomaly}, then: alert}
"""


@pytest.fixture
def held(tmp_path: Path, stream: tuple[Path, list[SampleBatch]], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The sample stream run under a policy that holds drifted batches, declared in suite.yaml."""
    source, batches = stream
    home = tmp_path / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    for batch in batches:
        (landing / batch.name).write_bytes((source / batch.name).read_bytes())
    (tmp_path / "policy.yaml").write_text(HOLD_DRIFT)
    declare(
        monkeypatch,
        home,
        tmp_path / "suite.yaml",
        "datasets:\n  orders:\n    landing: landing\n    keys: [order_id]\n    policy: policy.yaml\n",
    )
    settings = Settings.from_env()
    assert main(["run"]) == 0
    return settings


def drift_batch(stream: tuple[Path, list[SampleBatch]]) -> SampleBatch:
    return next(b for b in stream[1] if b.kind == "drift")


def stored(settings: Settings, asset: str, batch: str) -> int:
    return len(BatchStorage(settings.storage).read(["orders", asset], batch))


def test_release_through_the_cli_publishes_the_held_rows(held, stream, capsys) -> None:
    batch = drift_batch(stream)
    assert stored(held, "held_batch", batch.name) == batch.rows  # the drift rule held it whole
    assert stored(held, "published_batch", batch.name) == 0
    assert main(["release", batch.name, "--revalidate", "--by", "ana"]) == 0
    assert "released by ana" in capsys.readouterr().out
    assert stored(held, "held_batch", batch.name) == 0
    published = stored(held, "published_batch", batch.name)
    quarantined = stored(held, "quarantine", batch.name)
    assert published + quarantined == batch.rows and published > 0.99 * batch.rows
    ledger = BatchStorage(held.storage).ledger()
    released = ledger.records("orders", batch.name, kinds=["released"])
    assert [(r.step, r.detail["by"]) for r in released] == [("decision", "ana"), ("outcome", "ana")]
    assert main(["run", "--json"]) == 0  # the batch's row reads the release back
    row = next(r for r in json.loads(capsys.readouterr().out) if r["batch"] == batch.name)
    assert (row["decision"], row["rows_published"], row["rows_held"]) == ("release", published, 0)
    assert main(["release", batch.name]) == 1  # nothing is held any more: the run fails, saying so
    assert "has no held rows left" in capsys.readouterr().err
    assert main(["release", "never-landed.csv"]) == 2
    assert "no dataset holds rows of batch 'never-landed.csv'" in capsys.readouterr().err


def test_release_and_breaker_jobs_in_dagster_show_on_the_approvals_asset(held, stream) -> None:
    batch = drift_batch(stream)
    defs = build_definitions(held)
    instance = dg.DagsterInstance.get()
    release = defs.resolve_job_def("orders_release_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"orders_release": {"config": {"batch": batch.name, "by": "bo"}}}},
    )
    assert release.success and stored(held, "published_batch", batch.name) == batch.rows
    ledger = BatchStorage(held.storage).ledger()
    day = dt.date(2026, 11, 30)
    for _ in range(3):  # three remediations in a row that did not verify
        ledger.append("orders", "x", "outcome", "unverified", event_time=day)
    assert datareflex.breaker_state(ledger.records("orders"), day, 3, 1440) is datareflex.BreakerState.OPEN
    closing = defs.resolve_job_def("orders_breaker_job").execute_in_process(
        instance=instance, run_config={"ops": {"orders_close_breaker": {"config": {"by": "bo"}}}}
    )
    assert closing.success
    assert datareflex.breaker_state(ledger.records("orders"), day, 3, 1440) is datareflex.BreakerState.CLOSED
    result = instance.fetch_observations(dg.AssetKey(["orders", "approvals"]), limit=1)
    table = result.records[0].asset_observation.metadata["person_actions"].value
    assert [(r.data["action"], r.data["by"]) for r in table.records] == [
        ("breaker_closed", "bo"),
        ("released", "bo"),
    ]


def test_breaker_close_through_the_cli_is_ledgered(held, capsys) -> None:
    assert main(["breaker", "close", "orders", "--by", "cy"]) == 0
    assert "circuit breaker closed by cy" in capsys.readouterr().out
    ledger = BatchStorage(held.storage).ledger()
    assert [r.detail["by"] for r in ledger.records("orders", kinds=["breaker_closed"])] == ["cy"]
    assert main(["breaker", "close", "nothing"]) == 2
    assert "no dataset 'nothing'" in capsys.readouterr().err
    run_until_quiet(build_definitions(held), dg.DagsterInstance.get())  # nothing new to do
