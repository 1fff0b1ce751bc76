"""What a landed file holds, recognised by its first bytes rather than its name: the bytes read
with a cap, decompressed with a cap (a decompression bomb is refused), and CSV text decoded.

Only the file system's own errors (opening, reading) are :class:`BatchIOError`, worth another
try; everything about the content is a :class:`BatchFileError`, which retrying cannot mend.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

CHUNK = 1 << 20
PARQUET_MAGIC = b"PAR1"
COMPRESSIONS = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SAMPLE = 1 << 16
"""How much of a file's start is looked at for binary content."""


class BatchFileError(ValueError):
    """A landed file cannot be read; the message names the file and, where it can, the line."""


class BatchIOError(BatchFileError):
    """The file system failed to open or read a landed file: worth another try."""


@dataclass(frozen=True)
class Content:
    """A landed file's bytes, decompressed: ``format`` is ``csv`` or ``parquet``."""

    data: bytes
    format: str
    compression: str | None


def load(path: Path, limit: int) -> Content:
    """The bytes of ``path``, decompressed; refused past ``limit`` bytes (decompressed)."""
    raw = _read_file(path, limit)
    compression = next((kind for magic, kind in COMPRESSIONS.items() if raw.startswith(magic)), None)
    data = raw if compression is None else _decompress(path, raw, compression, limit)
    return Content(data, "parquet" if data.startswith(PARQUET_MAGIC) else "csv", compression)


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise _too_big(path, f"{size:,} bytes")
            data = handle.read()  # read(limit) would reserve the whole limit at once
            if len(data) > limit:  # it grew since
                raise _too_big(path, f"{len(data):,} bytes")
            return data
    except InterruptedError:
        raise  # a signal, not the file system: never retried as I/O
    except OSError as exc:
        raise BatchIOError(f"{path}: cannot read the file: {exc}") from exc


def _decompress(path: Path, raw: bytes, compression: str, limit: int) -> bytes:
    """Decompress ``raw`` from memory, in chunks, stopping past ``limit``."""
    try:
        with _opener(path, raw, compression) as stream:
            parts: list[bytes] = []
            total = 0
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise _too_big(path, f"more than {limit:,} bytes once {compression}-decompressed")
                parts.append(chunk)
    except (EOFError, OSError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as exc:
        raise BatchFileError(f"{path}: truncated or corrupt {compression} content: {exc}") from exc
    return b"".join(parts)


def _opener(path: Path, raw: bytes, compression: str) -> BinaryIO:
    buffer = io.BytesIO(raw)
    if compression == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffer))
    if compression == "bz2":
        return cast(BinaryIO, bz2.BZ2File(buffer))
    if compression == "xz":
        return cast(BinaryIO, lzma.LZMAFile(buffer))
    archive = zipfile.ZipFile(buffer)
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        raise BatchFileError(f"{path}: a zip archive of {len(members)} files; one batch is one file")
    return cast(BinaryIO, archive.open(members[0]))


def decode(path: Path, data: bytes, declared: str | None) -> tuple[bytes, str]:
    """``data`` as UTF-8 without a BOM, and the encoding it was read in: ``declared`` if given,
    else a BOM's, else UTF-8 if valid, else cp1252, else Latin-1. Binary content is refused."""
    if declared is not None:
        encoding = "utf-8-sig" if _is_utf8(declared) and data.startswith(BOMS[0][0]) else declared
        return _transcode(path, data, encoding, declared=True), encoding
    bom = next((encoding for mark, encoding in BOMS if data.startswith(mark)), None)
    if bom is not None:
        return _transcode(path, data, bom, declared=True), bom
    if b"\x00" in data[:SAMPLE]:
        raise BatchFileError(f"{path}: binary content (NUL bytes), not CSV text")
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return _transcode(path, data, encoding, declared=False), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _transcode(path: Path, data: bytes, encoding: str, *, declared: bool) -> bytes:
    """``data`` as UTF-8; UTF-8 itself is only checked, in chunks (no copy of the whole text)."""
    try:
        if _is_utf8(encoding):
            _check_utf8(data)
            _refuse_binary(path, data[:SAMPLE].decode("utf-8", "ignore"))
            return data[3:] if data.startswith(BOMS[0][0]) else data
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if not declared:
            raise
        raise BatchFileError(
            f"{path}: not {encoding} text: byte {exc.start:,} is {exc.object[exc.start :][:1]!r}"
        ) from exc
    except LookupError as exc:
        raise BatchFileError(f"{path}: unknown encoding {encoding!r} (read.encoding)") from exc
    _refuse_binary(path, text[:SAMPLE])
    return text.lstrip("\ufeff").encode("utf-8")


def _check_utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError (with its offset in ``data``) unless ``data`` is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        try:
            decoder.decode(view[start : start + CHUNK], final=start + CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError("utf-8", data, start + exc.start, start + exc.end, exc.reason) from None


def _refuse_binary(path: Path, sample: str) -> None:
    """Text with NULs or many control characters is binary content, whatever decoded it."""
    controls = len(CONTROLS.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 100):
        raise BatchFileError(
            f"{path}: binary content ({controls:,} control characters "
            f"in its first {len(sample):,}), not CSV text"
        )


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _too_big(path: Path, size: str) -> BatchFileError:
    return BatchFileError(f"{path}: {size}: needs more memory than read.max_memory_mb allows")
