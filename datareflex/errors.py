"""Errors raised by DataReflex; each also subclasses the matching built-in."""

from __future__ import annotations


class DataReflexError(Exception):
    """Base class of every DataReflex error."""


class ConfigError(DataReflexError, ValueError):
    """A configuration file is wrong: the message names the file, the line and the key.

    >>> str(ConfigError("policy.yaml, line 3: rules.0.then is required"))
    'policy.yaml, line 3: rules.0.then is required'
    """


class PolicyError(ConfigError):
    """A policy file is wrong; the message names the file, line and key."""
