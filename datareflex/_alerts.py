"""Where alerts may go: a policy's ``alerts`` section, checked when the policy is read.

A webhook is posted to only over http(s) and only when its host is listed::

    rules:
      - when: {kind: drift}
        then: alert
        with: {webhook: "https://hooks.slack.com/services/T0/B0/XXXX"}
    alerts:
      allowed_hosts: [hooks.slack.com]

With no ``allowed_hosts``, no webhook is allowed: an ``alert`` still writes its ledger record,
and a policy naming a webhook fails to load, naming the line of the webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pydantic
from pydantic import ConfigDict, Field

from ._redact import webhook_shown
from ._yaml import KeyedValueError


class Alerts(pydantic.BaseModel):
    """Where alerts may be sent.

    >>> Alerts(allowed_hosts=["hooks.slack.com"]).allowed_hosts
    ('hooks.slack.com',)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Host names (or addresses) a rule's webhook may post to, over http or https "
        "only; a webhook whose host is not listed is an error when the policy is read.",
    )


def webhook_problem(url: Any, allowed_hosts: Sequence[str]) -> str | None:
    """Why ``url`` may not be posted to (``None`` if it may): only http(s), only to a host of
    ``allowed_hosts`` (names or addresses, case-insensitive; an empty list allows none).

    >>> webhook_problem("https://hooks.slack.com/services/T0/B0/x", ["hooks.slack.com"]) is None
    True
    >>> webhook_problem("file:///etc/passwd", ["hooks.slack.com"])
    'file:///*** is not allowed: a webhook must be an http or https URL'
    >>> print(webhook_problem("http://169.254.169.254/latest", ["hooks.slack.com"]))
    http://169.254.169.254/*** is not allowed: its host is not in alerts.allowed_hosts ['hooks.slack.com']
    """
    parts = urlsplit(str(url))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{webhook_shown(url)} is not allowed: a webhook must be an http or https URL"
    host = parts.hostname.lower().rstrip(".")
    if host not in {h.lower().strip("[]").rstrip(".") for h in allowed_hosts}:
        listed = list(allowed_hosts)
        return f"{webhook_shown(url)} is not allowed: its host is not in alerts.allowed_hosts {listed}"
    return None


def check_webhooks(rules: Sequence[Any], alerts: Alerts) -> None:
    """Raise :class:`KeyedValueError` at the first rule whose ``webhook`` may not be posted to."""
    for index, rule in enumerate(rules):
        url = rule.params.get("webhook")
        problem = None if url is None else webhook_problem(url, alerts.allowed_hosts)
        if problem is not None:
            raise KeyedValueError(("rules", index, "with", "webhook"), problem)
