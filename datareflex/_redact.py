"""Redaction: secrets never leave the suite in text it writes (ledger, metadata, logs, output).

One function, :func:`redact`, applied where text leaves: the ledger's record writer, the webhook
sender's notes, the Dagster metadata and log helpers and the command line's printer. In every
URL it finds (``scheme://…``) it hides

- a password in the user part: ``postgresql://ana:pw@db/x`` → ``postgresql://ana:***@db/x``;
- the value of token-like query (or fragment) parameters: ``token``, ``key``, ``secret``,
  ``password``, ``sig``, ``signature``, ``access_token``, ``api_key`` and names ending in one of
  them (``client_secret``, ``X-Amz-Signature``), case-insensitively;
- the path of known webhook forms (Slack, Discord, Microsoft Teams, Zapier, IFTTT…), which is
  the secret itself: ``https://hooks.slack.com/services/***``;
- path segments that look like generated tokens (20+ characters mixing upper case, lower case
  and digits, or 32+ hex digits).

Outside URLs it hides ``password=…``-style pairs (a libpq DSN) and ``Bearer`` tokens. It is a
pattern match, so it errs on the side of hiding: a long mixed-case path segment is masked too.
:func:`webhook_shown` is how a webhook is always named: ``scheme://host/***``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

MASK = "***"
SECRET_NAMES = ("token", "key", "secret", "password", "sig", "signature", "access_token", "api_key")
_SECRET_NAME = re.compile(
    r"(?:^|[_\-.])(?:" + "|".join(sorted(SECRET_NAMES, key=len, reverse=True)) + r"|apikey|passwd|pwd)$",
    re.IGNORECASE,
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`|\\]*[^\s'\"<>`|\\.,;:!?)\]]")
_USERINFO = re.compile(r"^(?P<scheme>[^:/]+://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")
_PARAMETER = re.compile(r"(?P<name>[^?&#;=/]+)=(?P<value>[^&#;]*)")
_WEBHOOK_PATHS = (
    ("hooks.slack.com", "/services/"),
    ("hooks.slack.com", "/workflows/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
    ("webhook.office.com", "/webhookb2/"),
    ("hooks.zapier.com", "/hooks/catch/"),
    ("maker.ifttt.com", "/trigger/"),
    ("chat.googleapis.com", "/v1/spaces/"),
)
_TOKEN_SEGMENT = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9_\-]{20,}$|^[0-9a-fA-F]{32,}$")
_TEXT_PAIR = re.compile(
    r"\b(?P<name>password|passwd|pwd|secret|token|access_token|api_key|apikey)(?P<eq>\s*=\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&'\"\]}]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(?P<scheme>Bearer)\s+[A-Za-z0-9._~+/\-]{8,}=*")

Redactable = TypeVar("Redactable")


def redact(value: Redactable) -> Redactable:
    """``value`` with secrets hidden: a text, or the texts inside mappings, lists and tuples
    (keys and values; a mapping comes back as a dict); anything else is returned unchanged.

    >>> redact("ledger at postgresql+psycopg2://ana:s3cret@db.internal/ops")
    'ledger at postgresql+psycopg2://ana:***@db.internal/ops'
    >>> redact("https://alerts.example.com/post?channel=ops&Token=abc123&sig=ff00")
    'https://alerts.example.com/post?channel=ops&Token=***&sig=***'
    >>> redact({"notes": ["webhook https://hooks.slack.com/services/T000/B000/XXXXXXXX failed"]})
    {'notes': ['webhook https://hooks.slack.com/services/*** failed']}
    >>> redact("host=db user=ana password=s3cret dbname=ops")
    'host=db user=ana password=*** dbname=ops'
    >>> redact(42)
    42
    """
    if isinstance(value, str):
        return _redact_text(value)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {redact(k): redact(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple) and type(value) in (list, tuple):  # not a named tuple
        items = [redact(item) for item in value]
        return items if isinstance(value, list) else tuple(items)  # type: ignore[return-value]
    return value


def webhook_shown(url: Any) -> str:
    """How a webhook is named anywhere the suite writes: its scheme and host, the rest hidden.

    >>> webhook_shown("https://hooks.example.com:8443/T0/B0/secret?x=1")
    'https://hooks.example.com:8443/***'
    """
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if _port(parts) else ""
    return f"{parts.scheme}://{host}{port}/{MASK}"


def _port(parts: Any) -> int | None:
    try:
        return int(parts.port) if parts.port else None
    except ValueError:
        return None


def _redact_text(text: str) -> str:
    if "://" in text:
        text = _URL.sub(lambda match: _redact_url(match.group(0)), text)
    if "=" in text:
        text = _TEXT_PAIR.sub(
            lambda m: m.group(0) if MASK in m.group("value") else f"{m.group('name')}{m.group('eq')}{MASK}",
            text,
        )
    return _BEARER.sub(lambda m: f"{m.group('scheme')} {MASK}", text)


def _redact_url(url: str) -> str:
    url = _USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", url)
    head, _, rest = url.partition("://")
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, remainder = rest[:cut], rest[cut:]
    path, mark, tail = _split_query(remainder)
    host = authority.rpartition("@")[2].split(":")[0].lower()
    known = next((prefix for domain, prefix in _WEBHOOK_PATHS if _within(host, domain)), None)
    if known is not None and path.startswith(known):
        path = known + MASK
    else:
        path = "/".join(MASK if _TOKEN_SEGMENT.match(s) else s for s in path.split("/"))
    if tail:
        tail = _PARAMETER.sub(
            lambda m: f"{m.group('name')}={MASK}" if _SECRET_NAME.search(m.group("name")) else m.group(0),
            tail,
        )
    return f"{head}://{authority}{path}{mark}{tail}"


def _split_query(path: str) -> tuple[str, str, str]:
    """The path, the first ``?`` or ``#``, and what follows it."""
    cut = min((i for i in (path.find("?"), path.find("#")) if i >= 0), default=-1)
    return (path, "", "") if cut < 0 else (path[:cut], path[cut], path[cut + 1 :])


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)
