"""Joint drift in the Dagster loop: two columns stop moving together while each keeps its
distribution; the domain classifier, run on the profiles' row samples, sees it and its signal
reaches the policy (a rule singles it out by its method) and the ledger."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite.cli.main import main
from tests.support.declared import declare

POLICY = """\
rules:
  - name: rows that break together are held for a person
    when: {kind: drift, rule: domain_classifier}
    then: hold
  - name: any other drift is published and raised
    when: {kind: drift}
    then: alert
  - name: broken rows are quarantined
    when: {kind: contract_violation}
    then: quarantine
default: hold
"""


def _readings(day: int, rows: int, together: bool) -> pd.DataFrame:
    """Inlet and outlet temperatures of a heat exchanger: the outlet follows the inlet, until a
    fault makes it run against it (each column's own distribution unchanged)."""
    rng = np.random.default_rng(day)
    inlet = rng.normal(0, 1, rows)
    outlet = (inlet if together else -inlet) + rng.normal(0, 0.3, rows)
    return pd.DataFrame(
        {
            "reading": np.arange(day * rows, (day + 1) * rows),
            "inlet": inlet.round(3),
            "outlet": outlet.round(3),
            "unit": rng.choice(["north", "south", "east"], rows),
        }
    )


@pytest.fixture
def exchanger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    landing = home / "in" / "exchanger"
    landing.mkdir(parents=True)
    for day in range(1, 6):
        _readings(day, 800, together=day != 5).to_csv(landing / f"exchanger_2026-11-0{day}.csv", index=False)
    (tmp_path / "policy.yaml").write_text(POLICY)
    declare(
        monkeypatch,
        home,
        tmp_path / "suite.yaml",
        "datasets:\n  exchanger:\n    landing: in/exchanger\n    keys: [reading]\n    policy: policy.yaml\n",
    )
    return home


def test_the_classifier_signal_reaches_the_policy_and_the_ledger(exchanger, capsys) -> None:
    assert main(["run", "--json"]) == 0
    rows = {r["batch"]: r for r in json.loads(capsys.readouterr().out)}
    normal, broken = rows["exchanger_2026-11-04.csv"], rows["exchanger_2026-11-05.csv"]
    assert normal["rows_published"] == 800 and not normal["drifted_columns"]
    assert broken["drifted_columns"] == []  # each column alone looks as it always did
    joint = [s for s in broken["signals"] if s["rule"] == "domain_classifier"]
    assert [(s["kind"], s["column"]) for s in joint] == [("drift", "(joint)")]
    assert float(joint[0]["detail"].removeprefix("AUC ")) > 0.8
    assert broken["decision"] == "hold" and broken["rows_held"] == 800
    assert main(["ledger", "--dataset", "exchanger", "--json"]) == 0
    ledger = [r for r in json.loads(capsys.readouterr().out) if r["batch"] == "exchanger_2026-11-05.csv"]
    signal = next(r for r in ledger if r["step"] == "signal" and r["detail"]["rule"] == "domain_classifier")
    assert signal["kind"] == "drift" and signal["detail"]["column"] == "(joint)"
    action = next(r for r in ledger if r["step"] == "action")
    assert (
        action["kind"] == "hold"
        and action["detail"]["rule"] == "rows that break together are held for a person"
    )
    assert action["detail"]["trail"] == signal["id"] and action["detail"]["rows_held"] == 800
