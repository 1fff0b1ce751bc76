"""Errors raised by SchemaSense; each also subclasses the matching built-in."""

from __future__ import annotations


class SchemaSenseError(Exception):
    """Base class of every SchemaSense error."""


class ContractError(SchemaSenseError, ValueError):
    """A contract (or its YAML) is malformed."""


class InferenceError(SchemaSenseError, ValueError):
    """A contract cannot be inferred from the data given."""


class BatchError(SchemaSenseError, ValueError):
    """A batch cannot be judged at all (not a table, or duplicated column names)."""
