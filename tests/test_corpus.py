"""The bad-input corpus (issue 13): every file gets its declared outcome, and no file poisons
the contract.

One dataset of a pizza shop's real daily sales (``tests/corpus/generate.py``) is declared in a
user's suite.yaml and trained on three valid days. Then each case of ``tests/corpus/outcomes.yaml``
is landed alone, in order, and the loop runs until quiet (the daemon's loop, in process). The
case must end with the declared outcome in the ledger (its final decision, its rows and a reason
naming what was wrong) and in the run (the decision tag, the failure message of a rejected file,
the published batch's metadata). A valid day is landed after every case and must be published
whole: a bad file never changes what the next good file is judged by. Only a decision that
publishes may change the contract's version, and each file gets exactly one ledger decision.

One instance serves every case (module-scoped). The 46 cases take about 2.5 minutes of CPU (160 s
user time measured on 2 December 2026; 6 minutes of wall time on a 2-core machine at load 9).
Run one case with ``-k``: the fixture trains first, so any case runs alone.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config import IntakeSettings, Settings
from tests.corpus import generate
from tests.corpus.harness import (
    DATASET,
    PUBLISHED,
    Corpus,
    assert_outcome,
    assert_same_rows,
    describe,
    final_decision,
    land_case,
    row_counts,
)
from tests.support.declared import declare

CASES: list[dict[str, Any]] = generate.manifest()["cases"]
SHM = "/dev/shm"
WORKDIR = SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None
"""Dagster's SQLite storage syncs every event to disk: in memory the corpus runs faster."""
SETTLE_SECONDS = 5.0
"""``intake.stable_seconds`` for the growing file (every other case takes files at once): long
enough that a slow tick on a loaded machine cannot take the first half."""

SUITE_YAML = """\
datasets:
  pizza:
    description: A pizza shop's sales, one file a day (gt::pizzaplace, 2015).
    landing: in/pizza
    keys: [rownames]
    training_batches: 3
    policy: {policy}
    sensor_interval_seconds: 1
    columns:
      name: {{categories: open}}      # new pizzas join the menu
      size: {{pattern: "S|M|L|XL|XXL"}}                   # the menu's sizes, nothing else
      type: {{pattern: "classic|chicken|supreme|veggie"}}  # the menu's four types
    read: {{max_line_bytes: 16384, max_fields: 64, max_memory_mb: 16}}
    intake: {{stable_seconds: 0}}
"""


@pytest.fixture(scope="module")
def corpus() -> Iterator[Corpus]:
    root = Path(tempfile.mkdtemp(prefix="corpus-", dir=WORKDIR))
    try:
        with pytest.MonkeyPatch.context() as patch:
            policy = generate.HERE / "policy.yaml"
            home = declare(patch, root, root / "suite.yaml", SUITE_YAML.format(policy=policy))
            settings = Settings.from_env()
            home.mkdir(parents=True)
            settings.datasets[0].landing.mkdir(parents=True)
            (root / "outside").mkdir()
            slow = dataclasses.replace(
                settings.datasets[0], intake=IntakeSettings(stable_seconds=SETTLE_SECONDS)
            )
            with dg.instance_for_test(temp_dir=str(home)) as instance:
                state = Corpus(
                    settings,
                    instance,
                    build_definitions(settings),
                    build_definitions(dataclasses.replace(settings, datasets=(slow,))),
                    root / "outside",
                )
                _train(state)
                yield state
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _train(corpus: Corpus) -> None:
    for date, day in generate.days()[: generate.TRAINING]:
        (corpus.landing / f"pizza_{date}.csv").write_bytes(generate.csv_bytes(day))
    run_until_quiet(corpus.defs, corpus.instance)
    assert corpus.storage().contracts().latest(DATASET) is not None, "the training window learned no contract"
    trained = corpus.new_batches()
    assert len(trained) == generate.TRAINING, f"training batches in the ledger: {sorted(trained)}"


def test_the_corpus_holds_every_case_small_and_as_generated() -> None:
    committed = [c for c in CASES if not c.get("made_at_test_time")]
    assert len(CASES) >= 30 and len({c["file"] for c in CASES}) == len(CASES)
    assert {c["outcome"] for c in CASES} == {"publish", "quarantine", "hold", "reject", "refused"}
    for index, case in enumerate(CASES):
        if case in committed:
            path = generate.HERE / case["file"]
            assert path.stat().st_size < 50_000, f"{path.name}: committed corpus files stay under 50 KB"
            assert path.read_bytes() == generate.make(case["make"], generate.day_of_case(index)[1]), (
                f"{path.name} differs from what generate.py makes: run python -m tests.corpus.generate"
            )
        assert case["why"] and (case["rows_in"] is None) == (case["outcome"] in ("reject", "refused"))
    kept = {p.name for p in generate.HERE.iterdir() if p.suffix.lower() in (".csv", ".parquet")}
    assert kept == {c["file"] for c in committed}, "every corpus file is in outcomes.yaml, and only those"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["file"] for c in CASES])
def test_each_corpus_file_gets_its_outcome_and_the_next_valid_file_is_published_whole(
    corpus: Corpus, index: int
) -> None:
    case = CASES[index]
    _, day = generate.day_of_case(index)
    contract = corpus.storage().contracts().latest(DATASET)
    started = time.monotonic()
    batch, records = land_case(corpus, case, day)
    elapsed = time.monotonic() - started
    assert elapsed < case.get("within_seconds", 600), f"{case['file']}: took {elapsed:.0f} s"
    assert_outcome(corpus, case, batch, records, day)
    after = corpus.storage().contracts().latest(DATASET)
    if case["outcome"] not in ("publish", "quarantine"):  # only a decision that publishes evolves it
        changed = f"{case['file']}: contract v{contract.version} became v{after.version}"
        assert after.version == contract.version, changed
    _the_next_valid_day_is_published_whole(corpus, case, index)


def _the_next_valid_day_is_published_whole(corpus: Corpus, case: dict[str, Any], index: int) -> None:
    date, valid = generate.valid_after(index)
    name = f"pizza_{date}.csv"
    (corpus.landing / name).write_bytes(generate.csv_bytes(valid))
    run_until_quiet(corpus.defs, corpus.instance)
    after = corpus.new_batches()
    assert list(after) == [name], f"after {case['file']}: the valid {name} gave batches {sorted(after)}"
    rows, decision = row_counts(after[name]), final_decision(after[name]).kind
    assert decision in PUBLISHED and rows["rows_published"] == rows["rows_in"] == len(valid), (
        f"after {case['file']}: the valid {name} was not published whole: {describe(after[name])}"
    )
    assert_same_rows(corpus, name, valid)
