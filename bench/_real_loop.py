"""Landing real batches, declaring them in a suite.yaml, and running the loop over them.

Two engines produce the same JSON rows, one per batch: :func:`run_cli` runs ``dataops run
--json`` in a fresh instance; :func:`run_library` judges each batch with the live loop's own
pieces in memory (the stand-in, in seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import datareflex
import driftguard
import schemasense

ROOT = Path(__file__).resolve().parent.parent
POLICY = Path(__file__).resolve().parent / "real_data" / "plain_policy.yaml"


@dataclass(frozen=True)
class Landed:
    """One declared dataset of a run: its name in suite.yaml and the files landed for it."""

    name: str
    training: int
    keys: tuple[str, ...]
    files: tuple[tuple[str, int], ...]
    """``(file name, rows)`` in landing order."""


def land(
    home: Path,
    name: str,
    batches: Sequence[tuple[str, pd.DataFrame]],
    training: int,
    keys: Iterable[str] = (),
) -> Landed:
    """Write each batch as ``landing/<name>/<name>_<label>.csv`` under ``home``."""
    folder = home / "landing" / name
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for label, frame in batches:
        file = f"{name}_{label}.csv"
        frame.to_csv(folder / file, index=False)
        files.append((file, len(frame)))
    return Landed(name, training, tuple(keys), tuple(files))


def declare(home: Path, datasets: Sequence[Landed]) -> Path:
    """Write ``suite.yaml`` and ``plain_policy.yaml`` into ``home``; return the YAML's path."""
    (home / "plain_policy.yaml").write_text(POLICY.read_text())
    lines = ["datasets:"]
    for d in datasets:
        lines += [
            f"  {d.name}:",
            f"    landing: landing/{d.name}/*.csv",
            "    format: csv",
            f"    training_batches: {d.training}",
            *([f"    keys: [{', '.join(d.keys)}]"] if d.keys else []),
            "    policy: plain_policy.yaml",
        ]
    config = home / "suite.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


class LoopError(RuntimeError):
    """The loop could not be run at all (not: it ran and judged badly)."""


def run_cli(home: Path, config: Path) -> list[dict[str, Any]]:
    """``dataops run --json`` over the declared datasets, in a fresh instance under ``home``."""
    env = {
        **os.environ,
        "DATAOPS_HOME": str(home),
        "DATAOPS_CONFIG": str(config),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "suite", "run", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=home, check=False)
    if done.returncode != 0:
        raise LoopError(f"`dataops run --json` exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    try:
        rows = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise LoopError(f"`dataops run --json` printed no JSON list: {done.stdout[-500:]!r}") from exc
    return list(rows)


def run_library(home: Path, config: Path, datasets: Sequence[Landed]) -> list[dict[str, Any]]:
    """The stand-in: each declared dataset judged with the live loop's own pieces, in memory.

    As the suite's assets do: the contract learned from the training files with the declared
    options (:mod:`suite.loop`), settled on each batch's dates, drift scored against the training
    profile with the contract's identifiers left out, Page–Hinkley over the batch metrics, then
    :func:`datareflex.handle_batch` with the batch's date (from its file name) as its event time;
    a new contract version carries over once a batch was published under it.
    """
    from suite.config import load_datasets
    from suite.loop import drift_detector, event_time, imputer_rows, learn_contract, read_policy
    from suite.storage.files import read_batch

    declared = {d.name: d for d in load_datasets(config, home)}
    rows: list[dict[str, Any]] = []
    learned: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for d in datasets:
        dataset = declared[d.name]
        paths = sorted(dataset.landing.glob("*.csv"))
        frames = [read_batch(path) for path in paths]
        training = frames[: d.training]
        # Copies of a dataset share their training files: learn from them once.
        same = (d.keys, *(path.read_bytes() for path in paths[: d.training]))
        if same not in learned:
            reference = driftguard.profile(pd.concat(training, ignore_index=True))
            learned[same] = (
                learn_contract(dataset, training),
                reference,
                imputer_rows(training),
                [driftguard.batch_metrics(driftguard.profile(f, like=reference)) for f in training],
            )
        contract, reference, known_good, metrics = learned[same]
        history = list(metrics)
        policy = read_policy(dataset)
        ledger = datareflex.Ledger("sqlite://")
        for index, (path, frame) in enumerate(zip(paths, frames, strict=True)):
            if index < d.training:
                rows.append(_row(d.name, path.name, datareflex.Outcome.untouched(frame), None, []))
                continue
            settled = schemasense.settle(contract, frame)
            batch_profile = driftguard.profile(frame, like=reference)
            report = drift_detector(dataset, settled).fit(reference).score(batch_profile)
            history.append(driftguard.batch_metrics(batch_profile))
            now = len(history) - 1
            jumped = sorted(
                m for m, found in driftguard.watch(history[-61:]).items() if min(now, 60) in found
            )
            outcome = datareflex.handle_batch(
                frame,
                contract=settled,
                policy=policy,
                ledger=ledger,
                dataset=d.name,
                batch_id=path.name,
                drift_report=report,
                anomalies=jumped,
                reference=f"{d.name}/reference_profile",
                reference_rows=known_good,
                reference_profile=reference,
                event_time=event_time(path.name, None),
            )
            if outcome.contract is not None and len(outcome.published):
                contract = outcome.contract
            examples = {
                (v.column, v.rule.value): list(v.examples)[:3] for v in settled.validate(frame).violations
            }
            rows.append(_row(d.name, path.name, outcome, report, list(outcome.signals), examples))
        ledger.dispose()
    return rows


def _row(
    dataset: str,
    batch: str,
    outcome: datareflex.Outcome,
    report: driftguard.DriftReport | None,
    signals: list[datareflex.Signal],
    examples: dict[tuple[str, str], list[Any]] | None = None,
) -> dict[str, Any]:
    """The JSON row ``dataops run --json`` prints for one batch (plus examples of violations)."""
    examples = examples or {}
    return {
        "dataset": dataset,
        "batch": batch,
        "rows_in": outcome.rows_in,
        "rows_published": len(outcome.published),
        "rows_quarantined": len(outcome.quarantined),
        "rows_held": len(outcome.held),
        "drifted_columns": list(report.drifted_columns) if report is not None else [],
        "schema_changes": datareflex.schema_changes(signals),
        "decision": outcome.decision.value if report is not None else "publish",
        "actions": list(outcome.actions),
        "verified": outcome.verified,
        "signals": [
            {
                "kind": s.kind.value,
                "column": s.column,
                "rule": s.rule,
                "scope": "batch" if s.batch_level else "row",
                "count": s.count,
                "detail": s.detail,
                "examples": [str(e) for e in examples.get((s.column, s.rule), [])],
            }
            for s in signals
        ],
    }
