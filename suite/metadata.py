"""Metadata a person reads in the Dagster UI: schemas, violation tables, drift tables."""

from __future__ import annotations

import base64
from collections.abc import Iterable

import dagster as dg
import pandas as pd

import driftguard
import schemasense
from driftguard._html import distribution_svg


def frame_schema(df: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(str(name), str(dtype)) for name, dtype in df.dtypes.items()]
    )


def contract_schema(contract: schemasense.Contract) -> dg.TableSchema:
    columns = []
    for name, c in contract.columns.items():
        other = []
        if c.minimum is not None:
            other.append(f">= {c.minimum:g}")
        if c.maximum is not None:
            other.append(f"<= {c.maximum:g}")
        if c.allowed is not None:
            other.append("in {" + ", ".join(c.allowed) + "}")
        if c.datetime_format:
            other.append(f"format {c.datetime_format}")
        if c.pattern:
            other.append(f"matches {c.pattern}")
        if c.nullable and c.max_null_fraction is not None:
            other.append(f"at most {c.max_null_fraction:.1%} missing")
        constraints = dg.TableColumnConstraints(nullable=c.nullable, unique=c.unique, other=other)
        columns.append(dg.TableColumn(name, c.logical_type.value, constraints=constraints))
    return dg.TableSchema(columns=columns)


def violations_table(violations: Iterable[schemasense.Violation]) -> dg.MetadataValue:
    records = [
        dg.TableRecord(
            {
                "column": v.column,
                "rule": v.rule.value,
                "rows": v.count,
                "examples": ", ".join(str(e) for e in v.examples) or v.detail,
            }
        )
        for v in violations
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("column", "string"),
            dg.TableColumn("rule", "string"),
            dg.TableColumn("rows", "int"),
            dg.TableColumn("examples", "string"),
        ]
    )
    return dg.MetadataValue.table(records, schema=schema)


def drift_table(report: driftguard.DriftReport) -> dg.MetadataValue:
    """Every test of the report: method, effect against threshold, p-values, verdict."""
    records = [
        dg.TableRecord(
            {
                "column": c.column,
                "method": c.method,
                "effect": _number(c.statistic),
                "threshold": c.threshold,
                "test": c.test,
                "p_value": _number(c.p_value),
                "p_adjusted": _number(c.p_adjusted),
                "drifted": c.drifted,
                "note": c.note,
            }
        )
        for c in report.rows()
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("column", "string"),
            dg.TableColumn("method", "string"),
            dg.TableColumn("effect", "float"),
            dg.TableColumn("threshold", "float"),
            dg.TableColumn("test", "string"),
            dg.TableColumn("p_value", "float"),
            dg.TableColumn("p_adjusted", "float"),
            dg.TableColumn("drifted", "bool"),
            dg.TableColumn("note", "string"),
        ]
    )
    return dg.MetadataValue.table(records, schema=schema)


def drift_plots(report: driftguard.DriftReport) -> dg.MetadataValue:
    """One chart per drifted column (reference against batch), as images in markdown."""
    parts = []
    for name, distribution in report.distributions.items():
        svg = base64.b64encode(distribution_svg(distribution).encode()).decode()
        parts.append(f"**{name}**\n\n![{name}](data:image/svg+xml;base64,{svg})")
    return dg.MetadataValue.md("\n\n".join(parts) or "no drifted column")


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def changes_table(diff: schemasense.SchemaDiff) -> dg.MetadataValue:
    records = [
        dg.TableRecord(
            {"column": c.column, "change": c.kind.value, "detail": c.detail, "breaking": c.breaking}
        )
        for c in diff.changes
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("column", "string"),
            dg.TableColumn("change", "string"),
            dg.TableColumn("detail", "string"),
            dg.TableColumn("breaking", "bool"),
        ]
    )
    return dg.MetadataValue.table(records, schema=schema)
