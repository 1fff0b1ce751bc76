"""Drift results: one ``ColumnDrift`` per column, one ``DriftReport`` per batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ColumnDrift:
    """Why one column was (or was not) judged drifted.

    ``statistic`` is the effect size compared with ``threshold``; ``p_value`` is the test's,
    ``p_adjusted`` after Benjamini–Hochberg across the batch's columns.
    """

    column: str
    method: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    drifted: bool
    note: str = ""


@dataclass(frozen=True)
class DriftReport:
    """The verdict on one batch against a reference."""

    columns: dict[str, ColumnDrift]
    drifted: bool
    alpha: float
    rows_reference: int
    rows_current: int
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        return [name for name, c in self.columns.items() if c.drifted]

    @property
    def drift_share(self) -> float:
        tested = [c for c in self.columns.values() if c.p_value is not None]
        return len(self.drifted_columns) / len(tested) if tested else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "drifted_columns": self.drifted_columns,
            "drift_share": self.drift_share,
            "alpha": self.alpha,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "columns": {name: asdict(c) for name, c in self.columns.items()},
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        return cls(
            columns={n: ColumnDrift(**c) for n, c in data["columns"].items()},
            drifted=bool(data["drifted"]),
            alpha=float(data["alpha"]),
            rows_reference=int(data["rows_reference"]),
            rows_current=int(data["rows_current"]),
            skipped=dict(data.get("skipped", {})),
        )

    def to_markdown(self) -> str:
        lines = [
            f"**{'Drift' if self.drifted else 'No drift'}**: {len(self.drifted_columns)} of "
            f"{len(self.columns)} columns drifted ({self.rows_current} rows vs a reference of "
            f"{self.rows_reference}; α = {self.alpha} after Benjamini–Hochberg).",
            "",
            "| column | method | effect | threshold | p-value | adjusted p | drifted | note |",
            "|---|---|---:|---:|---:|---:|---|---|",
        ]
        for c in self.columns.values():
            lines.append(
                f"| {c.column} | {c.method} | {_fmt(c.statistic)} | {c.threshold:g} | {_fmt(c.p_value)} "
                f"| {_fmt(c.p_adjusted)} | {'**yes**' if c.drifted else 'no'} | {c.note} |"
            )
        if self.skipped:
            lines += ["", "Not tested: " + ", ".join(f"{k} ({v})" for k, v in self.skipped.items())]
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
