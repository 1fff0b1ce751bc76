"""``Reflex``: the older face of the loop, for callers that sense the batch themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd

import driftguard
from schemasense import Contract

from ._handling import Handling, as_datetime, wall_clock
from ._ledger import Ledger
from ._loop import respond
from ._outcome import Outcome
from ._policy import Policy
from ._signals import Signal, sense  # noqa: F401  (sense: used in the doctest)


class Reflex:
    """Apply a policy to a batch's signals, then verify the result by validating it again.

    A thin wrapper over the loop of :func:`datareflex.handle_batch` for callers that have the
    signals already; ``clock`` stands in for the event time of batches handled without one.

    >>> import pandas as pd, schemasense
    >>> contract = schemasense.infer(pd.DataFrame({"id": range(40)}), name="t")
    >>> policy = Policy.from_yaml("rules: [{when: {kind: contract_violation}, then: quarantine}]")
    >>> batch = pd.DataFrame({"id": [50, 51, 52, 53, 54, 55, 55]})
    >>> signals = sense(contract.validate(batch))
    >>> outcome = Reflex(policy).handle(batch, signals, contract=contract)
    >>> outcome.decision.value, len(outcome.published), outcome.quarantined["_reason"].tolist()
    ('remediate', 6, ['id: 55 repeats an earlier row'])
    """

    def __init__(
        self, policy: Policy, ledger: Ledger | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.policy = policy
        self.ledger = ledger
        self.clock = clock or wall_clock

    def handle(
        self,
        batch: pd.DataFrame,
        signals: Sequence[Signal],
        *,
        contract: Contract,
        dataset: str = "",
        batch_id: str = "",
        reference: str | None = None,
        reference_rows: pd.DataFrame | None = None,
        reference_profile: driftguard.Profile | None = None,
        event_time: dt.datetime | dt.date | None = None,
    ) -> Outcome:
        """Decide, act and verify for ``batch`` and its ``signals`` (see ``handle_batch``).

        A rule's ``after_batches`` (in ``with``) makes it wait until its signal has been seen in
        that many batches in a row: retrain when drift persists, not on one odd batch.
        """
        now = self.clock()
        handling = Handling(
            self.policy,
            self.ledger,
            dataset or contract.name,
            batch_id,
            as_datetime(event_time) or now,
            now,
            reference,
        )
        return respond(batch, signals, contract, handling, reference_rows, reference_profile)
