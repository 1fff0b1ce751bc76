"""Storage: landed files and when they landed, asset values and contracts under the instance, the
ledger, partitions."""

from .files import BatchFileError, read_batch
from .landings import LandingRecord
from .store import IO_MANAGER_KEY, IO_RETRY, BatchStorage, SuiteIOManager, SuiteStorage, atomic_write

__all__ = [
    "IO_MANAGER_KEY",
    "IO_RETRY",
    "BatchFileError",
    "BatchStorage",
    "LandingRecord",
    "SuiteIOManager",
    "SuiteStorage",
    "atomic_write",
    "read_batch",
]
