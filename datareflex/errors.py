"""Errors raised by DataReflex; each also subclasses the matching built-in."""

from __future__ import annotations


class DataReflexError(Exception):
    """Base class of every DataReflex error."""


class PolicyError(DataReflexError, ValueError):
    """A policy file is wrong; the message names the file, line and key."""
