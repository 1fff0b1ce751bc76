"""Metadata a person reads in the Dagster UI: schemas, violation tables, drift tables.

Metadata made of notes, reasons and ledger records passes through :func:`redacted`, so a secret
(a webhook's token, a database password) never reaches the event log."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

import datareflex
import driftguard
import schemasense


def latest_record(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> Any:
    """The newest materialization record of ``key`` for ``partition``, or ``None``."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    )
    return result.records[0] if result.records else None


def latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> Mapping[str, Any]:
    """The metadata of that materialization (empty when there is none)."""
    record = latest_record(instance, key, partition)
    event = record.asset_materialization if record is not None else None
    return event.metadata if event is not None else {}


def redacted(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` with every text in it passed through :func:`datareflex.redact`: plain
    strings, markdown, text, JSON and table values (other kinds carry no free text).

    >>> redacted({"notes": dg.MetadataValue.md("- webhook https://h.example/T0/B0/XXXX?token=t")})["notes"].md_str
    '- webhook https://h.example/T0/B0/XXXX?token=***'
    """
    return {key: _redacted_value(value) for key, value in metadata.items()}


def _redacted_value(value: Any) -> Any:
    redact = datareflex.redact
    if isinstance(value, str | dict | list):
        return redact(value)
    if isinstance(value, dg.MarkdownMetadataValue):
        return dg.MetadataValue.md(redact(value.md_str or ""))
    if isinstance(value, dg.TextMetadataValue):
        return dg.MetadataValue.text(redact(value.text or ""))
    if isinstance(value, dg.JsonMetadataValue):
        return dg.MetadataValue.json(redact(value.data or {}))
    if isinstance(value, dg.TableMetadataValue):
        records = [dg.TableRecord(redact(dict(record.data))) for record in value.records]
        return dg.MetadataValue.table(records, schema=value.schema)
    return value


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
    return _table(
        {"column": "string", "rule": "string", "rows": "int", "examples": "string"},
        (
            (v.column, v.rule.value, v.count, ", ".join(str(e) for e in v.examples) or v.detail)
            for v in violations
        ),
    )


def drift_table(report: driftguard.DriftReport) -> dg.MetadataValue:
    """Every test of the report: method, effect against threshold, p-values, verdict."""
    return _table(
        {
            "column": "string",
            "method": "string",
            "effect": "float",
            "threshold": "float",
            "test": "string",
            "p_value": "float",
            "p_adjusted": "float",
            "drifted": "bool",
            "note": "string",
        },
        (
            (
                c.column,
                c.method,
                _number(c.statistic),
                c.threshold,
                c.test,
                _number(c.p_value),
                _number(c.p_adjusted),
                c.drifted,
                c.note,
            )
            for c in report.rows()
        ),
    )


def changes_table(diff: schemasense.SchemaDiff) -> dg.MetadataValue:
    return _table(
        {"column": "string", "change": "string", "detail": "string", "breaking": "bool"},
        ((c.column, c.kind.value, c.detail, c.breaking) for c in diff.changes),
    )


def approvals_table(approvals: Iterable[datareflex.Approval]) -> dg.MetadataValue:
    """Approval requests, newest first: what, on which batch, and the answer so far."""
    return _table(
        {
            "id": "int",
            "action": "string",
            "batch": "string",
            "targets": "string",
            "status": "string",
            "requested_at": "string",
            "decided_by": "string",
        },
        (
            (a.id, a.action, a.batch, ", ".join(a.targets), a.status, a.requested_at[:19], a.by or "")
            for a in sorted(approvals, key=lambda a: -a.id)
        ),
    )


def _table(columns: dict[str, str], rows: Iterable[tuple[Any, ...]]) -> dg.MetadataValue:
    """A Dagster table from column names with their types and one tuple per row."""
    records = [dg.TableRecord(dict(zip(columns, row, strict=True))) for row in rows]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.items()])
    return dg.MetadataValue.table(records, schema=schema)


def drift_plots(report: driftguard.DriftReport) -> dg.MetadataValue:
    """One chart per drifted column (reference against batch), as images in markdown."""
    parts = []
    for name, distribution in report.distributions.items():
        svg = base64.b64encode(driftguard.distribution_svg(distribution).encode()).decode()
        parts.append(f"**{name}**\n\n![{name}](data:image/svg+xml;base64,{svg})")
    return dg.MetadataValue.md("\n\n".join(parts) or "no drifted column")


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)
