"""suite.yaml: datasets declared as data, and errors that name the file, line and key."""

from pathlib import Path

import pytest

from suite.config import BUNDLED_CONFIG, ConfigError, Settings, load_datasets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    (tmp_path / "policy.yaml").write_text("rules: []\n")
    return path


def test_a_full_declaration_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
datasets:
  sales:
    description: Till receipts.
    owners: [alice@example.com, team:finance]
    landing: /srv/sales/*.parquet
    format: parquet
    keys: [receipt_id, till_reference]
    training_batches: 5
    contract: {margin: 3, max_categories: 20}
    drift: {reference: rolling, window: 14, methods: {total: ks}, exclude: [day]}
    columns: {"Customer ID": {role: identifier}, Country: {categories: open}, Quantity: {min: -80000}}
    policy: policy.yaml
    schedule: "30 5 * * 1-5"
    sensor_interval_seconds: 10
    freshness_hours: 36
""",
    )
    (sales,) = load_datasets(path, tmp_path / "home")
    assert sales.landing == Path("/srv/sales") and sales.patterns == ("*.parquet",)
    assert sales.keys == ("receipt_id", "till_reference") and sales.owners == (
        "alice@example.com",
        "team:finance",
    )
    assert sales.training_batches == 5 and sales.sensor_interval_seconds == 10
    assert sales.contract == {"margin": 3.0, "max_categories": 20.0}
    assert (sales.drift.reference, sales.drift.window, dict(sales.drift.methods)) == (
        "rolling",
        14,
        {"total": "ks"},
    )
    assert sales.policy == tmp_path / "policy.yaml" and sales.drift_schedule == "30 5 * * 1-5"
    assert sales.freshness_hours == 36.0
    assert sales.drift.exclude == ("day",)
    columns = {name: c.model_dump(exclude_none=True) for name, c in sales.columns.items()}
    assert columns == {
        "Customer ID": {"role": "identifier"},
        "Country": {"categories": "open"},
        "Quantity": {"min": -80000.0},
    }


def test_relative_landing_is_under_the_data_home_and_format_picks_the_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "datasets:\n  a: {landing: in/a, format: csv}\n  b: {landing: in/b}\n")
    a, b = load_datasets(path, tmp_path / "home")
    assert a.landing == tmp_path / "home/in/a" and a.patterns == ("*.csv",)
    assert b.patterns == ("*.parquet", "*.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datasets:\n  a: {landing: x, colour: red}\n", "line 2: datasets.a.colour is not a valid key"),
        (
            "datasets:\n  a:\n    landing: x\n    format: xlsx\n",
            "datasets.a.format must be one of ['csv', 'parquet', 'auto'], got 'xlsx'",
        ),
        ("datasets:\n  a:\n    landing: x\n    training_batches: 0\n", "line 4: datasets.a.training_batches"),
        ("datasets:\n  a: {landing: x, schedule: every day}\n", "line 2: datasets.a.schedule must be a cron"),
        ("datasets:\n  a: {landing: x, policy: missing.yaml}\n", "datasets.a.policy: no such file"),
        (
            "datasets:\n  a: {landing: x, drift: {reference: last_week}}\n",
            "drift.reference must be",
        ),
        (
            "datasets:\n  a: {landing: x, contract: {margn: 2}}\n",
            "datasets.a.contract.margn is not a valid key",
        ),
        ("datasets:\n  my-data: {landing: x}\n", "must be a Python identifier"),
        (
            "datasets:\n  a: {format: csv}\n",
            "line 2: datasets.a give one of landing (a folder of files), source",
        ),
        (
            'datasets:\n  a:\n    source: {url: "duckdb:///x.db", table: t}\n',
            "line 3: datasets.a.source give either incremental",
        ),
        ("datasets:\n  a: {landing: 'x/*.csv', format: parquet}\n", "does not match format 'parquet'"),
        ("datasets: {}\n", "no dataset is declared"),
        ("sets: {}\n", "line 1: sets is not a valid key"),
        (
            "datasets:\n  a:\n    landing: x\n    owners: [alice]\n",
            "line 4: datasets.a.owners ['alice'] are not owners",
        ),
        (
            "datasets:\n  a:\n    landing: x\n    drift: {methods: {amount: t_test}}\n",
            "line 4: datasets.a.drift.methods.amount must be one of",
        ),
        (
            "datasets:\n  a:\n    landing: x\n    contract: {max_categories: 2.5}\n",
            "line 4: datasets.a.contract.max_categories must be a valid integer",
        ),
        (
            "datasets:\n  a:\n    landing: x\n    contract: {min_pattern_share: 2}\n",
            "datasets.a.contract.min_pattern_share must be less than or equal to 1",
        ),
        ("datasets:\n  a: {landing: x, freshness_hours: 0}\n", "datasets.a.freshness_hours must be"),
        (
            "datasets:\n  a:\n    landing: x\n    columns: {qty: {rol: identifier}}\n",
            "line 4: datasets.a.columns.qty.rol",
        ),
        ("datasets:\n  a:\n    landing: x\n    drift: {exclude: id}\n", "line 4: datasets.a.drift.exclude"),
        ("datasets:\n  a: !!python/object:os.system {landing: x}\n", "line 2"),
    ],
)
def test_a_wrong_declaration_names_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_datasets(path, tmp_path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_the_environment_picks_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATAOPS_CONFIG", raising=False)
    assert [d.name for d in Settings.from_env().datasets] == ["orders"]  # the bundled file
    assert load_datasets(BUNDLED_CONFIG, tmp_path)[0].keys == ("order_id",)
    write(tmp_path, "datasets:\n  local: {landing: l}\n")
    assert [d.name for d in Settings.from_env().datasets] == ["local"]  # ./suite.yaml
    other = tmp_path / "other.yaml"
    other.write_text("datasets:\n  chosen: {landing: c}\n")
    monkeypatch.setenv("DATAOPS_CONFIG", str(other))
    assert [d.name for d in Settings.from_env().datasets] == ["chosen"]


def test_the_declared_drift_methods_are_driftguards() -> None:
    import typing

    import driftguard
    from suite.config.declaration import DriftMethod

    assert set(typing.get_args(DriftMethod)) == set(driftguard.METHODS)
