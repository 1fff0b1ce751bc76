"""Run Evidently's ``DataDriftPreset`` in its own virtual environment, many reports per call.

Evidently never enters the project's environment (0.7.23 does not import on pandas 3, and its
dependencies are not ours): ``ensure_peer()`` creates ``bench/.peers/evidently`` with
``evidently==0.7.23``, ``pandas<3`` and ``pyarrow`` the first time, and reuses it afterwards.

The benchmarks write each sample as a Parquet file in a temporary folder and hand a list of jobs
(reference file, current file, column kinds) to one subprocess, which runs every report and
answers in JSON: the dataset verdict, each column's verdict with its test, threshold and score,
and the seconds (wall clock and CPU) each report took. Batching avoids paying Evidently's
start-up (a few seconds of imports) once per report. A reference file is read once and kept
while jobs reuse it.

The legacy API is used because it gives per-column verdicts:
``evidently.legacy.report.Report(metrics=[DataDriftPreset()])``, then
``as_dict()["metrics"][i]["result"]["drift_by_columns"]``.

This file is both the runner (imported by the benchmarks, standard library only) and the worker
(``bench/.peers/evidently/bin/python bench/_evidently.py jobs.json results.json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PEER = Path(__file__).resolve().parent / ".peers" / "evidently"
REQUIREMENTS = ("evidently==0.7.23", "pandas<3", "pyarrow")


def peer_python() -> Path:
    return PEER / "bin" / "python"


def ensure_peer() -> Path:
    """The peer venv's interpreter, created and installed only when missing."""
    python = peer_python()
    if python.exists() and _peer_ready(python):
        return python
    if not python.exists():
        print(f"[peer] creating {PEER} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER)], check=True)
    print(f"[peer] installing {' '.join(REQUIREMENTS)} (once) ...", file=sys.stderr, flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
    )
    if not _peer_ready(python):
        raise RuntimeError(f"evidently does not import in {PEER}")
    return python


def _peer_ready(python: Path) -> bool:
    probe = "import evidently, pandas, pyarrow; from evidently.legacy.report import Report"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def peer_version() -> str:
    """``evidently X (pandas Y, own venv PATH)``, creating the venv if needed."""
    probe = "import evidently, pandas; print(evidently.__version__, pandas.__version__)"
    out = subprocess.run([str(ensure_peer()), "-c", probe], capture_output=True, text=True, check=True)
    evidently, pandas = out.stdout.split()
    where = PEER.relative_to(Path.cwd()) if PEER.is_relative_to(Path.cwd()) else PEER
    return f"evidently {evidently} (pandas {pandas}, own venv {where})"


def job(
    job_id: str,
    reference: str | os.PathLike[str],
    current: str | os.PathLike[str],
    numerical: Sequence[str],
    categorical: Sequence[str],
) -> dict[str, Any]:
    """One report to run: two Parquet files and the kinds of the columns to compare."""
    return {
        "id": job_id,
        "reference": str(reference),
        "current": str(current),
        "numerical": list(numerical),
        "categorical": list(categorical),
    }


class PeerRun:
    """A running worker: ``start()`` returns at once, ``results()`` waits for the answers.

    Starting the worker before computing our own side lets Evidently use the second core.
    """

    def __init__(self, jobs: Sequence[dict[str, Any]], folder: str | os.PathLike[str], name: str = "jobs"):
        self.folder = Path(folder)
        self.jobs_file = self.folder / f"{name}.json"
        self.results_file = self.folder / f"{name}.results.json"
        self.jobs_file.write_text(json.dumps({"jobs": list(jobs)}))
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> PeerRun:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(ensure_peer()), __file__, str(self.jobs_file), str(self.results_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def results(self) -> dict[str, Any]:
        """``{"reports": {job_id: report}, "wall_seconds": seconds from start() to the answer}``."""
        assert self.process is not None, "start() first"
        _, stderr = self.process.communicate()
        if self.process.returncode != 0:
            tail = stderr.decode(errors="replace")[-3000:]
            raise RuntimeError(f"the Evidently worker failed ({self.process.returncode}):\n{tail}")
        answer: dict[str, Any] = json.loads(self.results_file.read_text())
        answer["wall_seconds"] = time.perf_counter() - self.started
        return answer


def run(jobs: Sequence[dict[str, Any]], folder: str | os.PathLike[str], name: str = "jobs") -> dict[str, Any]:
    """Run ``jobs`` in one worker and wait for it."""
    return PeerRun(jobs, folder, name).start().results()


# ---------------------------------------------------------------- worker (runs in the peer venv)


def _rss(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process, in bytes (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _worker(jobs_path: str, results_path: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    from evidently.legacy.report import Report

    jobs = json.loads(Path(jobs_path).read_text())["jobs"]
    frames: dict[str, pd.DataFrame] = {}
    reports: dict[str, Any] = {}
    peaks: list[int] = []  # per job: VmHWM over the RSS before the report (data already read)
    for spec in jobs:
        # keep only the files this job and the next need: references are reused, currents are not
        for path in [p for p in frames if p not in (spec["reference"], spec["current"])]:
            del frames[path]
        for path in (spec["reference"], spec["current"]):
            if path not in frames:
                frames[path] = pd.read_parquet(path)
        columns = spec["numerical"] + spec["categorical"]
        reference, current = frames[spec["reference"]][columns], frames[spec["current"]][columns]
        mapping = ColumnMapping(
            numerical_features=spec["numerical"], categorical_features=spec["categorical"]
        )
        rss_before = _rss("VmRSS")
        peak_measured = _reset_peak()
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            report = Report(metrics=[DataDriftPreset()])
            report.run(reference_data=reference, current_data=current, column_mapping=mapping)
            metrics = report.as_dict()["metrics"]
        except Exception as error:  # reported per job: one failing sample must not hide the rest
            reports[spec["id"]] = {"error": repr(error), "seconds": time.perf_counter() - start}
            continue
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if peak_measured:
            peaks.append(_rss("VmHWM") - rss_before)
        table = next(m["result"] for m in metrics if "drift_by_columns" in m.get("result", {}))
        by_column = {
            name: {
                "stattest": c.get("stattest_name"),
                "threshold": c.get("stattest_threshold"),
                "score": c.get("drift_score"),
                "drifted": bool(c.get("drift_detected")),
                "type": c.get("column_type"),
            }
            for name, c in table["drift_by_columns"].items()
        }
        reports[spec["id"]] = {
            "dataset_drift": bool(table.get("dataset_drift")),
            "drifted_columns": [n for n, c in by_column.items() if c["drifted"]],
            "columns": by_column,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "rss_before_bytes": rss_before,
            "peak_over_before_bytes": peaks[-1] if peak_measured else None,
            "peak_rss_bytes": _rss("VmHWM"),
        }
    Path(results_path).write_text(json.dumps({"reports": reports}))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
