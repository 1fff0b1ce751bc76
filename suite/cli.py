"""The ``dataops`` command line: demo, infer, validate, drift."""

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import datareflex
import driftguard
import schemasense

from .config import ConfigError
from .files import BatchFileError, read_batch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dataops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the closed loop on the sample orders stream")
    demo.add_argument("--json", action="store_true", help="print the rows as JSON")

    run = commands.add_parser(
        "run", help="process every landed file of the datasets in suite.yaml in process, as the daemon would"
    )
    run.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    run.add_argument("--json", action="store_true", help="print the rows as JSON, with each batch's signals")

    commands.add_parser("init", help="create the local Dagster home and landing folder; print where")

    infer = commands.add_parser("infer", help="learn a contract from one or more batch files")
    infer.add_argument("files", nargs="+", type=Path)
    infer.add_argument("-o", "--output", type=Path, help="write the contract YAML here")
    infer.add_argument("--name", help="the dataset's name (default: the first file's stem)")

    validate = commands.add_parser("validate", help="check a batch file against a contract")
    validate.add_argument("file", type=Path)
    validate.add_argument("--contract", type=Path, required=True)
    validate.add_argument("--json", action="store_true")

    diff = commands.add_parser("diff", help="list what changed between two contract versions")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--json", action="store_true")

    for verb, text in (("approve", "grant"), ("reject", "refuse")):
        decide = commands.add_parser(
            verb, help=f"{text} a pending approval request (see `dataops approvals`)"
        )
        decide.add_argument("id", type=int)
        decide.add_argument("--by", default="", help="who decided (recorded in the ledger)")
        decide.add_argument("--url", help="the ledger's database URL (default: the local instance's)")
    approvals = commands.add_parser("approvals", help="list approval requests and their status")
    approvals.add_argument("--url", help="the ledger's database URL (default: the local instance's)")

    backtest = commands.add_parser("backtest", help="replay batch files through a policy; write nothing")
    backtest.add_argument("--policy", type=Path, required=True)
    backtest.add_argument("--batches", type=Path, required=True, help="a folder of CSV or Parquet batches")
    backtest.add_argument("--training", type=int, default=3, help="first batches that define the contract")
    backtest.add_argument(
        "--every-hours", type=float, default=24.0, help="time between batches, for cooldowns and the breaker"
    )
    backtest.add_argument("--json", action="store_true")

    ledger = commands.add_parser("ledger", help="print the ledger: signal → decision → action → outcome")
    ledger.add_argument("--batch", help="only this batch")
    ledger.add_argument("--dataset", help="only this dataset")
    ledger.add_argument("--url", help="the ledger's database URL (default: the local instance's)")
    ledger.add_argument("--json", action="store_true")

    drift = commands.add_parser("drift", help="measure drift of CURRENT against REFERENCE")
    drift.add_argument("reference", type=Path)
    drift.add_argument("current", type=Path)
    drift.add_argument("--json", action="store_true")
    drift.add_argument("--html", type=Path, help="also write a standalone HTML report here")

    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (
        BatchFileError,
        schemasense.SchemaSenseError,
        driftguard.DriftGuardError,
        datareflex.DataReflexError,
        ConfigError,
        OSError,
    ) as exc:
        print(f"dataops: {exc}", file=sys.stderr)
        return 2


def _demo(args: argparse.Namespace) -> int:
    from .demo import demo_settings, format_table, run_demo, to_json

    rows = run_demo(demo_settings())
    print(to_json(rows) if args.json else format_table(rows))
    return 0


def _run(args: argparse.Namespace) -> int:
    from .demo import format_table, run_datasets, to_json
    from .settings import Settings, config_path

    settings = Settings.from_env()
    if args.dataset:
        try:
            settings = settings.only(args.dataset)
        except ValueError as exc:
            raise ConfigError(f"{config_path()}: {exc}") from None
    rows = run_datasets(settings)
    if args.json:
        print(to_json(rows))
    else:
        print(format_table([{k: v for k, v in row.items() if k != "signals"} for row in rows]))
    return 0


