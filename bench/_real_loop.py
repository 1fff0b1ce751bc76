"""Landing real batches, declaring them in a suite.yaml, and running the loop over them.

Two engines produce the same JSON rows, one per batch: :func:`run_cli` runs ``dataops run
--json`` in a fresh instance; :func:`run_library` judges each batch with the live loop's own
code in memory (``dataops backtest``, the stand-in, in seconds).
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
    """The stand-in: ``dataops backtest`` over each declared dataset, in memory, with the dataset's
    declaration and policy; the backtest judges with the live loop's own code (``suite.loop`` and
    :func:`datareflex.handle_batch`), and a test shows it decides as the live loop does."""
    from suite.cli.backtest import backtest
    from suite.config import load_datasets

    declared = {d.name: d for d in load_datasets(config, home)}
    return [{"dataset": d.name, **row} for d in datasets for row in backtest(declared[d.name])]
