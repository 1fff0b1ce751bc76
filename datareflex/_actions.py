"""Remediation actions: small callables with one signature, chained like processors.

Each action takes the current frame, the signals routed to it and an :class:`ActionContext`,
and returns an :class:`ActionResult`: the new frame, the rows it removed (quarantined, with a
reason), the rows it set aside for a person (held, with a reason), notes, and the contract it
leaves in force. Running an action twice changes nothing the second time. Repairs live in
``_repairs``, holds and escalations in ``_escalations``; :data:`ACTIONS` maps each kind to one.
"""

from __future__ import annotations

from ._action_types import Action, ActionContext, ActionKind, ActionResult
from ._escalations import alert, change_contract, hold, refresh_reference, retrain, rollback
from ._repairs import accept_schema_change, clip, coerce, deduplicate, impute, quarantine, rename

__all__ = ["ACTIONS", "Action", "ActionContext", "ActionKind", "ActionResult"]

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
