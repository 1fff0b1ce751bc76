"""The ``dataops`` command line, the demo, the backtest and the in-process runner they use."""

from .main import main

__all__ = ["main"]
