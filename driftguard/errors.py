"""Errors raised by DriftGuard; each also subclasses the matching built-in."""

from __future__ import annotations


class DriftGuardError(Exception):
    """Base class of every DriftGuard error."""


class NotFittedError(DriftGuardError, ValueError):
    """A detector was asked to score before ``fit``."""


class IncompatibleProfilesError(DriftGuardError, ValueError):
    """Two profiles cannot be merged or compared (different bins or column kinds)."""
