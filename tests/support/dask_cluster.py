"""A Dask cluster as processes: ``dask scheduler`` and ``dask worker`` s, as a deployment runs them.

The scheduler picks a free port (``--port 0``) and writes its address to a scheduler file; each
process starts in its own session (``start_new_session=True``) and stops by its process group,
so the worker processes a worker spawns (its nanny's child) go with it. Used by
``tests/test_scale.py`` and ``bench/scale.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.servers import stop_group

REPO = Path(__file__).resolve().parents[2]


def _dask(*args: str) -> list[str]:
    """``dask ARGS`` run by this interpreter (the ``dask`` script of the same environment)."""
    script = Path(sys.executable).with_name("dask")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "dask", *args]


class DaskCluster:
    """A scheduler and ``workers`` single-threaded worker processes on 127.0.0.1.

    ``with DaskCluster(workers=2) as cluster: Client(cluster.address)``.
    """

    def __init__(self, workers: int = 2, timeout: float = 60) -> None:
        self.workers = workers
        self.timeout = timeout
        self.folder = Path(tempfile.mkdtemp(prefix="dask-cluster-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def __enter__(self) -> DaskCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> DaskCluster:
        scheduler_file = self.folder / "scheduler.json"
        self._spawn(
            "scheduler",
            _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                  "--scheduler-file", str(scheduler_file)),
        )  # fmt: skip
        self.address = self._wait(lambda: json.loads(scheduler_file.read_text())["address"], "scheduler file")
        for index in range(self.workers):
            self._spawn(
                f"worker-{index}",
                _dask("worker", self.address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                      "--no-dashboard", "--local-directory", str(self.folder / f"worker-{index}")),
            )  # fmt: skip
        self._wait(self._all_workers, f"{self.workers} workers")
        return self

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes (the nannies' children and the nannies)."""
        return [p.pid for p in self.processes[1:]]

    def worker_addresses(self) -> list[str]:
        """The workers' addresses, as the scheduler knows them (and as tasks record them)."""
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            return sorted(client.scheduler_info(n_workers=-1)["workers"])

    def stop(self) -> None:
        """Stop every process group: SIGTERM, then SIGKILL what is left after 10 s."""
        for process in reversed(self.processes):
            stop_group(process.pid, process, timeout=10)
        self.processes.clear()

    def _spawn(self, name: str, command: list[str]) -> None:
        paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(Path(p).resolve()) for p in paths)}
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - open while the process runs
        self.processes.append(
            subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.folder,
                env=env,
            )
        )
        log.close()

    def _all_workers(self) -> bool:
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"]) >= self.workers or None  # type: ignore[return-value]

    def _wait(self, ready, what: str):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    logs = "\n".join(p.read_text()[-2000:] for p in self.folder.glob("*.log"))
                    raise RuntimeError(
                        f"a dask process exited ({process.args}) while waiting for {what}:\n{logs}"
                    )
            try:
                value = ready()
            except (OSError, ValueError, KeyError, TimeoutError):
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"dask cluster: no {what} after {self.timeout} s (logs in {self.folder})")
