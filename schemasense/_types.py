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


class Role(enum.StrEnum):
    """What a column is for, which decides the rules that can hold across batches.

    An *attribute* (the default) is compared with training: ranges, categories, drift. The other
    roles take new values in every batch by construction, so they keep format, null and
    uniqueness rules but no range, no closed category and never a drift test.
    """

    ATTRIBUTE = "attribute"
    IDENTIFIER = "identifier"
    TIMESTAMP = "timestamp"
    CALENDAR = "calendar"

    @property
    def moves_with_batches(self) -> bool:
        """Whether tomorrow's values differ from today's by construction."""
        return self is not Role.ATTRIBUTE
