"""Drift results: one ``ColumnDrift`` per test, one ``DriftReport`` per batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ._classifier import DomainClassifierResult


@dataclass(frozen=True)
class ColumnDrift:
    """Why one column was (or was not) judged drifted by one method.

    ``statistic`` is the method's effect size, compared with ``threshold``; ``p_value`` comes
    from ``test`` on exact counts, ``p_adjusted`` after Benjamini–Hochberg across the batch.
    """

    column: str
    method: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    drifted: bool
    note: str = ""
    test: str = ""


@dataclass(frozen=True)
class Distribution:
    """Shares of one column in the reference and in the batch, for a plot."""

    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]


@dataclass(frozen=True)
class DriftReport:
    """The verdict on one batch against a reference.

    ``columns`` holds each column's distribution test, ``missing`` its missing-rate test; a
    column drifts when either does. ``multivariate`` is the domain classifier's result when
    both samples were data frames. ``reference`` names what the batch was judged against, as the
    caller describes it (the detector leaves it empty), so a verdict can be reproduced later.
    ``excluded`` names the columns taken out of every test on purpose, with the reason.
    """

    columns: dict[str, ColumnDrift]
    drifted: bool
    alpha: float
    rows_reference: int
    rows_current: int
    skipped: dict[str, str] = field(default_factory=dict)
    missing: dict[str, ColumnDrift] = field(default_factory=dict)
    multivariate: DomainClassifierResult | None = None
    distributions: dict[str, Distribution] = field(default_factory=dict)
    reference: str = ""
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        names = list(self.columns) + [n for n in self.missing if n not in self.columns]
        return [n for n in names if _flagged(self.columns.get(n)) or _flagged(self.missing.get(n))]

    @property
    def drift_share(self) -> float:
        tested = [c for c in self.columns.values() if c.p_value is not None]
        return len([c for c in self.drifted_columns if c in self.columns]) / len(tested) if tested else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "drifted_columns": self.drifted_columns,
            "drift_share": self.drift_share,
            "alpha": self.alpha,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "columns": {name: asdict(c) for name, c in self.columns.items()},
            "missing": {name: asdict(c) for name, c in self.missing.items()},
            "skipped": dict(self.skipped),
            "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
            "distributions": {name: asdict(d) for name, d in self.distributions.items()},
            "reference": self.reference,
            "excluded": dict(self.excluded),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        multivariate = data.get("multivariate")
        return cls(
            columns={n: ColumnDrift(**c) for n, c in data["columns"].items()},
            drifted=bool(data["drifted"]),
            alpha=float(data["alpha"]),
            rows_reference=int(data["rows_reference"]),
            rows_current=int(data["rows_current"]),
            skipped=dict(data.get("skipped", {})),
            missing={n: ColumnDrift(**c) for n, c in data.get("missing", {}).items()},
            multivariate=None if multivariate is None else DomainClassifierResult.from_dict(multivariate),
            distributions={
                n: Distribution(tuple(d["labels"]), tuple(d["reference"]), tuple(d["current"]))
                for n, d in data.get("distributions", {}).items()
            },
            reference=str(data.get("reference", "")),
            excluded={str(k): str(v) for k, v in data.get("excluded", {}).items()},
        )

    def rows(self) -> list[ColumnDrift]:
        """Every test, distribution then missing rate, in column order."""
        out = []
        for name in list(self.columns) + [n for n in self.missing if n not in self.columns]:
            out += [t for t in (self.columns.get(name), self.missing.get(name)) if t is not None]
        return out

    def summary(self) -> str:
        line = (
            f"{'Drift' if self.drifted else 'No drift'}: {len(self.drifted_columns)} of "
            f"{len(self.columns)} columns drifted ({self.rows_current} rows vs a reference of "
            f"{self.rows_reference}; α = {self.alpha} after Benjamini–Hochberg)."
        )
        if self.multivariate is not None:
            m = self.multivariate
            line += (
                f" Domain classifier AUC {m.auc:.3f} [{m.lower:.3f}, {m.upper:.3f}]"
                f"{' (drift)' if m.drifted else ''} on {m.rows} sampled rows of {len(m.columns)} columns."
            )
        return line

    def to_markdown(self) -> str:
        lines = [
            f"**{self.summary()}**",
            "",
            "| column | method | effect | threshold | test | p-value | adjusted p | drifted | note |",
            "|---|---|---:|---:|---|---:|---:|---|---|",
        ]
        for c in self.rows():
            lines.append(
                f"| {c.column} | {c.method} | {_fmt(c.statistic)} | {c.threshold:g} | {c.test} | "
                f"{_fmt(c.p_value)} | {_fmt(c.p_adjusted)} | {'**yes**' if c.drifted else 'no'} | {c.note} |"
            )
        if self.skipped:
            lines += ["", "Not compared: " + ", ".join(f"{k} ({v})" for k, v in self.skipped.items())]
        if self.excluded:
            lines += ["", "Not tested, by design:"] + [f"- {k}: {v}" for k, v in self.excluded.items()]
        return "\n".join(lines)

    def to_html(self) -> str:
        """A standalone HTML page: the summary, every test, and a chart per drifted column."""
        from ._html import report_html

        return report_html(self)


def _flagged(result: ColumnDrift | None) -> bool:
    return result is not None and result.drifted


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
