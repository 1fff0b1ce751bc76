"""Remediation actions: small callables with one signature, chained like processors.

Each action takes the current frame, the signals routed to it and an :class:`ActionContext`,
and returns an :class:`ActionResult`: the new frame, the rows it removed (quarantined, with a
reason), the rows it set aside for a person (held, with a reason), notes, and the contract it
leaves in force. Running an action twice changes nothing the second time.
"""

from __future__ import annotations

import enum
import json
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer

import schemasense
from schemasense import REASON_COLUMN, Contract, Rule

from ._signals import Signal


class ActionKind(enum.StrEnum):
    """Every action a policy may name, in the order a plan applies them."""

    ACCEPT_SCHEMA_CHANGE = "accept_schema_change"
    RENAME = "rename"
    COERCE = "coerce"
    DEDUPLICATE = "deduplicate"
    CLIP = "clip"
    IMPUTE = "impute"
    QUARANTINE = "quarantine"
    HOLD = "hold"
    ROLLBACK = "rollback"
    CHANGE_CONTRACT = "change_contract"
    ALERT = "alert"
    REFRESH_REFERENCE = "refresh_reference"
    RETRAIN = "retrain"

    @property
    def changes_data(self) -> bool:
        return self not in (ActionKind.ALERT, ActionKind.REFRESH_REFERENCE, ActionKind.RETRAIN)

    @property
    def needs_approval(self) -> bool:
        """Risky actions a person must approve: they could hide real drift or change a model.

        The reflex records the request; whoever runs the pipeline carries the action out once a
        person grants it (in the suite, the approvals sensor) and records that it is done.
        """
        return self in (
            ActionKind.REFRESH_REFERENCE,
            ActionKind.RETRAIN,
            ActionKind.ROLLBACK,
            ActionKind.CHANGE_CONTRACT,
        )


@dataclass(frozen=True)
class ActionContext:
    """What an action may read besides the batch: the contract in force, the rule's params, and
    rows of the reference (known-good data) where the caller has them."""

    contract: Contract
    params: Mapping[str, Any] = field(default_factory=dict)
    reference: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class ActionResult:
    frame: pd.DataFrame
    contract: Contract
    removed: pd.DataFrame | None = None
    held: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


Action = Callable[[pd.DataFrame, Sequence[Signal], ActionContext], ActionResult]


def quarantine(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Remove the rows that break the signalled rules, each with every reason it failed."""
    result = context.contract.validate(frame)
    mask = _rows_failing(result, signals)
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


def hold(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Set rows aside for a person: the whole batch for batch-level signals, else the failing rows."""
    reason = context.params.get("reason") or "; ".join(str(s) for s in signals)
    if any(s.batch_level for s in signals):
        mask = np.ones(len(frame), dtype=bool)
        reasons = np.full(len(frame), f"held: {reason}", dtype=object)
    else:
        result = context.contract.validate(frame)
        mask = _rows_failing(result, signals)
        reasons = np.array([f"held: {r}" for r in result.reasons], dtype=object)
    held = frame[mask].assign(**{REASON_COLUMN: reasons[mask]})
    return ActionResult(frame[~mask], context.contract, held=held, notes=(f"held {int(mask.sum())} rows",))


def rollback(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Publish none of this version: every row is held while a person decides on restoring the
    last good published version of the batch (the caller restores it once granted)."""
    reason = "; ".join(str(s) for s in signals)
    held = frame.assign(**{REASON_COLUMN: f"held: rollback to the last good version requested: {reason}"})
    return ActionResult(
        frame.iloc[0:0], context.contract, held=held, notes=(f"rollback requested; held {len(frame)} rows",)
    )


def change_contract(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Publish none of this version: every row is held while a person decides on a breaking
    contract change (a removed, renamed or retyped column); once granted, the caller evolves the
    contract with ``EvolutionPolicy(accept_breaking=True)`` and handles the batch again."""
    reason = "; ".join(str(s) for s in signals)
    held = frame.assign(**{REASON_COLUMN: f"held: contract change requested: {reason}"})
    return ActionResult(
        frame.iloc[0:0],
        context.contract,
        held=held,
        notes=(f"contract change requested; held {len(frame)} rows",),
    )


def alert(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Change nothing but tell people: the ledger record, and a JSON POST to ``webhook`` (a param).

    A webhook that fails is noted, not raised: the batch's fate does not hang on a chat server.
    """
    notes = [f"alert: {s}" for s in signals]
    url = context.params.get("webhook")
    if url:
        body = json.dumps({"contract": context.contract.name, "signals": [s.to_dict() for s in signals]})
        request = urllib.request.Request(
            str(url), data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=float(context.params.get("timeout", 5))) as reply:
                notes.append(f"webhook {url}: HTTP {reply.status}")
        except (OSError, ValueError) as exc:
            notes.append(f"webhook {url} failed: {exc}")
    return ActionResult(frame, context.contract, notes=tuple(notes))


def refresh_reference(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Change nothing now: a refresh of the drift reference waits for a person's approval."""
    columns = ", ".join(sorted({s.column for s in signals}))
    return ActionResult(frame, context.contract, notes=(f"reference refresh for {columns} awaits approval",))


def retrain(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Change nothing now: retraining the downstream model waits for a person's approval."""
    columns = ", ".join(sorted({s.column for s in signals}))
    return ActionResult(
        frame, context.contract, notes=(f"model retraining for drift in {columns} awaits approval",)
    )


ACTIONS: dict[ActionKind, Action] = {
    ActionKind.ACCEPT_SCHEMA_CHANGE: accept_schema_change,
    ActionKind.RENAME: rename,
    ActionKind.COERCE: coerce,
    ActionKind.DEDUPLICATE: deduplicate,
    ActionKind.CLIP: clip,
    ActionKind.IMPUTE: impute,
    ActionKind.QUARANTINE: quarantine,
    ActionKind.HOLD: hold,
    ActionKind.ROLLBACK: rollback,
    ActionKind.CHANGE_CONTRACT: change_contract,
    ActionKind.ALERT: alert,
    ActionKind.REFRESH_REFERENCE: refresh_reference,
    ActionKind.RETRAIN: retrain,
}


def _rows_failing(result: schemasense.ValidationResult, signals: Sequence[Signal]) -> np.ndarray:
    mask = np.zeros(len(result.reasons), dtype=bool)
    rules = {rule.value: rule for rule in Rule}
    for s in signals:
        if s.rule in rules:
            mask |= result.failing(s.column, rules[s.rule])
    return mask
