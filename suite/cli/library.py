"""Commands over files, no instance: ``infer``, ``validate``, ``diff``, ``drift``."""

import argparse
import json
from pathlib import Path
from typing import Any

import driftguard
import schemasense
from suite.cli.output import say
from suite.storage.files import read_batch


def register(commands: Any) -> None:
    infer = commands.add_parser("infer", help="learn a contract from one or more batch files")
    infer.add_argument("files", nargs="+", type=Path)
    infer.add_argument("-o", "--output", type=Path, help="write the contract YAML here")
    infer.add_argument("--name", help="the dataset's name (default: the first file's stem)")
    infer.set_defaults(run=_infer)

    validate = commands.add_parser("validate", help="check a batch file against a contract")
    validate.add_argument("file", type=Path)
    validate.add_argument("--contract", type=Path, required=True)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(run=_validate)

    diff = commands.add_parser("diff", help="list what changed between two contract versions")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(run=_diff)

    drift = commands.add_parser("drift", help="measure drift of CURRENT against REFERENCE")
    drift.add_argument("reference", type=Path)
    drift.add_argument("current", type=Path)
    drift.add_argument("--json", action="store_true")
    drift.add_argument("--html", type=Path, help="also write a standalone HTML report here")
    drift.set_defaults(run=_drift)


def _infer(args: argparse.Namespace) -> int:
    frames = [read_batch(path) for path in args.files]
    contract = schemasense.infer(frames, name=args.name or args.files[0].stem)
    text = contract.to_yaml()
    if args.output:
        args.output.write_text(text)
        say(f"wrote {args.output} ({len(contract.columns)} columns)", err=True)
    else:
        say(text, end="")
    return 0


def _validate(args: argparse.Namespace) -> int:
    contract = schemasense.Contract.from_file(args.contract)
    result = contract.validate(read_batch(args.file))
    if args.json:
        say(json.dumps(result.to_dict(), indent=2))
    else:
        say(
            f"{args.file}: {len(result.valid)} valid rows, {len(result.invalid)} invalid "
            f"(contract {contract.name} v{contract.version})"
        )
        if result.violations:
            say(f"  {'column':<20} {'rule':<18} {'rows':>7}  examples")
        for v in result.violations:
            examples = ", ".join(map(str, v.examples)) or v.detail
            say(f"  {v.column:<20} {v.rule.value:<18} {v.count:>7}  {examples}")
    return 0 if result.ok else 1


def _diff(args: argparse.Namespace) -> int:
    old = schemasense.Contract.from_file(args.old)
    new = schemasense.Contract.from_file(args.new)
    changes = schemasense.diff(old, new)
    if args.json:
        say(json.dumps(changes.to_dict(), indent=2))
    else:
        say(
            f"{old.name} v{old.version} → {new.name} v{new.version}: {len(changes.changes)} changes, "
            f"{'breaking' if changes.breaking else 'none breaking'}"
        )
        for change in changes.changes:
            say(f"  {'BREAKING' if change.breaking else 'additive':<9} {change.kind.value:<20} {change}")
    return 1 if changes.breaking else 0


def _drift(args: argparse.Namespace) -> int:
    report = driftguard.detect(read_batch(args.reference), read_batch(args.current))
    say(json.dumps(report.to_dict(), indent=2) if args.json else report.to_markdown())
    if args.html:
        args.html.write_text(report.to_html())
        say(f"wrote {args.html}", err=True)
    return 0
