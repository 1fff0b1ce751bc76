"""Actions that repair or remove rows: quarantine, deduplicate, rename, coerce, clip, impute,
accept a schema change."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer

import schemasense
from schemasense import REASON_COLUMN, Rule

from ._action_types import ActionContext, ActionResult, rows_failing
from ._signals import Signal


def quarantine(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Remove the rows that break the signalled rules, each with every reason it failed."""
    result = context.contract.validate(frame)
    mask = rows_failing(result, signals)
    removed = frame[mask].assign(**{REASON_COLUMN: result.reasons[mask]})
    return ActionResult(
        frame[~mask], context.contract, removed=removed, notes=(f"quarantined {int(mask.sum())} rows",)
    )


def deduplicate(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Keep the first row of each key; remove later repeats."""
    mask = np.zeros(len(frame), dtype=bool)
    reasons = np.full(len(frame), None, dtype=object)
    for column in {s.column for s in signals if s.rule == Rule.UNIQUE.value and s.column in frame}:
        repeats = (frame[column].notna() & frame[column].duplicated(keep="first")).to_numpy()
        reasons[repeats & ~mask] = f"{column}: duplicate of an earlier row"
        mask |= repeats
    removed = frame[mask].assign(**{REASON_COLUMN: reasons[mask]})
    return ActionResult(
        frame[~mask], context.contract, removed=removed, notes=(f"removed {int(mask.sum())} duplicate rows",)
    )


def rename(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Map renamed columns back to their contract names.

    A rename is what SchemaSense's diff calls one: a missing column and an added one whose
    statistics match. Nothing else is renamed.
    """
    evolution = schemasense.evolve(context.contract, frame)
    flagged = {s.column for s in signals}
    renames = {
        c.renamed_to: c.column
        for c in evolution.diff.changes
        if c.kind is schemasense.ChangeKind.COLUMN_RENAMED
        and c.renamed_to
        and {c.column, c.renamed_to} & flagged
    }
    notes = tuple(f"renamed {new} back to {old}" for new, old in renames.items())
    return ActionResult(frame.rename(columns=renames), context.contract, notes=notes)


def coerce(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Convert signalled columns to their contract type; rows that cannot convert are removed."""
    out = frame.copy()
    mask = np.zeros(len(frame), dtype=bool)
    reasons = np.full(len(frame), None, dtype=object)
    notes = []
    for name in sorted(
        {s.column for s in signals if s.column in context.contract.columns and s.column in frame}
    ):
        column = context.contract.columns[name]
        converted = schemasense.coerce(out[name], column.logical_type, column.datetime_format)
        failed = converted.failed.to_numpy()
        reasons[failed & ~mask] = f"{name}: cannot be read as {column.logical_type.value}"
        mask |= failed
        out[name] = converted.values
        notes.append(f"{name}: {frame[name].dtype} → {column.logical_type.value}")
    kept = context.contract.coerce(out[~mask])
    removed = frame[mask].assign(**{REASON_COLUMN: reasons[mask]})
    return ActionResult(kept, context.contract, removed=removed, notes=tuple(notes))


def clip(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Bring out-of-range numbers of signalled columns back to the contract's bounds."""
    out = frame.copy()
    notes = []
    for name in sorted({s.column for s in signals if s.rule in (Rule.MINIMUM.value, Rule.MAXIMUM.value)}):
        column = context.contract.columns.get(name)
        if column is None or name not in out or not column.logical_type.is_numeric:
            continue
        values = pd.to_numeric(out[name], errors="coerce")
        clipped = values.clip(lower=column.minimum, upper=column.maximum)
        changed = int((values.notna() & (clipped != values)).sum())
        out[name] = clipped.astype(values.dtype) if column.logical_type.value == "float" else clipped
        notes.append(f"{name}: clipped {changed} values to [{column.minimum}, {column.maximum}]")
    return ActionResult(out, context.contract, notes=tuple(notes))


def impute(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Fill missing values of signalled columns with scikit-learn imputers.

    Imputers are fitted on the reference rows when the context has them (known-good data), else
    on the batch's own present values. ``strategy`` (a param) is a ``SimpleImputer`` strategy
    (default ``median`` for numbers, ``most_frequent`` otherwise) or ``iterative``: an
    ``IterativeImputer`` over the numeric columns, for columns that move together.
    """
    columns = sorted({s.column for s in signals if s.column in frame and frame[s.column].isna().any()})
    if not columns:
        return ActionResult(frame, context.contract)
    source = context.reference if context.reference is not None else frame
    if context.params.get("strategy") == "iterative":
        return _impute_iteratively(frame, columns, source, context)
    out = frame.copy()
    notes = []
    for name in columns:
        missing = out[name].isna()
        numeric = pd.api.types.is_numeric_dtype(out[name].dtype)
        strategy = context.params.get("strategy", "median" if numeric else "most_frequent")
        imputer = SimpleImputer(strategy=strategy, fill_value=context.params.get("fill_value"))
        kind = float if numeric else object
        known = source[[name]].astype(kind).dropna() if name in source else out[[name]].astype(kind).dropna()
        if known.empty:
            continue
        imputer.fit(known)
        values = out[[name]].astype(kind)
        out[name] = imputer.transform(values)[:, 0].astype(values[name].dtype)
        notes.append(
            f"{name}: filled {int(missing.sum())} missing with {strategy} ({imputer.statistics_[0]})"
        )
    return ActionResult(out, context.contract, notes=tuple(notes))


def _impute_iteratively(
    frame: pd.DataFrame, columns: list[str], source: pd.DataFrame, context: ActionContext
) -> ActionResult:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes the class importable)
    from sklearn.impute import IterativeImputer

    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype) and c in source]
    targets = [c for c in columns if c in numeric]
    if not targets:
        return ActionResult(frame, context.contract, notes=("iterative imputation needs numeric columns",))
    imputer = IterativeImputer(random_state=0, max_iter=10).fit(source[numeric].astype(float))
    out = frame.copy()
    filled = pd.DataFrame(imputer.transform(out[numeric].astype(float)), columns=numeric, index=out.index)
    notes = []
    for name in targets:
        missing = out[name].isna()
        out[name] = out[name].astype(float).where(~missing, filled[name])
        notes.append(
            f"{name}: filled {int(missing.sum())} missing from {', '.join(c for c in numeric if c != name)}"
        )
    return ActionResult(out, context.contract, notes=tuple(notes))


def accept_schema_change(
    frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext
) -> ActionResult:
    """Apply SchemaSense's evolution policy: added columns join a new contract version.

    Breaking changes (removed, renamed, retyped columns) are not accepted here; they stay
    signalled for another action or a person. ``accept_additive: false`` (a param) accepts
    nothing, so added columns wait for a person too.
    """
    policy = schemasense.EvolutionPolicy(accept_additive=bool(context.params.get("accept_additive", True)))
    evolution = schemasense.evolve(context.contract, frame, policy)
    notes = tuple(f"accepted {c}" for c in evolution.accepted)
    notes += tuple(f"not accepted (breaking): {c}" for c in evolution.pending)
    return ActionResult(frame, evolution.contract, notes=notes)
