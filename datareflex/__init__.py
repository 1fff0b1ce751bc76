"""DataReflex: policy-driven remediation with verification and a ledger.

>>> import pandas as pd, schemasense, datareflex
>>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="orders")
>>> policy = datareflex.Policy.from_yaml('''
... rules:
...   - when: {kind: contract_violation}
...     then: quarantine
... ''')
>>> batch = pd.DataFrame({"qty": [2, 3, 1, 2, 3, 1, 2, 3, 1, -1]})
>>> outcome = datareflex.Reflex(policy).handle(batch, datareflex.sense(contract.validate(batch)),
...                                            contract=contract)
>>> len(outcome.published), len(outcome.quarantined), outcome.verified
(9, 1, True)
"""

from ._actions import ACTIONS, Action, ActionContext, ActionKind, ActionResult
from ._guardrails import BreakerState, breaker_state, cooling
from ._ledger import Approval, Ledger, Record, approvals_of
from ._policy import Plan, Policy, PolicyRule
from ._reflex import Decision, Outcome, Reflex
from ._signals import Severity, Signal, SignalKind, schema_changes, sense
from .errors import DataReflexError, PolicyError

__all__ = [
    "ACTIONS",
    "Action",
    "ActionContext",
    "ActionKind",
    "ActionResult",
    "Approval",
    "BreakerState",
    "DataReflexError",
    "Decision",
    "Ledger",
    "Outcome",
    "Plan",
    "Policy",
    "PolicyError",
    "PolicyRule",
    "Record",
    "Reflex",
    "Severity",
    "Signal",
    "SignalKind",
    "approvals_of",
    "breaker_state",
    "cooling",
    "schema_changes",
    "sense",
]
