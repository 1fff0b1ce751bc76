"""Bounded readers: what a landed file holds is recognised by its bytes, read within limits, and
refused whole (``unreadable``) with a reason naming the file and line, never retried."""

import bz2
import gzip
import io
import lzma
import re
import time
import tracemalloc
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from suite.build import build_definitions
from suite.cli.runner import run_until_quiet
from suite.config.settings import ReadSettings
from suite.storage import BatchStorage, content
from suite.storage.files import BatchFileError, BatchIOError, read_batch, read_batch_file

from .conftest import land


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


ORDERS = b"order_id,amount\n1,2.5\n2,3.0\n"
UNREADABLE = {
    "empty": (b"", "empty file"),
    "blank lines": (b"\n \n", "empty file"),
    "header only": (b"order_id,amount\n", "no rows, only a header (2 columns)"),
    "binary": (bytes(range(256)) * 8, "binary content (NUL bytes), not CSV text"),
    "binary without NUL": (
        bytes(range(1, 32)) * 64,
        "binary content (1,792 control characters in its first 1,984), not CSV text",
    ),
    "repeated name": (b"a,b,a\n1,2,3\n", "column name 'a' repeats (columns 1 and 3 of the header)"),
    "empty name": (b"a,,c\n1,2,3\n", "column 2 of the header has an empty name"),
    "extra fields": (b"a,b\n1,2\n3,4\n5,6,7\n", "line 4 has 3 fields, the header has 2 (extra fields)"),
    "extra fields, first row": (b"a,b\n1,2,3\n4,5\n", "line 2 has 3 fields, the header has 2 (extra fields)"),
    "semicolons": (
        b"a;b;c\n1;2;3\n",
        "one column named 'a;b;c': its name holds ';', so the file is not comma",
    ),
    "tabs": (b"a\tb\n1\t2\n", "one column named 'a\\tb': its name holds '\\t'"),
    "unclosed quote in header": (b'"a,b\n' + b"x" * 200_000 + b"\n", "cannot read the header: field larger"),
    "unclosed quote": (
        b'a,b\n1,2\n3,"x\n',
        "cannot parse this CSV: Error tokenizing data. C error: EOF inside",
    ),
    "truncated gzip": (gzip.compress(ORDERS * 100)[:-20], "truncated or corrupt gzip content"),
    "corrupt bz2": (b"BZh9" + b"x" * 50, "truncated or corrupt bz2 content"),
    "zip of two": (
        _zip(("a.csv", ORDERS), ("b.csv", ORDERS)),
        "a zip archive of 2 files; one batch is one file",
    ),
    "truncated parquet": (_parquet(pd.DataFrame({"a": range(100)}))[:-40], "truncated or corrupt Parquet"),
    "parquet without rows": (
        _parquet(pd.DataFrame({"a": pd.Series([], dtype=int)})),
        "no rows, only a header",
    ),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_an_unreadable_file_is_refused_with_a_reason_naming_it(case: str, tmp_path: Path) -> None:
    data, reason = UNREADABLE[case]
    path = tmp_path / "orders_2026-11-04.csv"
    path.write_bytes(data)
    with pytest.raises(BatchFileError) as raised:
        read_batch(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert reason in str(raised.value)
    assert not isinstance(raised.value, BatchIOError)  # the content: never retried


@pytest.mark.parametrize(
    ("data", "read", "reason"),
    [
        (
            b"a,b\n1," + b"9" * 3000 + b"\n",
            ReadSettings(max_line_bytes=1024),
            "line 2 is 3,002 bytes, more than",
        ),
        (
            b"a,b,c,d,e,f\n1,2,3,4,5,6\n",
            ReadSettings(max_fields=5),
            "line 1 has 6 fields, more than read.max_fields (5)",
        ),
        (
            b"a,b\n" + b"1,2\n" * 1_000_000,
            ReadSettings(max_memory_mb=16),
            "needs more memory than read.max_memory_mb",
        ),
        (gzip.compress(b"a,b\n" + b"1,2\n" * 2_000_000), ReadSettings(max_memory_mb=16), "gzip-decompressed"),
        (
            b"x\n" + "Jos\xe9\n".encode("latin-1"),
            ReadSettings(encoding="utf-8"),
            "not utf-8 text: byte 5 is b'\\xe9'",
        ),
    ],
    ids=["long line", "many fields", "memory", "decompression bomb", "declared encoding"],
)
def test_limits_refuse_a_file_before_it_is_parsed(
    data: bytes, read: ReadSettings, reason: str, tmp_path: Path
) -> None:
    path = tmp_path / "batch.csv"
    path.write_bytes(data)
    with pytest.raises(BatchFileError, match=re.escape(reason)):
        read_batch(path, read)


def test_a_file_of_another_dataset_shares_no_column_with_the_contract(tmp_path: Path) -> None:
    for name, data in (
        ("other.csv", b"city,population\nOslo,700000\n"),
        ("other.parquet", _parquet(pd.DataFrame({"city": ["Oslo"]}))),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BatchFileError, match="no column in common with the contract"):
            read_batch(tmp_path / name, contract_columns=["order_id", "amount"])
    assert read_batch(tmp_path / "other.csv", contract_columns=["city", "amount"]).shape == (1, 2)


def test_a_10_mb_single_line_is_refused_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "one_line.csv"
    path.write_bytes(b",".join([b"a"] * 5_000_000))  # 10 MB, no newline: it hung the old reader
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(BatchFileError, match="line 1 is 9,999,999 bytes, more than read.max_line_bytes"):
        read_batch(path)
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert took < 1.0, took
    assert peak < 40 * 2**20, peak  # the file's bytes and a mask over them, nothing parsed


FRAME = pd.DataFrame({"order_id": [1, 2], "city": ["Köln", "Zürich"], "note": ["a\nb", "c"]})
TEXT = FRAME.to_csv(index=False)


ODD_FILES = [
    ("gzip.csv", gzip.compress(TEXT.encode(), mtime=0), None, ("csv", "gzip", "utf-8")),
    ("bz2.csv", bz2.compress(TEXT.encode()), None, ("csv", "bz2", "utf-8")),
    ("xz.csv", lzma.compress(TEXT.encode()), None, ("csv", "xz", "utf-8")),
    ("zip.csv", _zip(("inner.csv", TEXT.encode())), None, ("csv", "zip", "utf-8")),
    ("bom.csv", TEXT.encode("utf-8-sig"), None, ("csv", None, "utf-8-sig")),
    ("utf16.csv", TEXT.encode("utf-16"), None, ("csv", None, "utf-16")),
    ("latin1.csv", TEXT.encode("latin-1"), None, ("csv", None, "cp1252")),
    ("declared.csv", TEXT.encode("latin-1"), ReadSettings(encoding="latin-1"), ("csv", None, "latin-1")),
    ("UPPER.CSV", TEXT.encode(), None, ("csv", None, "utf-8")),
    ("orders...2026-11-04.csv", TEXT.encode(), None, ("csv", None, "utf-8")),
    ("parquet_named.csv", _parquet(FRAME), None, ("parquet", None, None)),
]


@pytest.mark.parametrize(("name", "data", "read", "how"), ODD_FILES, ids=[case[0] for case in ODD_FILES])
def test_compressed_encoded_and_oddly_named_files_are_read_whole(
    name: str, data: bytes, read: ReadSettings | None, how: tuple[str, str | None, str | None], tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(data)
    batch = read_batch_file(tmp_path / name, read)
    assert (batch.format, batch.compression, batch.encoding) == how
    pd.testing.assert_frame_equal(batch.frame, FRAME)


def test_cp1252_text_is_decoded_and_row_i_is_line_i_plus_2(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_bytes("item,price\nbook,9\npen,€2\n".encode("cp1252"))
    frame = read_batch(tmp_path / "prices.csv")
    assert frame["price"].tolist() == ["9", "€2"]
    lines = (tmp_path / "prices.csv").read_bytes().decode("cp1252").splitlines()
    assert all(lines[i + 1].startswith(frame["item"][i]) for i in range(len(frame)))


def test_only_the_file_system_is_retried_and_an_interrupt_is_not_io(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(BatchIOError, match="cannot read the file"):
        read_batch(tmp_path / "gone.csv")  # the file system: worth another try
    (tmp_path / "batch.csv").write_bytes(ORDERS)

    def interrupted(*args: object) -> None:
        raise InterruptedError(4, "Interrupted system call")

    monkeypatch.setattr(content, "open", interrupted, raising=False)  # this module's open only
    with pytest.raises(InterruptedError):  # not a BatchIOError: raw_batch fails it without retry
        read_batch(tmp_path / "batch.csv")


def test_an_unreadable_file_is_rejected_once_and_the_next_is_published_whole(
    settings, stream, instance
) -> None:
    names = land(settings, stream, 4)  # three training batches and a clean one
    landing = settings.datasets[0].landing
    bad, good = landing / "orders_2026-11-03_resent.csv", landing / names[3]
    rows = len(read_batch(good))
    good.rename(landing / "later")  # lands after the bad file is judged
    bad.write_bytes(b"order_id;amount\n1;2\n")
    defs = build_definitions(settings)
    run_until_quiet(defs, instance)
    (landing / "later").rename(good)
    run_until_quiet(defs, instance)

    (failed,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert failed.tags["dagster/partition"] == bad.name and failed.tags["dataops/decision"] == "reject"
    retried = instance.all_logs(failed.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert retried == []  # the content: failed once, never retried
    ledger = BatchStorage(settings.storage).ledger()
    trail, published = ledger.records("orders", bad.name), ledger.records("orders", good.name)
    ledger.dispose()
    assert [(r.step, r.kind) for r in trail] == [
        ("signal", "run_failure"),
        ("decision", "reject"),
        ("outcome", "none"),
    ]
    reason = trail[1].detail["reason"]
    assert reason == (
        f"unreadable: {bad}: one column named 'order_id;amount': its name holds ';', "
        "so the file is not comma-separated"
    )
    assert trail[1].describe() == reason
    assert [r.kind for r in published if r.step == "decision"] == ["publish"]
    (outcome,) = [r for r in published if r.step == "outcome"]
    assert (outcome.detail["rows_published"], outcome.detail["rows_in"]) == (rows, rows)
    assert bad.exists()  # nothing is lost: the file stays for a person
    assert run_until_quiet(defs, instance) == []  # judged once
