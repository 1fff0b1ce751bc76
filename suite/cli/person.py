"""A person's commands: the ledger, approvals, releasing held rows, closing the breaker.

``release`` and ``breaker close`` run the dataset's ``<dataset>_release_job`` and
``<dataset>_breaker_job`` in process against the instance, so the UI shows them as runs and the
ledger, the stored batches and the approvals asset change exactly as when launched from the UI.
"""

import argparse
import json
from typing import Any

import datareflex
from suite.cli.output import say
from suite.config import ConfigError, DatasetConfig, Settings
from suite.storage import BatchStorage


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="print the ledger: signal → decision → action → outcome")
    ledger.add_argument("--batch", help="only this batch")
    ledger.add_argument("--dataset", help="only this dataset")
    ledger.add_argument("--url", help="the ledger's database URL (default: the local instance's)")
    ledger.add_argument("--json", action="store_true")
    ledger.set_defaults(run=_ledger)

    for verb, text in (("approve", "grant"), ("reject", "refuse")):
        decide = commands.add_parser(
            verb, help=f"{text} a pending approval request (see `dataops approvals`)"
        )
        decide.add_argument("id", type=int)
        decide.add_argument("--by", default="", help="who decided (recorded in the ledger)")
        decide.add_argument("--url", help="the ledger's database URL (default: the local instance's)")
        decide.set_defaults(run=_decide)
    approvals = commands.add_parser("approvals", help="list approval requests and their status")
    approvals.add_argument("--url", help="the ledger's database URL (default: the local instance's)")
    approvals.set_defaults(run=_approvals)

    release = commands.add_parser("release", help="publish the rows held for a person of one batch")
    release.add_argument("batch", help="the batch (its file name, the partition key)")
    release.add_argument("--dataset", help="the batch's dataset (default: the one that holds it)")
    release.add_argument("--revalidate", action="store_true", help="quarantine rows the contract rejects")
    release.add_argument("--by", default="cli", help="who released (recorded in the ledger)")
    release.set_defaults(run=_release)

    breaker = commands.add_parser("breaker", help="the circuit breaker of a dataset")
    breaker.add_argument("action", choices=["close"])
    breaker.add_argument("dataset")
    breaker.add_argument("--by", default="cli", help="who closed it (recorded in the ledger)")
    breaker.set_defaults(run=_breaker)


def _open_ledger(args: argparse.Namespace) -> datareflex.Ledger:
    return datareflex.Ledger(args.url) if args.url else BatchStorage(Settings.from_env().storage).ledger()


def _approvals(args: argparse.Namespace) -> int:
    for a in _open_ledger(args).approvals():
        say(
            f"{a.id:>6}  {a.status:<9} {a.dataset:<12} {a.action:<18} {', '.join(a.targets):<24} "
            f"asked {a.requested_at[:19]}"
            + (f", {a.status} {a.decided_at[:19]} by {a.by or '?'}" if a.decided_at else "")
        )
    return 0


def _decide(args: argparse.Namespace) -> int:
    try:
        approval = _open_ledger(args).decide(args.id, granted=args.command == "approve", by=args.by)
    except ValueError as exc:
        say(f"dataops: {exc}", err=True)
        return 2
    say(f"approval {approval.id} ({approval.action} on {', '.join(approval.targets)}): {approval.status}")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    records = _open_ledger(args).records(dataset=args.dataset, batch=args.batch)
    if args.json:
        say(json.dumps([r.__dict__ for r in records], indent=2, default=str))
        return 0
    for r in records:
        say(
            f"{r.id:>6}  {r.recorded_at[:19]}  {r.batch:<28} {r.step:<9} {r.kind:<20} "
            f"v{r.contract_version or '-'}  {r.describe()}"
        )
    return 0


def _release(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    dataset = _holding(settings, args.batch, args.dataset)
    config = {"batch": args.batch, "revalidate": args.revalidate, "by": args.by}
    return _launch(settings, dataset, "release", config)


def _breaker(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    dataset = _named(settings, args.dataset)
    return _launch(settings, dataset, "breaker", {"by": args.by}, op="close_breaker")


def _launch(
    settings: Settings, dataset: DatasetConfig, job: str, config: dict[str, Any], op: str | None = None
) -> int:
    """Run ``<dataset>_<job>_job`` in process; print its last message or its failure."""
    from suite.build import build_definitions
    from suite.cli.demo import open_instance

    defs = build_definitions(settings.only([dataset.name]))
    instance = open_instance(settings.dagster_home)
    result = defs.resolve_job_def(f"{dataset.name}_{job}_job").execute_in_process(
        instance=instance,
        run_config={"ops": {f"{dataset.name}_{op or job}": {"config": config}}},
        raise_on_error=False,
    )
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        error = failure.step_failure_data.error if failure and failure.step_failure_data else None
        say(f"dataops: {error.message.strip() if error else 'the run failed'}", err=True)
        return 1
    logs = instance.all_logs(result.run_id)
    said = [e.user_message for e in logs if e.dagster_event is None and e.step_key and e.user_message]
    say(said[-1] if said else f"{dataset.name}: done")
    return 0


def _named(settings: Settings, name: str) -> DatasetConfig:
    for dataset in settings.datasets:
        if dataset.name == name:
            return dataset
    raise ConfigError(f"no dataset {name!r} is declared; declared: {[d.name for d in settings.datasets]}")


def _holding(settings: Settings, batch: str, name: str | None) -> DatasetConfig:
    """The dataset named, or the one whose stored held rows include ``batch``."""
    if name:
        return _named(settings, name)
    files = BatchStorage(settings.storage)
    holding = [d for d in settings.datasets if files.exists([d.name, "held_batch"], batch)]
    if len(holding) != 1:
        found = "no dataset holds" if not holding else "several datasets hold"
        raise ConfigError(f"{found} rows of batch {batch!r}; name it with --dataset")
    return holding[0]
