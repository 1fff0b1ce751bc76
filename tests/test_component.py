"""The suite in a user's own project, in process: ``loop_for``'s declaration and what it refuses,
and the component's attributes (the ``dg`` commands themselves run in
``tests/live/test_component_project.py``)."""

from pathlib import Path

import dagster as dg
import pydantic
import pytest

from suite import loop_for
from suite.component import DataOpsDataset, DatasetAttributes
from suite.config import ConfigError


@dg.asset
def readings() -> list[int]:
    return [1, 2, 3]


def test_loop_for_takes_the_keys_of_suite_yaml_and_their_errors(tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError, match="training_batches"):
        loop_for(readings, training_batches=0)
    with pytest.raises(pydantic.ValidationError, match="landin"):
        loop_for(readings, landin="x")
    with pytest.raises(ConfigError, match="loop_for.policy: no such file"):
        loop_for(readings, policy=str(tmp_path / "nope.yaml"))


def test_a_value_that_is_no_frame_fails_its_checks_naming_the_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    defs = dg.Definitions.merge(dg.Definitions(assets=[readings]), loop_for(readings))
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[readings.key], raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert "readings: its IO manager loaded a list" in message
    assert not (tmp_path / "storage" / "dataops" / "arrivals" / "readings").exists()


def test_the_component_attributes_are_a_declaration_and_a_name() -> None:
    assert DataOpsDataset.get_model_cls() is DatasetAttributes
    attributes = DatasetAttributes.model_validate({"name": "payments", "landing": "in/*.csv"})
    assert attributes.training_batches == 3 and attributes.landing == "in/*.csv"
    with pytest.raises(pydantic.ValidationError, match="must be a Python identifier"):
        DatasetAttributes.model_validate({"name": "pay-ments", "landing": "in"})
    with pytest.raises(pydantic.ValidationError, match="give one of landing"):
        DatasetAttributes.model_validate({"name": "payments", "landing": "in", "asset": "payments_raw"})
    assert DatasetAttributes.model_json_schema()["required"] == ["name"]


def test_two_datasets_load_in_one_code_location(tmp_path: Path) -> None:
    from suite.build import build_definitions
    from suite.config import DatasetConfig, Settings

    datasets = tuple(DatasetConfig(name, tmp_path / name) for name in ("orders", "payments"))
    defs = build_definitions(Settings(tmp_path / "dagster_home", datasets))
    dg.Definitions.validate_loadable(defs)
    jobs = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert {"orders_release_job", "payments_release_job"} <= jobs
