"""Landing one corpus case into the shared instance, and checking the outcome it got.

The ledger says what happened to a batch (its final decision, the rows of its outcome, the reasons);
the runs say it too (the decision tag, a rejected file's failure message, the metadata of the
published batch). Each check names the file and shows the batch's ledger trail when it fails.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

import schemasense
from suite.assets.metadata import latest_metadata
from suite.cli.runner import run_until_quiet, tick
from suite.config import Settings
from suite.storage import BatchStorage
from tests.corpus import generate

DATASET = "pizza"
COMPARED = ["rownames", "id", "time", "name", "size", "type", "price"]
"""Columns compared value for value with the source day (``date`` may be parsed to a datetime)."""
PUBLISHED = {"publish", "alert", "remediate"}
"""Final decisions under which rows are published."""


@dataclass
class Corpus:
    """The shared instance the cases are landed into, and what the ledger held before each."""

    settings: Settings
    instance: dg.DagsterInstance
    defs: dg.Definitions
    settling: dg.Definitions
    outside: Path
    seen: set[int] = field(default_factory=set)

    @property
    def landing(self) -> Path:
        return self.settings.datasets[0].landing

    def storage(self) -> BatchStorage:
        return BatchStorage(self.settings.storage)

    def new_batches(self) -> dict[str, list[Any]]:
        """Ledger records appended since the last call, by batch."""
        ledger = self.storage().ledger()
        try:
            records = [r for r in ledger.records(DATASET) if r.id not in self.seen]
        finally:
            ledger.dispose()
        self.seen |= {r.id for r in records}
        batches: dict[str, list[Any]] = {}
        for record in records:
            batches.setdefault(record.batch, []).append(record)
        return batches


def land_case(corpus: Corpus, case: dict[str, Any], day: pd.DataFrame) -> tuple[str, list[Any]]:
    """Land the case's file as the manifest says, run until quiet; its batch and ledger records."""
    target = corpus.landing / case["file"]
    make = case["make"]
    if make == "symlink":
        outside = corpus.outside / case["file"]
        outside.write_bytes(generate.csv_bytes(day))  # valid rows: following the link would publish them
        target.symlink_to(outside)
    elif make == "symlink_system":
        target.symlink_to("/etc/passwd")
    elif make == "growing":
        _land_growing(corpus, target, generate.csv_bytes(day))
    elif make == "changed":
        _land_changed(corpus, target, day, case["first_rows"])
    elif case.get("made_at_test_time"):
        target.write_bytes(generate.make(make, day))
    else:
        shutil.copyfile(generate.HERE / case["file"], target)
    if make != "growing":
        run_until_quiet(corpus.defs, corpus.instance)
    batches = corpus.new_batches()
    assert len(batches) == 1, f"{case['file']}: expected one batch in the ledger, got {sorted(batches)}"
    return next(iter(batches.items()))


def _land_growing(corpus: Corpus, target: Path, content: bytes) -> None:
    """Half the bytes (mid-line), a tick, the rest, a tick: nothing may be taken until it settles."""
    half = len(content) // 2
    target.write_bytes(content[:half])
    tick(corpus.settling, corpus.instance)
    with target.open("ab") as handle:
        handle.write(content[half:])
    tick(corpus.settling, corpus.instance)
    assert corpus.new_batches() == {}, f"{target.name}: taken while it was still being written"
    run_until_quiet(corpus.settling, corpus.instance)


def _land_changed(corpus: Corpus, target: Path, day: pd.DataFrame, first_rows: int) -> None:
    """The first rows are taken and published; then the file is rewritten whole."""
    target.write_bytes(generate.csv_bytes(day.head(first_rows)))
    run_until_quiet(corpus.defs, corpus.instance)
    (first,) = corpus.new_batches().values()
    assert row_counts(first)["rows_published"] == first_rows, describe(first)
    time.sleep(0.01)  # a new mtime, whatever the file system's resolution
    target.write_bytes(generate.csv_bytes(day))
    run_until_quiet(corpus.defs, corpus.instance)


