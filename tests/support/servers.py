"""The suite as a Dagster user runs it: ``dagster-webserver`` and ``dagster-daemon run`` as separate
processes, optionally over a throwaway PostgreSQL server. Used by the live tests and
``bench/loop_latency.py``; nothing in the suite's loop imports it.

Each server starts in its own session (``setsid``) and stops by process group. On a fresh
``DAGSTER_HOME`` the daemon starts only once the webserver answers ``/server_info``: started
together, both try to create the storage tables and one of them crashes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from suite.storage.sqlite_instance import storage_yaml

REPO = Path(__file__).resolve().parents[2]  # tests/support/servers.py → the repository
WORKSPACE = REPO / "workspace.yaml"
POSTGRES_DAGSTER_YAML = REPO / "deploy" / "postgres" / "dagster.yaml"
CHROMIUM = Path("/usr/lib/chromium/chromium")
POSTGRES_ROOT = Path("/usr/lib/postgresql")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
)
POSTGRES_USER = "dataops"
POSTGRES_DB = "dataops"

_INSTANCE_YAML = """\
# Written by suite.servers for a throwaway instance.
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: {max_concurrent_runs}
  dequeue_interval_seconds: 1
  dequeue_use_threads: true  # launch queued runs side by side: each launch waits for a process to start
  dequeue_num_workers: 4
sensors:
  use_threads: true
  num_workers: 4
run_monitoring:
  enabled: true
  start_timeout_seconds: {start_timeout_seconds}
  poll_interval_seconds: {poll_interval_seconds}
  max_resume_run_attempts: 0
"""


IN_PROGRESS = """
query InProgress { runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED, CANCELING]}) {
  ... on Runs { count } } }"""
"""The README's drain check: runs queued or in flight."""


class ServiceMissing(RuntimeError):
    """A program the live tests need (PostgreSQL, Chromium) is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, ready: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Call ``ready`` until it returns something truthy; raise ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def write_instance_yaml(
    dagster_home: Path,
    postgres: bool = False,
    max_concurrent_runs: int = 4,
    monitoring_seconds: int = 10,
    start_timeout_seconds: int = 60,
) -> Path:
    """A ``dagster.yaml`` for a throwaway instance: SQLite as ``dataops demo`` writes it, or
    PostgreSQL from ``deploy/postgres``. Run monitoring is on either way, polling every
    ``monitoring_seconds``; a run not started after ``start_timeout_seconds`` is failed (and
    asked for again by the sensor that made it)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    text = _INSTANCE_YAML.format(
        max_concurrent_runs=max_concurrent_runs,
        start_timeout_seconds=start_timeout_seconds,
        poll_interval_seconds=monitoring_seconds,
    )
    config = yaml.safe_load(text)
    if postgres:  # its storage; the monitoring above holds
        config = {**yaml.safe_load(POSTGRES_DAGSTER_YAML.read_text()), **config}
    else:  # what `dataops demo` writes
        config = {**yaml.safe_load(storage_yaml(dagster_home)), **config}
    path = dagster_home / "dagster.yaml"
    path.write_text(
        "# Written by tests/support/servers.py for a throwaway instance.\n" + yaml.safe_dump(config)
    )
    return path


# ---------------------------------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL server's ``bin`` folder."""
    found = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ServiceMissing(
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT} (apt install postgresql)"
        )
    return found[-1].parent


class Postgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1.

    ``initdb`` refuses to run as root, so as root the cluster belongs to Debian's ``postgres``
    user (``runuser``); as anyone else it belongs to them. Either way the superuser is
    ``dataops`` with trust authentication on the loopback only.
    """

    def __init__(self, folder: Path, port: int, bin_dir: Path) -> None:
        self.folder, self.port, self.bin_dir = folder, port, bin_dir
        self.data = folder / "data"

    @classmethod
    def start(cls) -> Postgres:
        bin_dir = postgres_bin()
        # Not under pytest's tmp_path: that is private to the current user, and as root the
        # cluster's owner must be able to reach it.
        folder = Path(tempfile.mkdtemp(prefix="dataops-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        server = cls(folder, free_port(), bin_dir)
        server._run(
            "initdb", "-D", str(server.data), "-U", POSTGRES_USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        server.resume()
        server._run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", POSTGRES_USER, POSTGRES_DB)
        return server

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg2, as Dagster's storage uses it) of the ``dataops`` database."""
        return f"postgresql+psycopg2://{POSTGRES_USER}@127.0.0.1:{self.port}/{POSTGRES_DB}"

    @property
    def env(self) -> dict[str, str]:
        """The variables ``deploy/postgres/dagster.yaml`` reads, and the ledger's URL."""
        return {
            "DATAOPS_PG_HOST": "127.0.0.1",
            "DATAOPS_PG_PORT": str(self.port),
            "DATAOPS_PG_USER": POSTGRES_USER,
            "DATAOPS_PG_DB": POSTGRES_DB,
            "DATAOPS_LEDGER_URL": self.url,
        }

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
        )

    def pause(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected) but keep its data."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def restart(self, down_for: float = 0.0) -> None:
        self.pause()
        time.sleep(down_for)
        self.resume()

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.pause()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


