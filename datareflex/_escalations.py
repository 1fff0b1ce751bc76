"""Actions that set rows aside or tell people: hold, roll back, change the contract, alert,
refresh the reference, retrain. They repair nothing themselves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from schemasense import REASON_COLUMN

from ._action_types import ActionContext, ActionResult, rows_failing
from ._redact import redact, webhook_shown
from ._signals import Signal


def hold(frame: pd.DataFrame, signals: Sequence[Signal], context: ActionContext) -> ActionResult:
    """Set rows aside for a person: the whole batch for batch-level signals, else the failing rows."""
    reason = redact(str(context.params.get("reason") or "; ".join(str(s) for s in signals)))
    if any(s.batch_level for s in signals):
        mask = np.ones(len(frame), dtype=bool)
        reasons = np.full(len(frame), f"held: {reason}", dtype=object)
    else:
        result = context.contract.validate(frame)
        mask = rows_failing(result, signals)
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
    Only http(s) is posted to (the policy checked the host against ``alerts.allowed_hosts``),
    redirects are not followed, and notes name the webhook as ``scheme://host/***``.
    """
    notes = [f"alert: {s}" for s in signals]
    url = context.params.get("webhook")
    if url:
        body = json.dumps({"contract": context.contract.name, "signals": [s.to_dict() for s in signals]})
        timeout = float(context.params.get("timeout", 5))
        notes.append(f"webhook {webhook_shown(url)}{_post(str(url), body, timeout)}")
    return ActionResult(frame, context.contract, notes=tuple(notes))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere (another host, an internal address): never follow one."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: str, timeout: float) -> str:
    """POST ``body`` as JSON; what happened, for the note (secrets hidden)."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return " refused: a webhook must be an http or https URL"
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout) as reply:
            return f": HTTP {reply.status}"
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            return f" failed: HTTP {exc.code}, a redirect (not followed)"
        return f" failed: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f" failed: {redact(str(exc))}"


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
