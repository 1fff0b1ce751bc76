"""Scale-out: batch files larger than memory, scanned chunk by chunk in one process or part by
part on a Dask cluster, with one merged verdict (no Dagster here; ``suite.scale.resource`` holds
the resource).

>>> import tempfile, pandas as pd, schemasense
>>> folder = tempfile.mkdtemp()
>>> pd.DataFrame({"n": [1, 2, 3, 99] * 5}).to_csv(folder + "/b.csv", index=False)
>>> contract = schemasense.infer(pd.DataFrame({"n": [1, 2, 3] * 10}))
>>> result = scan_file(folder + "/b.csv", contract, folder + "/out", chunk_rows=6)
>>> result.rows, result.published, result.quarantined, result.chunks, result.accounted
(20, 15, 5, 4, True)
"""

from .batch import HELD, PUBLISHED, ScanResult, finish, first_profile, profile_file, scan_file, scan_part
from .chunks import CHUNK_ROWS, Chunk, Part, iter_chunks, parts, whole
from .engine import THRESHOLD_ROWS, batch_rows, scan_batch, scan_on_cluster
from .keys import KeyLedger, key_hashes
from .pieces import RowsOnDisk
from .scan import QUARANTINE, ROW_COLUMN, ChunkScan, read_rows, scan_chunk

__all__ = [
    "CHUNK_ROWS",
    "Chunk",
    "ChunkScan",
    "HELD",
    "KeyLedger",
    "PUBLISHED",
    "Part",
    "QUARANTINE",
    "ROW_COLUMN",
    "RowsOnDisk",
    "ScanResult",
    "THRESHOLD_ROWS",
    "batch_rows",
    "finish",
    "first_profile",
    "iter_chunks",
    "key_hashes",
    "parts",
    "profile_file",
    "read_rows",
    "scan_batch",
    "scan_chunk",
    "scan_file",
    "scan_on_cluster",
    "scan_part",
    "whole",
]