def assert_outcome(
    corpus: Corpus, case: dict[str, Any], batch: str, records: list[Any], day: pd.DataFrame
) -> None:
    name, outcome = case["file"], case["outcome"]
    decision = final_decision(records)
    trail = describe(records)
    if outcome in ("reject", "refused"):
        prefix = "unreadable:" if outcome == "reject" else "refused:"
        assert decision.kind == "reject", f"{name}: expected decision reject ({prefix}), got {trail}"
        reason = str(decision.detail.get("reason", ""))
        assert reason.startswith(prefix), f"{name}: {trail}"
        named = batch in reason or name in reason or outcome == "refused"  # a refusal is ledgered under it
        assert named, f"{name}: the reason does not name the file: {reason}"
        _assert_reason(corpus, case, batch, records)
        rows = row_counts(records, required=False)
        assert rows["rows_published"] == rows["rows_quarantined"] == rows["rows_held"] == 0, trail
        _assert_rejected_run(corpus, case, batch, outcome)
        _assert_one_decision(name, records)
        return
    expected_kinds = PUBLISHED if outcome != "hold" else {"hold"}
    assert decision.kind in expected_kinds, (
        f"{name}: expected {outcome}, got decision {decision.kind}: {trail}"
    )
    _assert_reason(corpus, case, batch, records)
    rows = row_counts(records)
    accounted = rows["rows_published"] + rows["rows_quarantined"] + rows["rows_held"] + rows["rows_rejected"]
    assert rows["rows_in"] == case["rows_in"] == accounted, f"{name}: rows not accounted for: {trail}"
    expected = {
        "publish": (rows["rows_in"], 0, 0),
        "quarantine": (rows["rows_in"] - case.get("quarantined", 0), case.get("quarantined", 0), 0),
        "hold": (0, 0, rows["rows_in"]),
    }[outcome]
    got = (rows["rows_published"], rows["rows_quarantined"], rows["rows_held"])
    assert got == expected, (
        f"{name}: expected {outcome} (published, quarantined, held) {expected}, got {got}: {trail}"
    )
    _assert_run_tagged(corpus, batch, decision.kind, rows)
    if case.get("same_as_source"):
        assert_same_rows(corpus, batch, day)
    if case.get("values"):
        published = corpus.storage().read([DATASET, "published_batch"], batch)
        got = {row: {c: published.loc[row, c] for c in cells} for row, cells in case["values"].items()}
        assert got == case["values"], f"{name}: published values {got}"
    _assert_one_decision(name, records)


def _assert_one_decision(name: str, records: list[Any]) -> None:
    """Every landed file ends with exactly one outcome in the ledger. (A guardrail may overrule
    the policy's plan after acting, so a trail can hold a decision and then a hold.)"""
    kinds = [r.kind for r in records if r.step == "outcome"]
    assert len(kinds) == 1, f"{name}: {len(kinds)} outcomes in the ledger ({kinds}): {describe(records)}"


def _assert_reason(corpus: Corpus, case: dict[str, Any], batch: str, records: list[Any]) -> None:
    reason = _reason_text(corpus, batch, records)
    missing = [part for part in case.get("reason", []) if part.lower() not in reason.lower()]
    assert not missing, f"{case['file']}: the ledger's reason lacks {missing}: {describe(records)}"


def _assert_rejected_run(corpus: Corpus, case: dict[str, Any], batch: str, outcome: str) -> None:
    """A rejected file's run failed once, not retried, its message naming what is wrong; a
    refused file has no run at all."""
    runs = corpus.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": batch}))
    if outcome == "refused":
        assert runs == [], f"{case['file']}: a refused file must not be run"
        _assert_nowhere(corpus, (corpus.landing / case["file"]).readlink())
        return
    assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE], f"{case['file']}: runs {runs}"
    (run,) = runs
    assert run.tags.get("dataops/decision") == "reject", f"{case['file']}: run tags {run.tags}"
    failures = corpus.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    retries = corpus.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert failures and not retries, f"{case['file']}: {len(failures)} failures, {len(retries)} retries"
    message = " ".join(_error_text(f.dagster_event.step_failure_data.error) for f in failures)  # type: ignore[union-attr]
    named = [p for p in case.get("reason", []) if p not in ("unreadable:", "refused:")]
    assert all(p.lower() in message.lower() for p in named), f"{case['file']}: run failure {message!r}"


