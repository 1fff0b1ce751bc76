"""Logical types: the closed set of column types a contract speaks of."""

from __future__ import annotations

import enum


class LogicalType(enum.StrEnum):
    """What a column holds, independent of how pandas stores it."""

    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    STRING = "string"
    CATEGORY = "category"
    DATETIME = "datetime"

    @property
    def is_numeric(self) -> bool:
        return self in (LogicalType.INTEGER, LogicalType.FLOAT)

    @property
    def is_text(self) -> bool:
        return self in (LogicalType.STRING, LogicalType.CATEGORY)
