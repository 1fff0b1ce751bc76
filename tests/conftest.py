"""Shared fixtures: the seeded orders stream and fresh Dagster instances on temporary folders."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from suite.cli.sample_data import SampleBatch, write_orders
from suite.config import DatasetConfig, IntakeSettings, Settings
from suite.storage.files import read_batch


@pytest.fixture(scope="session")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleBatch]]:
    landing = tmp_path_factory.mktemp("landing")
    return landing, write_orders(landing)


@pytest.fixture(scope="session")
def frames(stream: tuple[Path, list[SampleBatch]]) -> dict[str, pd.DataFrame]:
    """Each sample batch by kind (``clean`` is the first clean day after training)."""
    landing, batches = stream
    by_kind = {}
    for index, batch in enumerate(batches):
        name = "training" if index < 3 else batch.kind
        by_kind.setdefault(name, []).append(read_batch(landing / batch.name))
    return {
        "training": pd.concat(by_kind["training"], ignore_index=True),
        **{kind: group[0] for kind, group in by_kind.items() if kind != "training"},
    }


@pytest.fixture
def settings(tmp_path: Path, stream: tuple[Path, list[SampleBatch]]) -> Settings:
    landing = tmp_path / "landing"
    landing.mkdir()
    # Tests land whole files and tick at once: no file is still being written, so none waits to settle.
    at_once = IntakeSettings(stable_seconds=0)
    orders = DatasetConfig("orders", landing, sensor_interval_seconds=5, intake=at_once)
    return Settings(tmp_path / "dagster_home", (orders,))


@pytest.fixture
def instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    settings.dagster_home.mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(settings.dagster_home)) as test_instance:
        yield test_instance


def land(settings: Settings, stream: tuple[Path, list[SampleBatch]], count: int) -> list[str]:
    """Copy the first ``count`` sample files into the settings' landing folder."""
    source, batches = stream
    target = settings.datasets[0].landing
    for batch in batches[:count]:
        (target / batch.name).write_bytes((source / batch.name).read_bytes())
    return [b.name for b in batches[:count]]