# -------------------------------------------------------------------------------- webserver, daemon


class DagsterServers:
    """``dagster-webserver`` and ``dagster-daemon run`` over ``env['DAGSTER_HOME']``.

    Logs go to ``log_dir``; ``stop`` ends both process groups (and any group left over by a
    daemon restart).
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path, workspace: Path = WORKSPACE) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.workspace = workspace
        self.port = free_port()
        self.webserver: subprocess.Popen[bytes] | None = None
        self.daemon: subprocess.Popen[bytes] | None = None
        self._groups: dict[int, subprocess.Popen[bytes]] = {}
        self._daemon_starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> DagsterServers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.webserver = self._spawn(
            "webserver",
            ["dagster-webserver", "-w", str(self.workspace), "-h", "127.0.0.1", "-p", str(self.port)],
        )
        wait_for("the webserver's /server_info", self._answers, timeout)
        self.start_daemon()
        return self

    def start_daemon(self) -> None:
        self._daemon_starts += 1
        self.daemon = self._spawn(
            f"daemon{self._daemon_starts}", ["dagster-daemon", "run", "-w", str(self.workspace)]
        )

    def stop_daemon(self, timeout: float = 60) -> None:
        """Stop the daemon itself, leaving runs it launched to finish: as a redeploy would."""
        if self.daemon is None:
            return
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(timeout)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        self.daemon = None

    def restart_daemon(self) -> None:
        self.stop_daemon()
        self.start_daemon()

    def signal_daemon_group(self, sig: signal.Signals, timeout: float = 60) -> None:
        """Send ``sig`` to the daemon's whole process group (its code server and the run workers
        it launched), as a service manager stopping it would; wait until the group is gone
        (SIGKILL whatever is left after ``timeout``)."""
        if self.daemon is None:
            return
        process, self.daemon = self.daemon, None
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        if not _wait_group_gone(process.pid, process, timeout):
            stop_group(process.pid, process, timeout=5)

    def cli(self, *args: str, timeout: float = 120) -> str:
        """``dagster ARGS -w workspace.yaml`` on this instance; its output (an error if it fails)."""
        command = [str(Path(sys.executable).parent / "dagster"), *args, "-w", str(self.workspace)]
        done = subprocess.run(
            command, env=self.env, cwd=self.workspace.parent, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def runs_in_progress(self) -> int:
        """How many runs are queued, starting, started or canceling (the README's drain check)."""
        found = self.graphql(IN_PROGRESS)["runsOrError"]
        return int(found["count"])

    def stop(self) -> None:
        for group, process in reversed(self._groups.items()):
            stop_group(group, process)
        self._groups.clear()
        self.webserver = self.daemon = None

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A raw GraphQL query, for what ``DagsterGraphQLClient`` has no method for."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"GraphQL answered {exc.code}: {exc.read()[:2000]!r}") from exc
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def client(self) -> Any:
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient("127.0.0.1", port_number=self.port)

    def _answers(self) -> bool:
        if self.webserver is not None and self.webserver.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited: see {self.log_dir / 'webserver.log'}")
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        command[0] = str(Path(sys.executable).parent / command[0])
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.workspace.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # setsid: a process group of its own, stopped as one
        )
        log.close()
        self._groups[process.pid] = process
        return process


def _wait_group_gone(group: int, leader: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether every process of ``group`` ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader.poll()  # reap the leader, or the group never looks empty
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def stop_group(group: int, leader: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after ``timeout`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        if _wait_group_gone(group, leader, timeout):
            return


def start_orders_loop(
    home: Path,
    *,
    interval: int = 5,
    intake: str = "",
    postgres: Postgres | None = None,
    **instance: Any,
) -> DagsterServers:
    """Both servers on a new data home ``home`` that declares the sample orders (sensors every
    ``interval`` s, ``intake`` a YAML flow mapping such as ``{stable_seconds: 0}``); ``instance``
    goes to :func:`write_instance_yaml`."""
    (home / "landing").mkdir(parents=True, exist_ok=True)
    config = home / "suite.yaml"
    config.write_text(
        "datasets:\n  orders:\n    landing: landing\n    keys: [order_id]\n"
        f"    policy: {REPO / 'suite' / 'config' / 'orders_policy.yaml'}\n"
        f"    sensor_interval_seconds: {interval}\n" + (f"    intake: {intake}\n" if intake else "")
    )
    env = {
        "DATAOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "DATAOPS_CONFIG": str(config),
        **(postgres.env if postgres else {}),
    }
    write_instance_yaml(home / "dagster_home", postgres=postgres is not None, **instance)
    servers = DagsterServers(env, home / "logs")
    try:
        servers.start()
    except BaseException:
        servers.stop()
        raise
    return servers
