"""Storage: landed files, asset values and contracts under the instance, the ledger, partitions."""

from .files import BatchFileError, read_batch
from .store import IO_RETRY, BatchStorage, SuiteIOManager, SuiteStorage, atomic_write

__all__ = [
    "IO_RETRY",
    "BatchFileError",
    "BatchStorage",
    "SuiteIOManager",
    "SuiteStorage",
    "atomic_write",
    "read_batch",
]
