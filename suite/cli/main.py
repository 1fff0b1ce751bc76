"""The ``dataops`` command line: the loop, the libraries, and a person's controls.

Each command module registers its subcommands (``register``) with the function that runs them.
"""

import argparse
from collections.abc import Sequence

import datareflex
import driftguard
import schemasense
from suite.cli import library, loop, person
from suite.cli.output import say
from suite.config import ConfigError
from suite.storage.files import BatchFileError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dataops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (loop, library, person):
        module.register(commands)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except (
        BatchFileError,
        schemasense.SchemaSenseError,
        driftguard.DriftGuardError,
        datareflex.DataReflexError,
        ConfigError,
        OSError,
    ) as exc:
        say(f"dataops: {exc}", err=True)
        return 2
