"""Commands that run the loop: ``demo``, ``run``, ``init``, ``backtest``, ``schema``."""

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import datareflex
from suite.cli.output import say
from suite.config import ConfigError, Settings, config_path


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the closed loop on the sample orders stream")
    demo.add_argument("--json", action="store_true", help="print the rows as JSON")
    demo.set_defaults(run=_demo)

    run = commands.add_parser(
        "run", help="process every landed file of the datasets in suite.yaml in process, as the daemon would"
    )
    run.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    run.add_argument("--json", action="store_true", help="print the rows as JSON, with each batch's signals")
    run.set_defaults(run=_run)

    init = commands.add_parser("init", help="create the local Dagster home and landing folder; print where")
    init.set_defaults(run=_init)

    backtest = commands.add_parser(
        "backtest", help="replay a dataset's batch files through its declaration and policy; write nothing"
    )
    backtest.add_argument("--dataset", help="the dataset of suite.yaml (default: the only one declared)")
    backtest.add_argument("--policy", type=Path, help="a policy to try instead of the declared one")
    backtest.add_argument("--batches", type=Path, help="a folder of batches (default: the landing folder)")
    backtest.add_argument("--training", type=int, help="first batches that define the contract")
    backtest.add_argument(
        "--every-hours", type=float, default=24.0, help="time between batches, for cooldowns and the breaker"
    )
    backtest.add_argument("--json", action="store_true")
    backtest.set_defaults(run=_backtest)

    schema = commands.add_parser("schema", help="print the JSON Schema of suite.yaml or of a policy")
    schema.add_argument("what", choices=["suite", "policy"])
    schema.set_defaults(run=_schema)


def _demo(args: argparse.Namespace) -> int:
    from suite.cli.demo import demo_settings, format_table, run_demo, to_json

    rows = run_demo(demo_settings())
    say(to_json(rows) if args.json else format_table(rows))
    return 0


def _run(args: argparse.Namespace) -> int:
    from suite.cli.demo import format_table, run_datasets, to_json

    rows = run_datasets(_settings(args.dataset))
    say(to_json(rows) if args.json else format_table(_without_signals(rows)))
    return 0


def _without_signals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows for the text table: the signals are in ``--json``."""
    return [{k: v for k, v in row.items() if k != "signals"} for row in rows]


def _settings(names: list[str] | None) -> Settings:
    """The environment's settings, with only the datasets ``names`` when given."""
    settings = Settings.from_env()
    if not names:
        return settings
    try:
        return settings.only(names)
    except ValueError as exc:
        raise ConfigError(f"{config_path()}: {exc}") from None


def _init(args: argparse.Namespace) -> int:
    from suite.cli.demo import open_instance
    from suite.storage.tables import landing_text

    settings = Settings.from_env()
    open_instance(settings.dagster_home)
    for dataset in settings.datasets:
        if dataset.landing is None:
            say(f"{dataset.name}: {landing_text(dataset)}")
            continue
        dataset.landing.mkdir(parents=True, exist_ok=True)
        say(f"{dataset.name}: landing folder {dataset.landing}")
    say(f"DAGSTER_HOME={settings.dagster_home}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from suite.cli.backtest import backtest, declaration_for
    from suite.cli.demo import format_table, to_json

    dataset = declaration_for(
        _settings([args.dataset] if args.dataset else None),
        batches=args.batches,
        policy=args.policy,
        training=args.training,
    )
    rows = backtest(dataset, every=dt.timedelta(hours=args.every_hours))
    say(to_json(rows) if args.json else format_table(_without_signals(rows)))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from suite.config.declaration import SuiteDeclaration

    schema = SuiteDeclaration.model_json_schema() if args.what == "suite" else datareflex.Policy.json_schema()
    say(json.dumps(schema, indent=2))
    return 0
