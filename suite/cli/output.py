"""What ``dataops`` prints: every text through :func:`datareflex.redact`, so no command shows a
secret it was given or read (a ledger URL's password, a webhook's token)."""

import sys

import datareflex


def say(text: object = "", *, err: bool = False, end: str = "\n") -> None:
    """Print ``text`` (to standard error with ``err``), secrets hidden.

    >>> say("ledger postgresql://ana:s3cret@db/ops")
    ledger postgresql://ana:***@db/ops
    """
    print(datareflex.redact(str(text)), end=end, file=sys.stderr if err else sys.stdout)
