"""Fixtures of the live tests: real ``dagster-webserver`` and ``dagster-daemon`` processes, a
throwaway PostgreSQL server, Debian's Chromium. A missing program skips the test with the reason,
except under ``CI=true``, where it fails: CI must never silently skip them."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.support.servers as servers
from tests.support.servers import Postgres, ServiceMissing, start_orders_loop

from .loop import LiveLoop


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.live)


def missing(reason: str) -> None:
    """Skip, or fail under CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing("running as root needs runuser to start PostgreSQL as the postgres user")
    try:
        server = Postgres.start()
    except ServiceMissing as exc:
        missing(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not servers.CHROMIUM.is_file():
        missing(f"Chromium not found at {servers.CHROMIUM} (apt install chromium)")
    return servers.CHROMIUM


def start_loop(home: Path, postgres: Postgres | None = None) -> LiveLoop:
    """A data home with its own suite.yaml (sensors every 5 s) and both servers on it."""
    return LiveLoop(home, start_orders_loop(home, postgres=postgres))


@pytest.fixture(scope="session")
def sqlite_loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLoop]:
    """The loop on the default SQLite instance, run to the end once, across a daemon restart."""
    loop = start_loop(tmp_path_factory.mktemp("live-sqlite"))
    try:
        loop.run(middle=loop.servers.restart_daemon)
        yield loop
    finally:
        loop.servers.stop()
