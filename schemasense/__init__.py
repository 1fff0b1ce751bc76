"""SchemaSense: data contracts learned from real batches, versioned, enforced row by row.

>>> import pandas as pd, schemasense
>>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="orders")
>>> contract.validate(pd.DataFrame({"qty": [2, -7]})).invalid["_reason"].tolist()
['qty: -7 below minimum 0.0']
"""

from ._coerce import coerce
from ._contract import ColumnContract, Contract
from ._dates import DATETIME_FORMATS, settle
from ._declaration import ColumnDeclaration
from ._diff import Change, ChangeKind, SchemaDiff, diff
from ._evolve import Evolution, EvolutionPolicy, evolve, rebase
from ._infer import InferenceOptions, dataset_statistics, infer, infer_column
from ._patterns import EMAIL, UUID
from ._registry import ContractRegistry
from ._statistics import ColumnStatistics, column_statistics
from ._types import LogicalType, Role
from ._validate import REASON_COLUMN, Rule, ValidationResult, Violation, validate
from .errors import BatchError, ContractError, InferenceError, SchemaSenseError

__all__ = [
    "BatchError",
    "Change",
    "ChangeKind",
    "ColumnContract",
    "ColumnDeclaration",
    "ColumnStatistics",
    "Contract",
    "ContractError",
    "ContractRegistry",
    "DATETIME_FORMATS",
    "EMAIL",
    "Evolution",
    "EvolutionPolicy",
    "InferenceError",
    "InferenceOptions",
    "LogicalType",
    "REASON_COLUMN",
    "Role",
    "Rule",
    "SchemaDiff",
    "SchemaSenseError",
    "UUID",
    "ValidationResult",
    "Violation",
    "coerce",
    "column_statistics",
    "dataset_statistics",
    "diff",
    "evolve",
    "infer",
    "infer_column",
    "rebase",
    "settle",
    "validate",
]