def _assert_nowhere(corpus: Corpus, target: Path) -> None:
    """The last line of a refused link's target is in no file the suite wrote (storage, the
    instance's runs and events, the ledger)."""
    needle = target.read_bytes().strip().rsplit(b"\n", 1)[-1][:40]
    home = corpus.settings.dagster_home
    leaked = [p for p in home.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert not leaked, f"the content of {target} ({needle!r}) leaked into {leaked}"


def _assert_run_tagged(corpus: Corpus, batch: str, decision: str, rows: dict[str, int]) -> None:
    """The run that decided carries the decision; the published batch's metadata the rows."""
    runs = corpus.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": batch}))
    tagged = [r.tags["dataops/decision"] for r in runs if "dataops/decision" in r.tags]
    assert tagged and tagged[0] == decision, f"{batch}: runs tagged {tagged}, ledger says {decision}"
    key = dg.AssetKey([DATASET, "published_batch"])
    summary = latest_metadata(corpus.instance, key, batch)["outcome"].value
    assert {k: summary[k] for k in ("rows_in", "rows_published", "rows_quarantined", "rows_held")} == {
        k: rows[k] for k in ("rows_in", "rows_published", "rows_quarantined", "rows_held")
    }, f"{batch}: published_batch metadata {summary}"


def assert_same_rows(corpus: Corpus, batch: str, day: pd.DataFrame) -> None:
    """Value for value: encodings decoded, quoting and line endings stripped, numbers parsed."""
    published = corpus.storage().read([DATASET, "published_batch"], batch)
    assert list(published.columns[: len(day.columns)]) == list(day.columns), (
        f"{batch}: {list(published.columns)}"
    )
    got = published[COMPARED].astype(str).reset_index(drop=True)
    expected = day[COMPARED].astype(str).reset_index(drop=True)
    unequal = got.ne(expected).any(axis=1)
    assert not unequal.any(), (
        f"{batch}: published rows differ from the source, first:\n"
        f"{got[unequal].head(3).to_string()}\nexpected:\n{expected[unequal].head(3).to_string()}"
    )


def final_decision(records: list[Any]) -> Any:
    """The batch's last decision (a guardrail's hold comes after the plan's)."""
    decisions = [r for r in records if r.step == "decision"]
    assert decisions, f"no decision in the ledger: {describe(records)}"
    return decisions[-1]


def row_counts(records: list[Any], required: bool = True) -> dict[str, int]:
    outcomes = [r.detail for r in records if r.step == "outcome"]
    detail = outcomes[-1] if outcomes else {}
    assert detail or not required, f"no outcome in the ledger: {describe(records)}"
    keys = ("rows_in", "rows_published", "rows_quarantined", "rows_held", "rows_rejected")
    return {key: int(detail.get(key) or 0) for key in keys}


def _reason_text(corpus: Corpus, batch: str, records: list[Any]) -> str:
    """Everything the ledger says about the batch, and the reasons stored beside removed rows."""
    texts = [json.dumps(r.detail, ensure_ascii=False) for r in records]
    for asset in ("quarantine", "held_batch"):
        try:
            frame = corpus.storage().read([DATASET, asset], batch)
        except FileNotFoundError:
            continue
        if schemasense.REASON_COLUMN in frame:
            texts += [str(v) for v in frame[schemasense.REASON_COLUMN].unique()[:20]]
    return "\n".join(texts)


def describe(records: list[Any]) -> str:
    return "; ".join(f"{r.step} {r.kind} {json.dumps(r.detail, ensure_ascii=False)[:300]}" for r in records)


def _error_text(error: Any) -> str:
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return " ".join(parts)
