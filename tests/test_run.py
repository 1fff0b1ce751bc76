"""``dataops run`` on a user's own suite.yaml; the demo keeps to its own; backtest equals live."""

import json
from pathlib import Path

import pytest

from suite.cli.backtest import backtest, declaration_for
from suite.cli.demo import run_datasets
from suite.cli.main import main
from suite.cli.sample_data import SampleBatch
from suite.config import PACKAGE_DIR, Settings
from tests.support.declared import declare

COMPARED = ("batch", "rows_published", "rows_quarantined", "rows_held", "decision", "actions", "verified")


@pytest.fixture
def declared(tmp_path: Path, stream: tuple[Path, list[SampleBatch]], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's suite.yaml declaring the sample stream as ``shop``, its files landed."""
    source, batches = stream
    home = tmp_path / "home"
    landing = home / "in" / "shop"
    landing.mkdir(parents=True)
    for batch in batches:  # landed in order, one after the other
        (landing / batch.name).write_bytes((source / batch.name).read_bytes())
    declare(
        monkeypatch,
        home,
        tmp_path / "suite.yaml",
        "datasets:\n"
        "  shop:\n"
        "    landing: in/shop\n"
        "    keys: [order_id]\n"
        f"    policy: {PACKAGE_DIR / 'orders_policy.yaml'}\n",
    )
    return home


def test_run_processes_every_landed_file_of_the_declared_datasets(declared, stream, capsys) -> None:
    assert main(["run", "--dataset", "shop", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    batches = {b.name: b for b in stream[1]}
    assert [r["batch"] for r in rows] == sorted(batches) and {r["dataset"] for r in rows} == {"shop"}
    for row in rows:
        assert row["rows_in"] == batches[row["batch"]].rows
        assert row["rows_in"] == row["rows_published"] + row["rows_quarantined"] + row["rows_held"]
    drift = next(r for r in rows if batches[r["batch"]].kind == "drift")
    assert {(s["kind"], s["column"]) for s in drift["signals"]} >= {("drift", "amount"), ("drift", "channel")}
    assert main(["run"]) == 0  # again: nothing new, the same table
    assert "shop" in capsys.readouterr().out.splitlines()[2]


def test_the_demo_only_touches_its_own_dataset_and_folder(declared, capsys) -> None:
    before = sorted(p.name for p in (declared / "in" / "shop").iterdir())
    assert main(["demo", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 7 and all(r["rows_in"] for r in rows)
    assert sorted(p.name for p in (declared / "in" / "shop").iterdir()) == before
    assert len(list((declared / "demo" / "landing").iterdir())) == 7


def test_a_config_error_names_the_line_and_exits_2(tmp_path, monkeypatch, capsys) -> None:
    config = tmp_path / "suite.yaml"
    config.write_text("datasets:\n  shop:\n    landing: in\n    drift: {reference: last_week}\n")
    monkeypatch.setenv("DATAOPS_CONFIG", str(config))
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"dataops: {config}, line 4: datasets.shop.drift.reference")
    assert "Traceback" not in error
    assert main(["run", "--dataset", "other"]) == 2
    config.write_text("datasets:\n  shop: {landing: in}\n")
    assert main(["run", "--dataset", "other"]) == 2
    assert "no dataset 'other' is declared" in capsys.readouterr().err


def test_the_json_schemas_are_published(capsys) -> None:
    assert main(["schema", "suite"]) == 0
    suite = json.loads(capsys.readouterr().out)
    dataset = suite["$defs"]["DatasetDeclaration"]
    assert dataset["additionalProperties"] is False and {"landing", "source", "asset"} <= set(
        dataset["properties"]
    )
    assert "columns" in dataset["properties"]
    assert main(["schema", "policy"]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert policy["additionalProperties"] is False and "rules" in policy["properties"]


def test_backtest_and_the_live_loop_decide_the_same(declared) -> None:
    # A fixed reference: a rolling one live depends on which earlier batches were published when
    # the drift report was made (a batch whose checks failed is published later, by its
    # remediation run), the backtest's on every earlier batch.
    live = run_datasets(Settings.from_env())
    replayed = backtest(declaration_for(Settings.from_env()))
    assert [{c: r[c] for c in COMPARED} for r in replayed] == [{c: r[c] for c in COMPARED} for r in live]
    assert sorted(map(sorted, (r["drifted_columns"] for r in replayed))) == sorted(
        map(sorted, (r["drifted_columns"] for r in live))
    )


def test_drift_exclude_in_suite_yaml_leaves_a_column_untested(frames, tmp_path) -> None:
    from suite.config import DatasetConfig, DriftSettings
    from suite.loop import drift_detector, learn_contract

    dataset = DatasetConfig("orders", tmp_path, keys=("order_id",), drift=DriftSettings(exclude=("amount",)))
    contract = learn_contract(dataset, [frames["training"]])
    report = drift_detector(dataset, contract).fit(frames["training"]).score(frames["drift"])
    assert report.drifted_columns == ["channel"]  # amount drifted too, but is not tested
    assert report.excluded["amount"] == "excluded in suite.yaml (drift.exclude)"
    assert "amount" not in report.columns and "amount" not in report.missing
