import json
from pathlib import Path

import pytest

from suite.cli import main
from suite.storage.files import BatchFileError, read_batch


@pytest.fixture
def files(stream) -> dict[str, Path]:
    landing, batches = stream
    return {b.kind if b.kind != "clean" else f"clean{i}": landing / b.name for i, b in enumerate(batches)}


def test_infer_then_validate(files, tmp_path, capsys) -> None:
    contract = tmp_path / "orders.yaml"
    assert (
        main(["infer", str(files["clean0"]), str(files["clean1"]), "-o", str(contract), "--name", "orders"])
        == 0
    )
    assert "name: orders" in contract.read_text()
    assert main(["validate", str(files["clean3"]), "--contract", str(contract)]) == 0
    capsys.readouterr()
    assert main(["validate", str(files["corrupt"]), "--contract", str(contract), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["rows_invalid"] > 0


def test_drift_prints_the_table_and_writes_html(files, tmp_path, capsys) -> None:
    page = tmp_path / "drift.html"
    assert main(["drift", str(files["clean0"]), str(files["drift"]), "--json", "--html", str(page)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["drifted_columns"]) == ["amount", "channel"]
    text = page.read_text()
    assert text.startswith("<!doctype html>") and text.count("<svg") == 2 and "amount" in text


def test_an_unreadable_file_is_named(tmp_path, capsys) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(BatchFileError, match=str(broken)):
        read_batch(broken)
    assert main(["infer", str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err
    assert main(["infer", str(tmp_path / "missing.csv")]) == 2


def test_csv_batches_read_like_parquet(files, tmp_path) -> None:
    frame = read_batch(files["clean0"])
    csv = tmp_path / "day.csv"
    frame.to_csv(csv, index=False)
    assert read_batch(csv).equals(frame)


def test_diff_lists_changes_and_exits_1_on_breaking(files, tmp_path, capsys) -> None:
    old, new = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    assert main(["infer", str(files["clean0"]), "-o", str(old), "--name", "orders"]) == 0
    text = old.read_text().replace("  status:", "  order_status:")
    new.write_text(text + "  coupon:\n    type: string\n    nullable: true\n")
    capsys.readouterr()
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING  column_renamed" in out and "additive  column_added" in out
    assert main(["diff", str(old), str(old), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"breaking": False, "changes": []}


def test_a_broken_contract_file_is_named(tmp_path, files, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert main(["validate", str(files["clean0"]), "--contract", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_ledger_prints_the_trail_of_a_batch(files, tmp_path, capsys) -> None:
    import datareflex
    import schemasense
    from suite.config import PACKAGE_DIR

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    contract = schemasense.infer([read_batch(files[f"clean{i}"]) for i in range(3)], name="orders")
    corrupt = read_batch(files["corrupt"])
    reflex = datareflex.Reflex(
        datareflex.Policy.from_file(PACKAGE_DIR / "orders_policy.yaml"), datareflex.Ledger(url)
    )
    reflex.handle(corrupt, datareflex.sense(contract.validate(corrupt)), contract=contract, batch_id="day6")
    assert main(["ledger", "--url", url, "--batch", "day6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [line.split()[3] for line in lines]
    assert steps[0] == "signal" and steps[-1] == "outcome" and "decision" in steps
    assert "published 1108, quarantined 34, held 0" in lines[-1]


def test_backtest_replays_the_batches_and_writes_nothing(stream, tmp_path, capsys, monkeypatch) -> None:
    from suite.config import PACKAGE_DIR

    landing, batches = stream
    before = {p.name: p.stat().st_mtime_ns for p in landing.iterdir()}
    monkeypatch.chdir(tmp_path)
    policy = str(PACKAGE_DIR / "orders_policy.yaml")
    assert main(["backtest", "--policy", policy, "--batches", str(landing), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["batch"] for r in rows] == [b.name for b in batches]
    kinds = {b.name: b.kind for b in batches}
    by_kind = {kinds[r["batch"]]: r for r in rows}
    assert by_kind["corrupt"]["actions"] == ["deduplicate", "impute", "quarantine", "alert"]  # as live
    assert by_kind["corrupt"]["rows_quarantined"] == 34 and by_kind["corrupt"]["verified"] is True
    assert all(r["approvals_asked"] == [] and r["breaker"] == "closed" for r in rows)
    assert sorted(by_kind["drift"]["drifted_columns"]) == ["amount", "channel"]
    assert all(r["rows_in"] == r["rows_published"] + r["rows_quarantined"] + r["rows_held"] for r in rows)
    assert {p.name: p.stat().st_mtime_ns for p in landing.iterdir()} == before
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_backtest_shows_approvals_asked_once_and_the_breaker_tripping(stream, tmp_path, capsys) -> None:
    landing, batches = stream
    folder = tmp_path / "batches"
    folder.mkdir()
    for batch in batches[:3]:
        (folder / batch.name).write_bytes((landing / batch.name).read_bytes())
    corrupt = next(b for b in batches if b.kind == "corrupt")
    drift = next(b for b in batches if b.kind == "drift")
    # Landed in this order: four days of drift, then a source that keeps sending broken rows.
    for day in range(4):
        (folder / f"x{day}_drift.parquet").write_bytes((landing / drift.name).read_bytes())
    for day in range(4):
        (folder / f"y{day}_corrupt.parquet").write_bytes((landing / corrupt.name).read_bytes())
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n"
        "  - {when: {kind: contract_violation}, then: alert}\n"  # alerting fixes nothing: unverified
        "  - {when: {kind: drift}, then: refresh_reference}\n"
        "  - {when: {kind: [schema_change, metric_anomaly]}, then: alert}\n"
        "guardrails: {breaker_failures: 3, breaker_reset_minutes: 100000}\n"
    )
    assert main(["backtest", "--policy", str(policy), "--batches", str(folder), "--json"]) == 0
    rows = {r["batch"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["x0_drift.parquet"]["approvals_asked"] == ["refresh_reference ((joint), amount, channel)"]
    assert all(rows[f"x{d}_drift.parquet"]["approvals_asked"] == [] for d in (1, 2, 3))  # asked once
    assert [rows[f"y{d}_corrupt.parquet"]["verified"] for d in (0, 1, 2)] == [False] * 3
    assert [rows[f"y{d}_corrupt.parquet"]["breaker"] for d in (0, 1, 2, 3)] == [
        "closed",
        "closed",
        "open",
        "open",
    ]
    last = rows["y3_corrupt.parquet"]
    assert (last["decision"], last["actions"], last["rows_held"]) == ("hold", [], last["rows_in"])
    assert main(["backtest", "--policy", str(policy), "--batches", str(folder)]) == 0
    assert "approvals asked" in capsys.readouterr().out.splitlines()[0]
