"""The Dagster side of the suite: the standalone code location, the component, and
:func:`loop_for` around a user's own asset (imported on first use)."""

from typing import Any

__all__ = ["loop_for"]


def __getattr__(name: str) -> Any:
    if name == "loop_for":
        from suite.around import loop_for

        return loop_for
    raise AttributeError(f"module 'suite' has no attribute {name!r}")
