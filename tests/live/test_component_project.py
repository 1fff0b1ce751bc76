"""The suite in a user's own Dagster project: a fresh ``dg`` project made by ``create-dagster``,
the component scaffolded into it with ``dg scaffold defs``, checked by ``dg check defs`` and served
by ``dg dev`` (the real webserver and daemon); files land and the loop publishes, quarantines and
remediates them exactly as the standalone suite does.

Nothing is installed into the project: it runs on the environment that has this package, as a
user's would after ``pip install cybernetic-dataops``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.servers import DagsterServers, wait_for, write_instance_yaml

from .loop import LiveLoop
from .test_live_loop import assert_loop_outcomes

BIN = Path(sys.executable).parent
COMPONENT = "suite.component.DataOpsDataset"


def dg(project: Path, env: dict[str, str], *args: str, stderr: bool = True) -> str:
    """``dg ARGS`` in ``project``; its output (an error with the output if it fails)."""
    done = subprocess.run(
        [str(BIN / "dg"), *args],
        cwd=project,
        env={**env, "PYTHONPATH": str(project / "src")},  # the project, not installed
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"dg {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout + (done.stderr if stderr else "")


class DgDev(DagsterServers):
    """``dg dev`` in a project: the webserver and the daemon as one process group."""

    def start(self, timeout: float = 180) -> DgDev:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.webserver = self._spawn("dg-dev", ["dg", "dev", "--port", str(self.port)])
        wait_for("dg dev's /server_info", self._answers, timeout)
        return self


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh project ``shop`` with the component scaffolded as dataset ``orders``."""
    home = tmp_path_factory.mktemp("dg-home")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0",
        "DATAOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    env.pop("DATAOPS_CONFIG", None)
    subprocess.run(
        [str(BIN / "create-dagster"), "project", "shop", "--no-uv-sync"],
        cwd=home,
        env=env,
        check=True,
        capture_output=True,
    )
    shop = home / "shop"
    assert COMPONENT in dg(shop, env, "list", "components")
    dg(shop, env, "scaffold", "defs", COMPONENT, "orders")
    dg(shop, env, "scaffold", "defs", COMPONENT, "payments")  # a second dataset: they share resources
    defs_yaml = shop / "src" / "shop" / "defs" / "orders" / "defs.yaml"
    declared = yaml.safe_load(defs_yaml.read_text())
    # what a user edits: where the files land, the key, how often the sensors look
    declared["attributes"].update(landing=str(home / "landing"), keys=["order_id"], sensor_interval_seconds=5)
    defs_yaml.write_text(yaml.safe_dump(declared, sort_keys=False))
    write_instance_yaml(home / "dagster_home")
    yield shop, env


def test_dg_check_defs_names_the_line_of_a_wrong_attribute(project: tuple[Path, dict[str, str]]) -> None:
    shop, env = project
    defs_yaml = shop / "src" / "shop" / "defs" / "orders" / "defs.yaml"
    good = defs_yaml.read_text()
    assert "All definitions loaded successfully" in dg(shop, env, "check", "defs")
    listed = json.loads(dg(shop, env, "list", "defs", "--json", stderr=False))
    groups = {asset["group_name"] for asset in listed["assets"]}
    assert {"orders", "payments"} <= groups
    try:
        defs_yaml.write_text(good.replace("training_batches: 3", "training_batches: 0"))
        with pytest.raises(AssertionError) as wrong:
            dg(shop, env, "check", "defs")
        line = next(n for n, text in enumerate(good.splitlines(), 1) if "training_batches" in text)
        said = str(wrong.value)  # by dg check yaml, or (a second component of the type) at load
        assert f"defs.yaml:{line}" in said
        assert "0 is less than the minimum of 1" in said or "greater than or equal to 1" in said
        defs_yaml.write_text(good.replace("policy: policy.yaml", "policy: nope.yaml"))
        with pytest.raises(AssertionError) as missing:
            dg(shop, env, "check", "defs")
        assert "attributes.policy: no such file" in str(missing.value)
    finally:
        defs_yaml.write_text(good)


def test_the_loop_runs_in_a_fresh_project_under_dg_dev(project: tuple[Path, dict[str, str]]) -> None:
    shop, env = project
    home = Path(env["DATAOPS_HOME"])
    servers = DgDev(env, home / "logs", workspace=shop / "pyproject.toml").start()
    try:
        loop = LiveLoop(home, servers)
        loop.run()
        assert_loop_outcomes(loop)
    finally:
        servers.stop()
    # the suite kept to its own IO manager key: the project's default io_manager stored nothing
    assert not (home / "dagster_home" / "storage" / "orders").exists()
    assert (home / "dagster_home" / "storage" / "dataops").is_dir()
