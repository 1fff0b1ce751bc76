"""DataReflex: policy-driven remediation with verification and a ledger.

One function runs the loop for a batch: :func:`handle_batch` senses (validation, drift, metric
anomalies become row- or batch-scope signals), decides (the policy, then a chain of guardrails:
breaker, cooldown, ``after_batches``, ask-once approvals, the removal budget), acts and verifies,
writing every step to the :class:`Ledger` in the batch's event time. :func:`reject` records a
batch refused whole (its file unreadable). :func:`release` and :func:`close_breaker` are a
person's way out. Policies are pydantic models read from YAML with :func:`load_yaml_model`,
whose errors name the file, line and key; a webhook posts only over
http(s) to the policy's ``alerts.allowed_hosts``. :func:`redact` hides secrets (a URL's password
or token) in any text the suite writes; the ledger applies it to every record.

>>> import pandas as pd, schemasense, datareflex
>>> contract = schemasense.infer(pd.DataFrame({"qty": [1, 2, 3] * 10}), name="orders")
>>> policy = datareflex.Policy.from_yaml('''
... rules:
...   - when: {kind: contract_violation}
...     then: quarantine
... ''')
>>> batch = pd.DataFrame({"qty": [2, 3, 1, 2, 3, 1, 2, 3, 1, -1]})
>>> outcome = datareflex.handle_batch(batch, contract=contract, policy=policy, batch_id="day-1")
>>> len(outcome.published), len(outcome.quarantined), outcome.verified
(9, 1, True)
"""

from ._actions import ACTIONS, Action, ActionContext, ActionKind, ActionResult
from ._alerts import Alerts
from ._approvals import Approval, Record, approvals_of
from ._breaker import BreakerState, breaker_records, breaker_state
from ._guardrails import Guardrail, Proposal, Situation, Step, cooling
from ._ledger import Ledger
from ._loop import handle_batch
from ._outcome import Decision, Outcome, PartsOutcome
from ._parts import PartPlan, PartSink, handle_in_parts
from ._policy import Guardrails, Plan, Policy, PolicyRule, When
from ._redact import redact
from ._reflex import Reflex
from ._reject import reject
from ._release import close_breaker, release
from ._signals import Scope, Severity, Signal, SignalKind, schema_changes, sense, sense_totals
from ._tally import PartsTally
from ._verify import Verification, verify
from ._yaml import load_yaml_model, yaml_line
from .errors import ConfigError, DataReflexError, PolicyError

__all__ = [
    "ACTIONS",
    "Action",
    "ActionContext",
    "ActionKind",
    "ActionResult",
    "Alerts",
    "Approval",
    "BreakerState",
    "ConfigError",
    "DataReflexError",
    "Decision",
    "Guardrail",
    "Guardrails",
    "Ledger",
    "Outcome",
    "PartPlan",
    "PartSink",
    "PartsOutcome",
    "PartsTally",
    "Plan",
    "Policy",
    "PolicyError",
    "PolicyRule",
    "Proposal",
    "Record",
    "Reflex",
    "Scope",
    "Severity",
    "Signal",
    "SignalKind",
    "Situation",
    "Step",
    "Verification",
    "When",
    "approvals_of",
    "breaker_records",
    "breaker_state",
    "close_breaker",
    "cooling",
    "handle_batch",
    "handle_in_parts",
    "load_yaml_model",
    "redact",
    "reject",
    "release",
    "schema_changes",
    "sense",
    "sense_totals",
    "verify",
    "yaml_line",
]
