"""The secrets test of ``tests/test_security.py`` with the ledger on PostgreSQL, through a URL
that carries a password (``postgresql+psycopg2://dataops:PASSWORD@…``; the throwaway server trusts
the loopback, so any password connects)."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support.servers import Postgres
from tests.test_security import (  # noqa: F401 (fixtures and the test, run here on PostgreSQL)
    LEDGER_PASSWORD,
    contract,
    hook,
    secret_suite,
    test_no_secret_given_to_the_suite_appears_in_anything_it_writes,
)


@pytest.fixture
def ledger_url(postgres: Postgres) -> Iterator[str]:
    """A database of its own on the session's server (other live tests keep their ledger in
    ``dataops``), named by a URL with a password."""
    admin = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS security_ledger"))
        connection.execute(sa.text("CREATE DATABASE security_ledger"))
    url = postgres.url.replace("dataops@", f"dataops:{LEDGER_PASSWORD}@").rsplit("/", 1)[0]
    yield f"{url}/security_ledger"
    admin.dispose()
