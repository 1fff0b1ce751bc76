"""A user's own ``suite.yaml`` for a test: written, and the suite's environment pointed at it."""

from pathlib import Path

import pytest


def declare(monkeypatch: pytest.MonkeyPatch, home: Path, config: Path, text: str) -> Path:
    """Write ``text`` to ``config`` and point ``DATAOPS_CONFIG``, ``DATAOPS_HOME`` (``home``) and
    ``DAGSTER_HOME`` (``home/dagster_home``) at them; the Dagster home is returned."""
    config.write_text(text)
    monkeypatch.setenv("DATAOPS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    monkeypatch.setenv("DATAOPS_CONFIG", str(config))
    return home / "dagster_home"