def _init(args: argparse.Namespace) -> int:
    from .demo import open_instance
    from .settings import Settings

    settings = Settings.from_env()
    open_instance(settings.dagster_home)
    for dataset in settings.datasets:
        dataset.landing.mkdir(parents=True, exist_ok=True)
        print(f"{dataset.name}: landing folder {dataset.landing}")
    print(f"DAGSTER_HOME={settings.dagster_home}")
    return 0


def _infer(args: argparse.Namespace) -> int:
    frames = [read_batch(path) for path in args.files]
    contract = schemasense.infer(frames, name=args.name or args.files[0].stem)
    text = contract.to_yaml()
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output} ({len(contract.columns)} columns)", file=sys.stderr)
    else:
        print(text, end="")
    return 0


def _validate(args: argparse.Namespace) -> int:
    contract = schemasense.Contract.from_file(args.contract)
    result = contract.validate(read_batch(args.file))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(
            f"{args.file}: {len(result.valid)} valid rows, {len(result.invalid)} invalid "
            f"(contract {contract.name} v{contract.version})"
        )
        if result.violations:
            print(f"  {'column':<20} {'rule':<18} {'rows':>7}  examples")
        for v in result.violations:
            examples = ", ".join(map(str, v.examples)) or v.detail
            print(f"  {v.column:<20} {v.rule.value:<18} {v.count:>7}  {examples}")
    return 0 if result.ok else 1


def _diff(args: argparse.Namespace) -> int:
    old = schemasense.Contract.from_file(args.old)
    new = schemasense.Contract.from_file(args.new)
    changes = schemasense.diff(old, new)
    if args.json:
        print(json.dumps(changes.to_dict(), indent=2))
    else:
        print(
            f"{old.name} v{old.version} → {new.name} v{new.version}: {len(changes.changes)} changes, "
            f"{'breaking' if changes.breaking else 'none breaking'}"
        )
        for change in changes.changes:
            print(f"  {'BREAKING' if change.breaking else 'additive':<9} {change.kind.value:<20} {change}")
    return 1 if changes.breaking else 0


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest
    from .demo import format_table, to_json

    rows = backtest(
        datareflex.Policy.from_file(args.policy),
        args.batches,
        training=args.training,
        every=dt.timedelta(hours=args.every_hours),
    )
    print(to_json(rows) if args.json else format_table(rows))
    return 0


def _open_ledger(args: argparse.Namespace) -> datareflex.Ledger:
    from .settings import Settings
    from .storage import BatchStorage

    return datareflex.Ledger(args.url) if args.url else BatchStorage(Settings.from_env().storage).ledger()


def _approvals(args: argparse.Namespace) -> int:
    for a in _open_ledger(args).approvals():
        print(
            f"{a.id:>6}  {a.status:<9} {a.dataset:<12} {a.action:<18} {', '.join(a.targets):<24} "
            f"asked {a.requested_at[:19]}"
            + (f", {a.status} {a.decided_at[:19]} by {a.by or '?'}" if a.decided_at else "")
        )
    return 0


def _decide(args: argparse.Namespace) -> int:
    try:
        approval = _open_ledger(args).decide(args.id, granted=args.command == "approve", by=args.by)
    except ValueError as exc:
        print(f"dataops: {exc}", file=sys.stderr)
        return 2
    print(f"approval {approval.id} ({approval.action} on {', '.join(approval.targets)}): {approval.status}")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    records = _open_ledger(args).records(dataset=args.dataset, batch=args.batch)
    if args.json:
        print(json.dumps([r.__dict__ for r in records], indent=2, default=str))
        return 0
    for r in records:
        print(
            f"{r.id:>6}  {r.recorded_at[:19]}  {r.batch:<28} {r.step:<9} {r.kind:<20} "
            f"v{r.contract_version or '-'}  {r.describe()}"
        )
    return 0


def _drift(args: argparse.Namespace) -> int:
    report = driftguard.detect(read_batch(args.reference), read_batch(args.current))
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.to_markdown())
    if args.html:
        args.html.write_text(report.to_html())
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


_COMMANDS = {
    "init": _init,
    "demo": _demo,
    "run": _run,
    "infer": _infer,
    "validate": _validate,
    "diff": _diff,
    "ledger": _ledger,
    "backtest": _backtest,
    "approve": _decide,
    "reject": _decide,
    "approvals": _approvals,
    "drift": _drift,
}
